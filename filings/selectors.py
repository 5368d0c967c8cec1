"""Reads of filings for owners, the wizard, and the consoles that show documents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from accounts.models import AccessProvider
from beian.models import AuditLog, Province
from beian.normalforms.apps import fingerprint_display, public_key_short
from beian.normalforms.domains import domain_unicode, url_unicode
from beian.workdays import WorkingCalendar, working_calendar

from . import rules
from .models import (
    Access,
    Application,
    Conflict,
    Document,
    Filing,
    FilingDraft,
    FilingVersion,
    Identifier,
    Website,
)
from .serializers import filing_as_json
from .stages import returnable_paths
from .validation import (
    SHORTHAND,
    StructureError,
    coerce_data,
    validate_filing_data,
    website_accesses,
)

ACCESS_SHORTHAND = tuple(SHORTHAND.values())
# The lists of services in the filing JSON (SPEC §10, §13).
SERVICE_PARTS = ("websites", "apps", "mini_programs")


def owner_filing(user) -> Filing | None:
    """The filing record of an owner account (at most one), with its province; None for an
    anonymous visitor or an account without one."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Filing.objects.select_related("province").filter(owner=user).first()


def owner_filings(user) -> QuerySet[Filing]:
    """Filings the caller may see through the owner API: only their own, by id."""
    return Filing.objects.select_related("province").filter(owner_id=user.pk).order_by("id")


def filing_for_owner_or_404(user, pk: int) -> Filing:
    """The caller's own filing ``pk``; raises ``Http404`` for any other, whether it exists
    or not."""
    filing = owner_filings(user).filter(pk=pk).first()
    if filing is None:
        raise Http404
    return filing


def document_for_user(*, user, document_id: int) -> Document:
    """A pre-approval document the user may read, else ``Http404``.

    The owner and the staff of the access provider that filed it; bureau staff of the filing's
    province and the ministry (their views also require a verified second factor).
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise Http404
    scope = Q(filing__owner_id=user.pk)
    if user.role == user.Role.PROVIDER and user.provider_id:
        scope |= Q(filing__filed_by_provider_id=user.provider_id)
    elif user.role == user.Role.BUREAU and user.province_id:
        scope = Q(filing__province_id=user.province_id)
    elif user.role == user.Role.MINISTRY:
        scope = Q()
    document = Document.objects.filter(scope, pk=document_id).select_related("filing").first()
    if document is None:
        raise Http404
    return document


def _candidates(query: str, limit: int, **kind) -> list[AccessProvider]:
    text = " ".join((query or "").split())
    if not text:
        return []
    return list(
        AccessProvider.objects.filter(is_active=True, name__icontains=text, **kind).order_by(
            "name"
        )[:limit]
    )


def provider_candidates(query: str, *, limit: int = 10) -> list[AccessProvider]:
    """Registered, active access providers whose name contains ``query`` (Q13, any case, runs
    of spaces as one), by name, at most ``limit``; none for a blank query. A distribution
    platform that is not also an access provider serves nothing, so it is not one of them
    (SPEC §13)."""
    return _candidates(query, limit, is_access_provider=True)


def distribution_platform_candidates(query: str, *, limit: int = 10) -> list[AccessProvider]:
    """Registered, active distribution platforms (app stores, mini-program hosts: SPEC §13)
    whose name contains ``query``, as ``provider_candidates`` finds access providers: what an
    owner chooses an app's stores from."""
    return _candidates(query, limit, is_distribution_platform=True)


def providers_by_id(ids) -> dict[int, AccessProvider]:
    """``{id: provider}`` of the providers among ``ids`` (empty ids skipped), active or not;
    an unknown id is absent."""
    return {p.pk: p for p in AccessProvider.objects.filter(pk__in=[i for i in ids if i])}


def has_unsubmitted_changes(filing: Filing) -> bool:
    """True when the owner saved changes that are not submitted yet (a ``FilingDraft``)."""
    return FilingDraft.objects.filter(filing=filing).exists()


def check_data(filing: Filing, data: dict[str, Any]) -> dict:
    """Every problem ``data`` (the SPEC §10 filing shape) would meet on submission, for the
    wizard's pages: ``{}`` when it may be submitted, else the errors of
    ``validation.validate_filing_data`` (or of ``coerce_data`` when the structure is wrong),
    ``{"sponsor": {field: [messages]}, "websites": [{field: [messages]}, …]}``."""
    try:
        canonical = coerce_data(data)
    except StructureError as exc:
        return exc.errors
    return validate_filing_data(canonical, filing=filing)[1]


FIELD_LABELS = {
    "nature": gettext_lazy("sponsor nature"),
    "name": gettext_lazy("name"),
    "id_type": gettext_lazy("certificate type"),
    "id_number": gettext_lazy("certificate number"),
    "province": gettext_lazy("residence province"),
    "address": gettext_lazy("address"),
    "mobile": gettext_lazy("mobile"),
    "email": gettext_lazy("email"),
    "homepage": gettext_lazy("homepage URL"),
    "domains": gettext_lazy("domains"),
    "ips": gettext_lazy("IP addresses"),
    "services": gettext_lazy("service content"),
    "commercial": gettext_lazy("commercial service"),
    "preapprovals": gettext_lazy("pre-approval"),
    "server_location": gettext_lazy("server location"),
    "access_provider": gettext_lazy("access provider"),
    "method": gettext_lazy("access method"),
    "accesses": gettext_lazy("accesses"),
    # Apps and mini-programs (SPEC §13).
    "stores": gettext_lazy("distribution platforms"),
    "platform": gettext_lazy("platform"),
    "platform_id": gettext_lazy("mini-program ID"),
    "identifier": gettext_lazy("identifier"),
    "public_key": gettext_lazy("public key"),
    "fingerprint": gettext_lazy("fingerprint"),
}


def _text(value) -> str:
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, dict):
                parts.append(" ".join(str(v) for v in item.values() if v not in (None, "")))
            else:
                parts.append(str(item))
        return ", ".join(parts)
    return str(value)


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _provider_ids(*snapshots: dict | None) -> set[int]:
    """The registered providers a snapshot names: its websites' and apps' access providers
    and its apps' distribution platforms."""
    ids: set[int] = set()
    for data in snapshots:
        data = data or {}
        for service in [*(data.get("websites") or []), *(data.get("apps") or [])]:
            if not isinstance(service, dict):
                continue
            ids.update(
                a.get("provider") for a in website_accesses(service) if _is_id(a.get("provider"))
            )
        ids.update(
            store
            for app in data.get("apps") or []
            if isinstance(app, dict)
            for store in app.get("stores") or []
            if _is_id(store)
        )
    return ids


def _labels(provider_ids: set[int] = frozenset()) -> dict[str, dict[str, str]]:
    """Readable values for the codes a snapshot holds (a query for the province names, and
    one for the names of the access providers ``provider_ids``)."""
    provinces = {p.code: p.display_name for p in Province.objects.only("code", "name", "name_en")}
    providers = (
        dict(AccessProvider.objects.filter(pk__in=provider_ids).values_list("pk", "name"))
        if provider_ids
        else {}
    )
    return {
        "nature": {c.value: str(c.label) for c in Filing.Nature},
        "id_type": {c.value: str(c.label) for c in Filing.IdType},
        "province": provinces,
        "server_location": {
            **provinces,
            Access.OTHER_LOCATION: _("other (outside mainland China)"),
        },
        "services": {c.value: str(c.label) for c in Website.Service},
        "access_provider": {"other": _("other"), **providers},
        "method": {c.value: str(c.label) for c in Access.Method},
        "stores": {"other": _("other"), **providers},
        "platform": {c.value: str(c.label) for c in Identifier.Platform},
    }


def _flatten(data: dict | None, labels: dict[str, dict[str, str]]) -> dict[tuple[str, str], str]:
    if not data:
        return {}

    def show(key, value):
        # Domains and homepages as people read them (the snapshot keeps A-labels), and a
        # fingerprint in colon notation.
        if key == "domains" and isinstance(value, list):
            value = [domain_unicode(str(v)) for v in value]
        elif key == "homepage" and isinstance(value, str):
            value = url_unicode(value)
        elif key == "fingerprint" and isinstance(value, str):
            value = fingerprint_display(value)
        names = labels.get(key)
        if names and isinstance(value, int) and not isinstance(value, bool):
            value = names.get(value, value)
        elif names and isinstance(value, list):
            value = [names.get(v, v) for v in value]
        elif names and isinstance(value, str):
            value = names.get(value, value)
        return _text(value)

    out: dict[tuple[str, str], str] = {}
    sponsor = data.get("sponsor") or {}
    for key, value in sponsor.items():
        if key != "principal":
            out[(_("Sponsor"), key)] = show(key, value)
    for key, value in (sponsor.get("principal") or {}).items():
        out[(_("Responsible person"), key)] = show(key, value)
    for index, website in enumerate(data.get("websites") or [], start=1):
        # A website is known by its number once approved, before that by its place in the
        # list: a changed homepage is then one change, not a website removed and another added.
        ident = website.get("number") or f"#{index}"
        section = _("Website %(website)s") % {"website": ident}
        for key, value in website.items():
            # The id is the row's, and the shorthand keys repeat the first access.
            if key not in ("number", "id", "accesses", *ACCESS_SHORTHAND):
                out[(section, key)] = show(key, value)
        _flatten_accesses(out, section, website_accesses(website), show)
    # Apps and mini-programs (SPEC §13), each known by its number once approved, like a
    # website; an app's identity by platform (a platform added or dropped reads as such).
    for index, app in enumerate(data.get("apps") or [], start=1):
        if not isinstance(app, dict):
            continue
        section = _("App %(app)s") % {"app": app.get("number") or f"#{index}"}
        for key, value in app.items():
            if key not in ("number", "id", "accesses", "platforms"):
                out[(section, key)] = show(key, value)
        for platform in app.get("platforms") or []:
            if not isinstance(platform, dict):
                continue
            code = str(platform.get("platform") or "")
            for field in PLATFORM_DIFF_FIELDS:
                out[(section, f"platform:{code}:{field}")] = show(field, platform.get(field))
        _flatten_accesses(out, section, app.get("accesses") or [], show)
    for index, program in enumerate(data.get("mini_programs") or [], start=1):
        if not isinstance(program, dict):
            continue
        section = _("Mini-program %(program)s") % {"program": program.get("number") or f"#{index}"}
        for key, value in program.items():
            if key not in ("number", "id"):
                out[(section, key)] = show(key, value)
    return out


def _flatten_accesses(out: dict, section: str, accesses: list, show) -> None:
    """Each access's fields (SPEC §12) into ``out`` under ``section``: method, server
    location, IPs, known by its provider (an access is the provider's: cancelling one of two
    reads as that one removed)."""
    others = 0
    for access in accesses:
        if not isinstance(access, dict):
            continue
        provider = access.get("provider")
        if _is_id(provider):
            ident = show("access_provider", provider)
        else:
            others += 1
            ident = str(_("other")) if others == 1 else f"{_('other')} {others}"
        out[(section, f"access:{ident}:provider")] = ident
        for field, label_key in ACCESS_DIFF_FIELDS[1:]:
            out[(section, f"access:{ident}:{field}")] = show(label_key, access.get(field))


# An access's fields in a diff, with the labels' keys (``FIELD_LABELS``, ``_labels``).
ACCESS_DIFF_FIELDS = (
    ("provider", "access_provider"),
    ("method", "method"),
    ("server_location", "server_location"),
    ("ips", "ips"),
)


# An app's identity on one platform in a diff (SPEC §13), each field's label in
# ``FIELD_LABELS``.
PLATFORM_DIFF_FIELDS = ("identifier", "public_key", "fingerprint")


def _field_label(name: str) -> str:
    """A diff's field name in the active language: an access's fields are named with its
    provider (``access:蓝山云:ips``: "IP addresses (access at 蓝山云)"), an app's identity
    with its platform (``platform:android:fingerprint``: "fingerprint (Android)")."""
    if name.startswith("platform:"):
        code, field = name.removeprefix("platform:").rsplit(":", 1)
        try:
            platform = str(Identifier.Platform(code).label)
        except ValueError:
            platform = code
        label = str(FIELD_LABELS.get(field, field))
        return _("%(field)s (%(platform)s)") % {"field": label, "platform": platform}
    if not name.startswith("access:"):
        return str(FIELD_LABELS.get(name, name))
    ident, field = name.removeprefix("access:").rsplit(":", 1)
    label = str(FIELD_LABELS.get(dict(ACCESS_DIFF_FIELDS).get(field, field), field))
    return _("%(field)s (access at %(provider)s)") % {"field": label, "provider": ident}


@dataclass
class Change:
    """One changed field of a filing snapshot, as shown to a reviewer or owner."""

    section: str
    field: str
    before: str
    after: str


def diff(before: dict | None, after: dict | None) -> list[Change]:
    """Field-by-field changes between two filing snapshots in the SPEC §10 shape (either may
    be None, read as empty): one ``Change`` per field whose shown value differs, in the order
    the fields appear, with sections, field names and coded values (natures, provinces,
    services, access providers) in the active language and domains in Unicode. Two queries
    (province and provider names)."""
    labels = _labels(_provider_ids(before, after))
    old, new = _flatten(before, labels), _flatten(after, labels)
    changes = []
    for key in list(dict.fromkeys([*old, *new])):
        if old.get(key, "") != new.get(key, ""):
            section, name = key
            changes.append(
                Change(
                    section=section,
                    field=_field_label(name),
                    before=_shown(name, old.get(key, "")),
                    after=_shown(name, new.get(key, "")),
                )
            )
    return changes


def _shown(name: str, value: str) -> str:
    """A changed value as the diff shows it: an app's public key shortened (compared whole:
    two keys alike at both ends still differ)."""
    return public_key_short(value) if name.endswith(":public_key") else value


@dataclass
class Comparison:
    """What check-your-answers compares the owner's data with: ``against`` ``"approved"``
    (the last approved version) or ``"submitted"`` (the latest submission of the open
    application), that ``version`` and the ``changes`` against it."""

    against: str
    version: FilingVersion
    changes: list[Change]


def check_comparison(filing: Filing, data: dict[str, Any]) -> Comparison | None:
    """What the owner's ``data`` (SPEC §10 shape) changes, for check-your-answers: a record
    approved before against its last approved version (the whole amendment, whatever stage
    it is at); a first filing whose application is open (returned, or on its way) against
    that application's latest submission (what the owner changes in it). None otherwise: a
    draft never submitted, or one whose application was withdrawn or refused, has nothing of
    its own to compare with."""
    if filing.is_filed:
        approved = (
            FilingVersion.objects.filter(filing=filing, kind=FilingVersion.Kind.APPROVED)
            .order_by("-seq")
            .first()
        )
        if approved is None:
            return None
        return Comparison("approved", approved, diff(approved.data, data))
    application = (
        Application.objects.filter(filing_id=filing.pk, closed_at__isnull=True)
        .values_list("pk", flat=True)
        .first()
    )
    submitted = _submissions(filing).get(application, []) if application else []
    latest = (
        FilingVersion.objects.filter(
            filing=filing, seq=submitted[-1][0], kind=FilingVersion.Kind.SUBMITTED
        ).first()
        if submitted
        else None
    )
    if latest is None:
        return None
    return Comparison("submitted", latest, diff(latest.data, data))


# What became of a version (SPEC §3 "every submitted version is kept", §12): an approved
# version is the record as approved; a submission is labelled by what became of its
# application, or by the submission of the same application that replaced it.
VERSION_OUTCOMES = {
    "submitted": FilingVersion.Kind.SUBMITTED.label,
    "approved": Application.Outcome.APPROVED.label,
    "rejected": Application.Outcome.REJECTED.label,
    "withdrawn": Application.Outcome.WITHDRAWN.label,
    "returned": Filing.Status.RETURNED.label,
    "replaced": pgettext_lazy("version outcome", "replaced by a later submission"),
}


def _submissions(filing: Filing) -> dict[int, list[tuple[int, str | None]]]:
    """The submitted versions of each application of ``filing`` (by application id), as
    ``(version seq, the filing's status before that submission)`` in order, read from the
    submissions' audit rows (``filing.submit``: every submission writes one in its own
    transaction, with the version and the application it made). Versions submitted before
    applications were kept belong to none. One query, on the audit log's target index."""
    rows = AuditLog.objects.filter(
        target_type="filings.filing", target_id=str(filing.pk), action="filing.submit"
    ).values_list("before", "after")
    out: dict[int, list[tuple[int, str | None]]] = {}
    for before, after in rows:
        after = after if isinstance(after, dict) else {}
        application, seq = after.get("application"), after.get("version")
        if isinstance(application, int) and isinstance(seq, int):
            status = (before or {}).get("status") if isinstance(before, dict) else None
            out.setdefault(application, []).append((seq, status))
    for submitted in out.values():
        submitted.sort()
    return out


def version_outcomes(filing: Filing, submissions=None) -> dict[int, str]:
    """What became of each submitted version of ``filing`` (by seq), a key of
    ``VERSION_OUTCOMES``: ``returned`` or ``replaced`` when a later submission of the same
    application followed it (after a return, or before any decision, Q19), else its
    application's outcome (``approved``, ``rejected``, ``withdrawn``), ``returned`` from the
    moment the application is returned to the owner (SPEC §12: it stays open, waiting for
    them), or ``submitted`` while it is under way. Versions not listed (approved versions,
    and submissions from before applications were kept) read by their kind. Two queries
    (``submissions``: ``_submissions`` when the caller holds it)."""
    submissions = _submissions(filing) if submissions is None else submissions
    outcomes = {
        pk: outcome or ("returned" if status == Application.Status.RETURNED else "submitted")
        for pk, outcome, status in Application.objects.filter(pk__in=list(submissions)).values_list(
            "pk", "outcome", "status"
        )
    }
    out: dict[int, str] = {}
    for application, submitted in submissions.items():
        for (seq, _status), later in zip(submitted, [*submitted[1:], None], strict=True):
            if later is not None:
                out[seq] = "returned" if later[1] == Filing.Status.RETURNED else "replaced"
            else:
                out[seq] = outcomes.get(application) or "submitted"
    return out


def versions(filing: Filing) -> list[FilingVersion]:
    """The filing's versions, newest first, with their author and without their data; each
    with ``outcome`` (a key of ``VERSION_OUTCOMES``, ``version_outcomes``) and
    ``outcome_label`` (what became of it, in the active language)."""
    rows = list(
        FilingVersion.objects.filter(filing=filing)
        .select_related("created_by")
        .order_by("-seq")
        .defer("data")
    )
    outcomes = version_outcomes(filing) if rows else {}
    for row in rows:
        row.outcome = (
            "approved" if row.kind == FilingVersion.Kind.APPROVED else outcomes.get(row.seq)
        ) or "submitted"
        row.outcome_label = VERSION_OUTCOMES[row.outcome]
    return rows


def version_outcome(filing: Filing, version: FilingVersion) -> str:
    """What became of ``version`` of ``filing``, in the active language (``versions``)."""
    if version.kind == FilingVersion.Kind.APPROVED:
        return str(VERSION_OUTCOMES["approved"])
    return str(VERSION_OUTCOMES[version_outcomes(filing).get(version.seq) or "submitted"])


@dataclass(frozen=True)
class Section:
    key: str
    state: str  # not_started, in_progress, needs_attention, completed, optional, not_needed, …


# The answers a website's own page asks for; one left empty keeps the website in progress.
WEBSITE_ANSWERS = ("name", "homepage", "domains", "services")
ACCESS_ANSWERS = ("provider", "server_location", "ips")


def website_state(website: dict[str, Any], errors: dict) -> str:
    """The state of one website on the wizard's list (Q24): ``completed`` when its own page
    has nothing to fix (``errors``: that page's errors of the website, ``{field:
    [messages]}``), ``in_progress`` while one of its answers is still empty, else
    ``needs_attention``: everything is answered and a rule refuses some of it (a second
    access provider in a first filing, a mistyped address), which more typing alone does not
    finish. ``website`` in the SPEC §10 shape, as saved."""
    if not errors:
        return "completed"
    accesses = website_accesses(website)
    unanswered = (
        any(not website.get(key) for key in WEBSITE_ANSWERS)
        or not accesses
        or any(not access.get(key) for access in accesses for key in ACCESS_ANSWERS)
    )
    return "in_progress" if unanswered else "needs_attention"


def _content_errors(website_errors: Any, index: int) -> dict:
    mine = (
        website_errors[index]
        if isinstance(website_errors, list) and index < len(website_errors)
        else {}
    )
    return {k: v for k, v in mine.items() if k != "preapprovals"} if isinstance(mine, dict) else {}


# The answers of an app's pages and a mini-program's (SPEC §13); one left empty keeps it in
# progress.
APP_ANSWERS = ("name", "services", "platforms", "stores", "accesses")
PLATFORM_ANSWERS = ("platform", "identifier", "public_key", "fingerprint")
MINI_PROGRAM_ANSWERS = ("name", "services", "platform", "platform_id")


def service_errors(errors: dict, part: str, index: int) -> dict:
    """The errors of service ``index`` of ``part`` (``"apps"``, ``"mini_programs"``) that its
    own pages show, ``{field: messages}``: all but its pre-approvals (the documents page's)."""
    listed = errors.get(part)
    mine = listed[index] if isinstance(listed, list) and index < len(listed) else {}
    return {k: v for k, v in mine.items() if k != "preapprovals"} if isinstance(mine, dict) else {}


def service_state(part: str, service: dict[str, Any], errors: dict) -> str:
    """The state of one app (``part`` ``"apps"``) or mini-program (``"mini_programs"``) on
    its list and the task list (Q24): ``completed`` when its pages have nothing to fix
    (``errors``: ``service_errors``), ``in_progress`` while one of its answers is still empty,
    else ``needs_attention``: everything is answered and a rule refuses some of it (an
    identifier of the wrong form, a fingerprint of another digest), which more typing alone
    does not finish."""
    if not errors:
        return "completed"
    if part == "apps":
        unanswered = (
            any(not service.get(key) for key in APP_ANSWERS)
            or any(
                not p.get(key) for p in service.get("platforms") or [] for key in PLATFORM_ANSWERS
            )
            or any(not a.get(key) for a in service.get("accesses") or [] for key in ACCESS_ANSWERS)
        )
    else:
        unanswered = any(not service.get(key) for key in MINI_PROGRAM_ANSWERS)
    return "in_progress" if unanswered else "needs_attention"


def _part_state(part: str, data: dict[str, Any], errors: dict) -> str:
    states = {
        service_state(part, service, service_errors(errors, part, index))
        for index, service in enumerate(data.get(part) or [])
    }
    for state in ("needs_attention", "in_progress", "completed"):
        if state in states:
            return state
    return "not_started"


def sections(data: dict[str, Any], errors: dict) -> list[Section]:
    """The task list's parts (Q24), ``sponsor``, ``websites``, ``apps``, ``mini_programs``
    (SPEC §13), ``documents`` and ``check``, each with its state (``not_started``,
    ``in_progress``, ``needs_attention`` (one of them, fully answered, is refused:
    ``website_state``, ``service_state``), ``completed``, ``optional`` (a kind of service the record has none of while it has
    another), ``not_needed``, ``cannot_start``), from ``data`` and its ``check_data``
    errors."""
    sponsor = data.get("sponsor") or {}
    started = any(v for k, v in sponsor.items() if k != "principal") or any(
        (sponsor.get("principal") or {}).values()
    )
    sponsor_state = (
        "not_started" if not started else "in_progress" if errors.get("sponsor") else "completed"
    )
    website_errors = errors.get("websites")
    websites = data.get("websites") or []
    if not websites:
        websites_state = "not_started"
    else:
        content_errors = (
            [
                {k: v for k, v in e.items() if k != "preapprovals"}
                for e in website_errors
                if isinstance(e, dict)
            ]
            if isinstance(website_errors, list)
            else [website_errors]
        )
        states = {
            website_state(website, _content_errors(website_errors, index))
            for index, website in enumerate(websites)
        }
        websites_state = (
            "needs_attention"
            if "needs_attention" in states
            else "in_progress"
            if any(content_errors)
            else "completed"
        )
    services = [s for part in SERVICE_PARTS for s in data.get(part) or []]
    needs_documents = any(s.get("preapprovals") for s in services)
    if not needs_documents:
        documents_state = "not_needed"
    else:
        document_errors = any(
            isinstance(e, dict) and e.get("preapprovals")
            for part in SERVICE_PARTS
            for e in (errors.get(part) if isinstance(errors.get(part), list) else [])
        )
        filled = any(
            p.get("authority") or p.get("document_number") or p.get("document")
            for s in services
            for p in s.get("preapprovals", [])
        )
        documents_state = (
            "in_progress"
            if document_errors and filled
            else "not_started"
            if document_errors
            else "completed"
        )
    check_state = "completed" if not errors else "cannot_start"
    parts = {
        "websites": websites_state,
        "apps": _part_state("apps", data, errors),
        "mini_programs": _part_state("mini_programs", data, errors),
    }
    if any(data.get(part) for part in SERVICE_PARTS):
        # A record needs one service of any kind: the kinds it has none of are optional.
        parts = {p: "optional" if not data.get(p) else state for p, state in parts.items()}
    return [
        Section("sponsor", sponsor_state),
        *(Section(part, state) for part, state in parts.items()),
        Section("documents", documents_state),
        Section("check", check_state),
    ]


def allowed_actions(filing: Filing | None, *, has_changes: bool = False) -> list[str]:
    """The action names the owner has now (``rules.OWNER_ACTIONS``; ``["start"]`` without a
    filing), given whether saved, unsubmitted changes exist; the services enforce the same
    table."""
    if filing is None:
        return rules.owner_actions(None, has_changes=has_changes)
    kind = (
        Application.objects.filter(filing_id=filing.pk, closed_at__isnull=True)
        .values_list("kind", flat=True)
        .first()
    )
    return rules.owner_actions(
        filing.status, has_changes=has_changes, filed=filing.is_filed, kind=kind
    )


def websites_with_numbers(filing: Filing) -> QuerySet[Website]:
    """The filing's websites that have a number (approved at least once), in page order."""
    return Website.objects.filter(filing=filing).exclude(number=None).order_by("position")


@dataclass
class FilingChanges:
    """What a reviewer compares the working copy with: the last approved version, and the
    previous submission of the same open application (``previous``, with what became of it:
    ``previous_outcome``, returned or replaced)."""

    current: dict
    previous: FilingVersion | None
    approved: FilingVersion | None
    since_previous: list[Change]
    since_approved: list[Change]
    previous_outcome: str = ""


def filing_changes(filing: Filing) -> FilingChanges:
    """The working copy (``current``, SPEC §10 shape) against the last approved version, and
    against the previous submission of the same open application, when it was submitted
    more than once (returned, or replaced before a decision, Q19): what the owner changed
    since. Never against the version of another application: one withdrawn or refused left
    the record as it was, and an application decided already is history."""
    current = filing_as_json(filing)
    application = (
        Application.objects.filter(filing_id=filing.pk, closed_at__isnull=True)
        .values_list("pk", flat=True)
        .first()
    )
    submitted = _submissions(filing).get(application, []) if application else []
    previous = (
        FilingVersion.objects.filter(
            filing=filing, seq=submitted[-2][0], kind=FilingVersion.Kind.SUBMITTED
        ).first()
        if len(submitted) > 1
        else None
    )
    # The latest submission followed a return of the one before, or replaced it.
    previous_outcome = (
        VERSION_OUTCOMES["returned" if submitted[-1][1] == Filing.Status.RETURNED else "replaced"]
        if previous
        else ""
    )
    approved = (
        FilingVersion.objects.filter(filing=filing, kind=FilingVersion.Kind.APPROVED)
        .order_by("-seq")
        .first()
    )
    return FilingChanges(
        current=current,
        previous=previous,
        approved=approved,
        since_previous=diff(previous.data, current) if previous else [],
        since_approved=diff(approved.data, current) if approved else [],
        previous_outcome=str(previous_outcome),
    )


def filing_websites(filing: Filing) -> list[Website]:
    """The filing's websites in page order, with their accesses (and providers), domains and
    pre-approvals with documents."""
    return list(
        Website.objects.filter(filing=filing)
        .prefetch_related(
            "domains",
            "preapprovals__document",
            Prefetch(
                "accesses",
                queryset=Access.objects.select_related("provider").order_by("position", "id"),
            ),
        )
        .order_by("position", "id")
    )


def _services_of(filing: Filing, kind: str) -> list[Website]:
    """The filing's services of ``kind`` in page order, with their identifiers (by position),
    pre-approvals with documents, and accesses (by position) with providers."""
    return list(
        Website.every_kind.filter(filing=filing, kind=kind)
        .prefetch_related(
            Prefetch("identifiers", queryset=Identifier.objects.order_by("position", "id")),
            "preapprovals__document",
            Prefetch(
                "accesses",
                queryset=Access.objects.select_related("provider").order_by("position", "id"),
            ),
        )
        .order_by("position", "id")
    )


def filing_apps(filing: Filing) -> list[Website]:
    """The filing's apps (SPEC §13) in page order, as ``filing_websites`` gives websites:
    each with its platforms (``identifiers``: platform, identifier, public key, fingerprint),
    pre-approvals with documents and accesses with providers, and ``store_labels``, the
    names of its distribution platforms (a registered provider's name, or "other"). Four
    queries and one for the stores' names, however many apps."""
    apps = _services_of(filing, Website.Kind.APP)
    ids = {store for app in apps for store in app.stores or [] if _is_id(store)}
    names = dict(AccessProvider.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    for app in apps:
        app.store_labels = [
            names.get(store, f"#{store}") if _is_id(store) else str(_("other"))
            for store in app.stores or []
        ]
    return apps


def filing_mini_programs(filing: Filing) -> list[Website]:
    """The filing's mini-programs (SPEC §13) in page order, each with its host
    (``identifiers``: one row, platform and id) and pre-approvals with documents."""
    return _services_of(filing, Website.Kind.MINI_PROGRAM)


def approved_websites(filing: Filing, kind: str = Website.Kind.WEBSITE) -> list[Website]:
    """The numbered websites (or apps, or mini-programs: ``kind``, SPEC §13) of a filed
    record's working copy, in page order, with their accesses and providers (SPEC §12): what
    the owner's changes of one access or one service start from; empty for a record never
    approved."""
    if not filing.is_filed:
        return []
    return list(
        Website.every_kind.filter(filing=filing, kind=kind)
        .exclude(number=None)
        .prefetch_related(
            Prefetch(
                "accesses",
                queryset=Access.objects.select_related("provider").order_by("position", "id"),
            )
        )
        .order_by("position", "id")
    )


def filing_documents(filing: Filing) -> list[Document]:
    """Every document uploaded to the filing, oldest first."""
    return list(Document.objects.filter(filing=filing).order_by("id"))


def open_conflicts(filing: Filing) -> list[Conflict]:
    """The filing's open conflicts (Q17: its data held by another account's filing), with
    the other filing, by id."""
    return list(
        Conflict.objects.filter(
            filing=filing, kind=Conflict.Kind.CONFLICT, resolved_at__isnull=True
        )
        .select_related("other_filing")
        .order_by("id")
    )


# The provider's first review (初审, SPEC §12) ------------------------------------------------


def provider_review_queue(provider_id: int) -> QuerySet[Application]:
    """The open applications waiting for the first review of provider ``provider_id``
    (status ``provider_review``), oldest first (``submitted_at``, ``id``), each with its
    filing; walks the partial index ``application_provider_idx``."""
    return (
        Application.objects.filter(
            provider_id=provider_id,
            status=Application.Status.PROVIDER_REVIEW,
            closed_at__isnull=True,
        )
        .select_related("filing")
        .order_by("submitted_at", "id")
    )


@dataclass
class FirstReviewRow:
    """One application of a provider's first-review queue: its filing and kind, since when it
    waits (``stage_entered_at``), the provider's deadline, the working days left to it
    (negative once past) and whether it is overdue (past the deadline)."""

    application: Application
    filing: Filing
    kind: str
    waiting_since: dt.datetime | None
    deadline: dt.date | None
    days_left: int | None
    overdue: bool


def first_review_rows(
    applications: Iterable[Application],
    *,
    on: dt.date | None = None,
    calendar: WorkingCalendar | None = None,
) -> list[FirstReviewRow]:
    """A ``FirstReviewRow`` per application of ``provider_review_queue``, in order, counted
    from ``on`` (today in Asia/Shanghai by default) on the working-day calendar
    (``beian.workdays``); reads nothing more from the database than the calendar."""
    on = on or timezone.localdate()
    calendar = calendar or working_calendar()
    rows = []
    for application in applications:
        deadline = application.provider_deadline
        rows.append(
            FirstReviewRow(
                application=application,
                filing=application.filing,
                kind=application.kind,
                waiting_since=application.stage_entered_at or application.submitted_at,
                deadline=deadline,
                days_left=calendar.working_days_between(on, deadline) if deadline else None,
                overdue=bool(deadline and deadline < on),
            )
        )
    return rows


def provider_application(provider_id: int, filing_id: int) -> Application | None:
    """The open application of filing ``filing_id`` that provider ``provider_id`` first
    reviews (whatever stage it has reached), with its filing, the filing's owner, province
    and submitter; None for any other (the pages answer 404)."""
    return (
        Application.objects.filter(
            provider_id=provider_id, filing_id=filing_id, closed_at__isnull=True
        )
        .select_related(
            "filing", "filing__owner", "filing__province", "filing__submitted_by", "provider"
        )
        .first()
    )


def return_fields(data: dict[str, Any]) -> list[tuple[str, str]]:
    """``(path, label)`` of every field of the filing JSON ``data`` a first review may return
    (``stages.returnable_paths``), labelled in the active language for the console, e.g.
    ``("websites.0.homepage", "网站 1 · 首页网址")``."""
    return [(path, return_field_label(path)) for path in returnable_paths(data)]


def return_field_label(path: str) -> str:
    """A return's field (a dotted path into the filing JSON, SPEC §12) as people read it in
    the active language: ``"websites.0.homepage"`` → ``"网站 1 · 首页网址"``; empty for the
    whole application (``""``)."""
    parts = (path or "").split(".")
    if not parts[-1]:
        return ""
    name = str(FIELD_LABELS.get(dict(ACCESS_DIFF_FIELDS).get(parts[-1], parts[-1]), parts[-1]))
    services = {
        "websites": lambda n: _("Website %(number)d") % {"number": n},
        "apps": lambda n: _("App %(n)s") % {"n": n},
        "mini_programs": lambda n: _("Mini-program %(n)s") % {"n": n},
    }
    if parts[0] in services and len(parts) > 2 and parts[1].isdigit():
        section = services[parts[0]](int(parts[1]) + 1)
        if len(parts) == 5 and parts[2] == "accesses" and parts[3].isdigit():
            access = _("Access %(n)s") % {"n": int(parts[3]) + 1}
            section = f"{section} · {access}"
        elif len(parts) == 5 and parts[2] == "platforms" and parts[3].isdigit():
            platform = _("Platform %(n)s") % {"n": int(parts[3]) + 1}
            section = f"{section} · {platform}"
    elif parts[0] == "sponsor" and len(parts) == 3:
        section = _("Responsible person")
    else:
        section = _("Sponsor")
    return f"{section} · {name}"


def verification_record_for(user, application_id: int) -> Application:
    """The application ``application_id`` whose verification record (核验单) ``user`` may
    read, else ``Http404``: active staff of the provider that first-reviewed it, bureau staff
    of the filing's province and the ministry (their views require a verified second
    factor). Also ``Http404`` when it holds no record."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise Http404
    if user.role == user.Role.PROVIDER and user.provider_id:
        scope = Q(provider_id=user.provider_id)
    elif user.role == user.Role.BUREAU and user.province_id:
        scope = Q(filing__province_id=user.province_id)
    elif user.role == user.Role.MINISTRY:
        scope = Q()
    else:
        raise Http404
    application = (
        Application.objects.filter(scope, pk=application_id)
        .exclude(provider_record="")
        .select_related("filing")
        .first()
    )
    if application is None:
        raise Http404
    return application
