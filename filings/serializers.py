"""A filing in JSON, exactly the SPEC §10 [contract] shape.

``filing_as_json`` renders the working copy (what was submitted, or approved): the review
console, provider imports, certificates and the version history use it. The owner's API
shows ``filing_owner_json``, the same shape with any saved-but-unsubmitted changes in place
of the working copy's sponsor and websites. One builder, ``filing_rows_as_json``, makes the
JSON from rows already read: ``filing_as_json`` for one filing, ``prefetched_filing_json``
for a page of filings read with ``filing_json_related``, and the provider import from the
rows it wrote. A filing's open application (SPEC §12) is its ``application``.
"""

from __future__ import annotations

import copy
from typing import Any

from django.db.models import Prefetch, QuerySet
from rest_framework.fields import DateTimeField

from .identities import with_identities
from .models import (
    Access,
    Application,
    Conflict,
    Domain,
    Filing,
    FilingDraft,
    Identifier,
    PreApproval,
    Website,
)
from .reasons import reason_in_language
from .validation import OTHER, empty_data, website_accesses


def filing_json_related(filings: QuerySet[Filing]) -> QuerySet[Filing]:
    """``filings`` with every row the SPEC §10 JSON reads, fetched in a fixed number of
    queries however many filings there are: each filing's websites (``ordered_websites``, by
    position) with their domains (by position), pre-approvals and accesses (by position), its
    apps and mini-programs (``ordered_other_services``, by position) with their identifiers,
    pre-approvals and accesses, and its open conflicts
    (``open_conflicts``, by id), and its open application (``open_applications``, a list of
    at most one). ``prefetched_filing_json`` reads a filing of it."""
    return filings.prefetch_related(
        Prefetch(
            "websites",
            queryset=Website.objects.order_by("position", "id").prefetch_related(
                Prefetch("domains", queryset=Domain.objects.order_by("position", "id")),
                Prefetch("preapprovals", queryset=PreApproval.objects.order_by("id")),
                Prefetch("accesses", queryset=Access.objects.order_by("position", "id")),
            ),
            to_attr="ordered_websites",
        ),
        Prefetch(
            "websites",
            queryset=Website.every_kind.filter(kind__in=OTHER_KINDS)
            .order_by("position", "id")
            .prefetch_related(
                Prefetch("identifiers", queryset=Identifier.objects.order_by("position", "id")),
                Prefetch("preapprovals", queryset=PreApproval.objects.order_by("id")),
                Prefetch("accesses", queryset=Access.objects.order_by("position", "id")),
            ),
            to_attr="ordered_other_services",
        ),
        Prefetch(
            "conflicts",
            queryset=Conflict.objects.filter(
                resolved_at__isnull=True, kind=Conflict.Kind.CONFLICT
            ).order_by("id"),
            to_attr="open_conflicts",
        ),
        Prefetch(
            "applications",
            queryset=Application.objects.filter(closed_at__isnull=True),
            to_attr="open_applications",
        ),
    )


# The services that are not websites (SPEC §13).
OTHER_KINDS = (Website.Kind.APP, Website.Kind.MINI_PROGRAM)


def _order_preapprovals(preapprovals: list[PreApproval]) -> list[PreApproval]:
    order = {c: i for i, c in enumerate(Website.PREAPPROVAL_SERVICES)}
    return sorted(preapprovals, key=lambda p: order.get(p.category, 99))


def access_as_json(access: Access) -> dict[str, Any]:
    """One access in the SPEC §12 shape: ``provider`` (id or ``"other"``), ``method``,
    ``server_location`` (a province code or ``"other"``), ``ips``."""
    return {
        "provider": OTHER if access.provider_id is None else access.provider_id,
        "method": access.method,
        "server_location": access.server_location,
        "ips": list(access.ips or []),
    }


def website_as_json(
    website: Website,
    *,
    domains: list[Domain] | None = None,
    preapprovals: list[PreApproval] | None = None,
    accesses: list[Access] | None = None,
) -> dict[str, Any]:
    """One website (SPEC §10, §12): its ``id``, its fields, its ``accesses`` (in order) and the
    shorthand keys ``ips``, ``server_location`` and ``access_provider`` showing the first
    access (empty for an empty shell). ``domains`` (in order), ``preapprovals`` and
    ``accesses`` (in order), when the caller holds them, save reading them again."""
    if domains is None:
        domains = list(website.domains.all())
    if preapprovals is None:
        preapprovals = list(website.preapprovals.all())
    if accesses is None:
        accesses = list(website.accesses.all())
    shown = [access_as_json(a) for a in accesses]
    first = shown[0] if shown else {}
    return {
        "id": website.pk,
        "name": website.name,
        "number": website.number,
        "homepage": website.homepage,
        "domains": [d.name for d in domains],
        "ips": list(first.get("ips") or []),
        "services": list(website.services or []),
        "commercial": website.commercial,
        "preapprovals": [
            {
                "category": p.category,
                "authority": p.authority,
                "document_number": p.document_number,
                "document": p.document_id,
            }
            for p in _order_preapprovals(preapprovals)
        ],
        "server_location": first.get("server_location") or None,
        "access_provider": first.get("provider"),
        "accesses": shown,
    }


def _preapprovals_json(preapprovals: list[PreApproval]) -> list[dict[str, Any]]:
    return [
        {
            "category": p.category,
            "authority": p.authority,
            "document_number": p.document_number,
            "document": p.document_id,
        }
        for p in _order_preapprovals(preapprovals)
    ]


def app_as_json(
    app: Website,
    *,
    identifiers: list[Identifier],
    preapprovals: list[PreApproval],
    accesses: list[Access],
) -> dict[str, Any]:
    """One app in the SPEC §13 shape: ``id``, ``name``, ``number`` (``…-nA`` once approved),
    ``platforms`` (``[{"platform", "identifier", "public_key", "fingerprint"}]``, in order;
    key and fingerprint in upper-case hexadecimal), ``domains`` (A-labels), ``stores``
    (provider ids or ``"other"``), ``services``, ``commercial``, ``preapprovals`` and
    ``accesses`` (SPEC §12 shape). Reads nothing from the database."""
    return {
        "id": app.pk,
        "name": app.name,
        "number": app.number,
        "platforms": [
            {
                "platform": i.platform,
                "identifier": i.identifier,
                "public_key": i.public_key,
                "fingerprint": i.fingerprint,
            }
            for i in identifiers
        ],
        "domains": list(app.app_domains or []),
        "stores": list(app.stores or []),
        "services": list(app.services or []),
        "commercial": app.commercial,
        "preapprovals": _preapprovals_json(preapprovals),
        "accesses": [access_as_json(a) for a in accesses],
    }


def mini_program_as_json(
    program: Website, *, identifiers: list[Identifier], preapprovals: list[PreApproval]
) -> dict[str, Any]:
    """One mini-program in the SPEC §13 shape: ``id``, ``name``, ``number`` (``…-nX`` once
    approved), ``platform`` and ``platform_id`` (its one identifier row), ``services``,
    ``commercial`` and ``preapprovals``. Reads nothing from the database."""
    host = identifiers[0] if identifiers else None
    return {
        "id": program.pk,
        "name": program.name,
        "number": program.number,
        "platform": host.platform if host else "",
        "platform_id": host.identifier if host else "",
        "services": list(program.services or []),
        "commercial": program.commercial,
        "preapprovals": _preapprovals_json(preapprovals),
    }


# An app's or mini-program's rows: the service, its identifiers (in order), pre-approvals and
# accesses (in order; none for a mini-program).
ServiceRows = tuple[Website, list[Identifier], list[PreApproval], list[Access]]


# Datetimes as the rest of the API writes them (DRF: ISO 8601 in the portal's time zone).
_datetime = DateTimeField()


def datetime_json(value) -> str | None:
    """A datetime as the API writes it (ISO 8601 in the portal's time zone), or None."""
    return _datetime.to_representation(value) if value else None


def application_as_json(application: Application | None) -> dict[str, Any] | None:
    """An open application in the SPEC §12 [contract] shape, or None: ``kind``, ``status``
    (the filing's while it is open), ``provider`` (id or null), ``submitted_at`` and
    ``verification_expires_at`` (ISO 8601 datetimes, the latter null until the SMS
    verification starts), ``returns`` (``[{"field", "reason"}]``)."""
    if application is None:
        return None
    expires = application.verification_expires_at
    return {
        "kind": application.kind,
        "status": application.status,
        "provider": application.provider_id,
        "submitted_at": _datetime.to_representation(application.submitted_at),
        "verification_expires_at": _datetime.to_representation(expires) if expires else None,
        "returns": [
            {"field": r.get("field"), "reason": reason_in_language(r.get("reason") or "")}
            for r in application.returns or []
        ],
    }


def sponsor_as_json(filing: Filing) -> dict[str, Any]:
    return {
        "nature": filing.sponsor_nature,
        "name": filing.sponsor_name,
        "id_type": filing.sponsor_id_type,
        "id_number": filing.sponsor_id_number,
        "province": filing.province_id,
        "address": filing.sponsor_address,
        "principal": {
            "name": filing.principal_name,
            "id_type": filing.principal_id_type,
            "id_number": filing.principal_id_number,
            "mobile": filing.principal_mobile,
            "email": filing.principal_email,
        },
    }


def filing_as_json(filing: Filing) -> dict[str, Any]:
    """The working copy of ``filing`` in the SPEC §10 shape, read in a fixed number of
    queries. Raises ``Filing.DoesNotExist`` for a filing deleted meanwhile."""
    return prefetched_filing_json(
        filing_json_related(Filing.objects.select_related("province")).get(pk=filing.pk)
    )


def prefetched_filing_json(filing: Filing) -> dict[str, Any]:
    """``filing_as_json`` for a filing of ``filing_json_related``, without further queries."""
    return filing_rows_as_json(
        filing,
        websites=[
            (w, list(w.domains.all()), list(w.preapprovals.all()), list(w.accesses.all()))
            for w in filing.ordered_websites
        ],
        open_conflicts=filing.open_conflicts,
        application=filing.open_applications[0] if filing.open_applications else None,
        services=[
            (s, list(s.identifiers.all()), list(s.preapprovals.all()), list(s.accesses.all()))
            for s in filing.ordered_other_services
        ],
    )


def filing_rows_as_json(
    filing: Filing,
    *,
    websites: list[tuple[Website, list[Domain], list[PreApproval], list[Access]]],
    open_conflicts: list[Conflict],
    application: Application | None,
    services: list[ServiceRows] = (),
) -> dict[str, Any]:
    """The SPEC §10 JSON of ``filing`` from rows the caller holds: each website (in order)
    with its domains (in order), pre-approvals and accesses (in order), the filing's open
    conflicts (in order), its open application (or None), and its apps and mini-programs
    (``services``, in order, SPEC §13). Every other way to a filing's JSON ends here. Reads
    nothing from the database."""
    apps = [
        app_as_json(s, identifiers=i, preapprovals=p, accesses=a)
        for s, i, p, a in services
        if s.kind == Website.Kind.APP
    ]
    mini_programs = [
        mini_program_as_json(s, identifiers=i, preapprovals=p)
        for s, i, p, _a in services
        if s.kind == Website.Kind.MINI_PROGRAM
    ]
    return {
        "id": filing.pk,
        "status": filing.status,
        "number": filing.number,
        "review_deadline": filing.review_deadline.isoformat() if filing.review_deadline else None,
        "conflicts": [
            {"field": c.field, "value": c.value, "other_filing": c.other_filing_id}
            for c in open_conflicts
        ],
        "application": application_as_json(application),
        "sponsor": sponsor_as_json(filing),
        "websites": [
            website_as_json(w, domains=domains, preapprovals=preapprovals, accesses=accesses)
            for w, domains, preapprovals, accesses in websites
        ],
        "apps": apps,
        "mini_programs": mini_programs,
    }


# The parts of a filing its owner edits (SPEC §10, §13).
EDITABLE_PARTS = ("sponsor", "websites", "apps", "mini_programs")


def working_copy_data(filing: Filing) -> dict[str, Any]:
    """Only the editable part (sponsor, websites, apps and mini-programs) of the working
    copy."""
    if (
        filing.submitted_at is None
        and not filing.sponsor_name
        and not Website.every_kind.filter(filing=filing).exists()
    ):
        return empty_data()
    data = filing_as_json(filing)
    return {key: data[key] for key in EDITABLE_PARTS}


def saved_changes(filing: Filing) -> dict[str, Any] | None:
    """The owner's saved, unsubmitted changes (SPEC §10 shape, a copy), each website with the
    id and number of the website of the record it is (``identities.with_identities``: a
    draft saved before an approval reads with the numbers it gave); None without any."""
    draft = FilingDraft.objects.filter(filing=filing).only("data").first()
    if draft is None:
        return None
    return with_identities(filing, copy.deepcopy(draft.data))


def editable_data(filing: Filing) -> dict[str, Any]:
    """What the owner is editing: the saved changes (``saved_changes``), else the working
    copy."""
    changes = saved_changes(filing)
    return changes if changes is not None else working_copy_data(filing)


def filing_owner_json(filing: Filing) -> dict[str, Any]:
    """``filing_as_json`` with the owner's unsubmitted changes, if any, as sponsor/websites."""
    data = filing_as_json(filing)
    changes = saved_changes(filing)
    if changes is not None:
        data["sponsor"] = changes["sponsor"]
        # Every website shows its accesses (SPEC §12), a draft's written in the shorthand too.
        data["websites"] = [
            {**w, "accesses": website_accesses(w)} if isinstance(w, dict) else w
            for w in changes["websites"]
        ]
        data["apps"] = changes.get("apps") or []
        data["mini_programs"] = changes.get("mini_programs") or []
    return data


def merge_data(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A PATCH: sponsor (and its principal) merge key by key; a given list of websites, apps
    or mini-programs replaces that list."""
    merged = copy.deepcopy(current)
    if isinstance(patch.get("sponsor"), dict):
        sponsor = {**merged.get("sponsor", {}), **patch["sponsor"]}
        if isinstance(patch["sponsor"].get("principal"), dict):
            sponsor["principal"] = {
                **(merged.get("sponsor", {}).get("principal") or {}),
                **patch["sponsor"]["principal"],
            }
        merged["sponsor"] = sponsor
    elif "sponsor" in patch:
        merged["sponsor"] = patch["sponsor"]
    for part in ("websites", "apps", "mini_programs"):
        if part in patch:
            merged[part] = patch[part]
    return merged
