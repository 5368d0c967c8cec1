"""Reads for access providers: who a filing concerns, clients, gating, tokens, deliveries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import AccessProvider, User
from beian.normalforms.domains import domain_for_lookup
from beian.normalforms.filing_numbers import parse_filing_number
from beian.normalforms.names import name_key
from beian.normalforms.text import folded, unreadable_text_code
from filings.errors import FilingInvalid
from filings.models import (
    Access,
    Application,
    Filing,
    FilingVersion,
    PublishedWebsite,
    Website,
)
from filings.validation import website_accesses

from .models import ApiToken, ImportJob, WebhookDelivery


def providers_of_filing(filing: Filing) -> list[AccessProvider]:
    """The active providers a filing is "under" (docs/decisions.md): the provider that filed it
    for its client, and every registered provider holding an access to one of its websites
    (SPEC §12)."""
    access_providers = Access.objects.filter(filing=filing, provider__isnull=False)
    return list(
        AccessProvider.objects.filter(is_active=True)
        .filter(
            Q(pk=filing.filed_by_provider_id) | Q(pk__in=access_providers.values("provider_id"))
        )
        .order_by("id")
    )


def provider_for_initial_password_account(user: User) -> AccessProvider | None:
    """The provider to name on the forgotten-password page (Q11, Q12): the one that imported
    this account, while the account still has the initial password it was given."""
    if user.origin != User.Origin.IMPORT or not user.password_is_initial:
        return None
    return user.imported_by


def client_filings(
    *,
    provider: AccessProvider,
    status: str = "",
    conflicts: bool | None = None,
    q: str = "",
) -> QuerySet[Filing]:
    """The filings this provider submitted for its clients, newest deadline first."""
    rows = (
        Filing.objects.filter(filed_by_provider=provider)
        .select_related("owner", "province")
        .order_by("-submitted_at", "-id")
    )
    if status:
        rows = rows.filter(status=status)
    if conflicts is not None:
        rows = rows.filter(has_open_conflicts=conflicts)
    if q and unreadable_text_code(q):
        return rows.none()  # text no record can hold (a control character) finds nothing
    if q:
        q = folded(q)
        number = parse_filing_number(q)
        match = (
            Q(owner__username__iexact=q)
            | Q(number=number.sponsor if number else q)
            | Q(sponsor_name_key__contains=name_key(q))
        )
        domain = domain_for_lookup(q)
        if domain:
            match |= Q(domains__name=domain)
        rows = rows.filter(match).distinct()
    return rows


def client_account(*, provider: AccessProvider, user_id: int) -> User | None:
    """The owner account ``user_id`` if ``provider`` imported it (its client, SPEC §6),
    else None: a provider never reaches another provider's clients or self-registered owners."""
    return User.objects.filter(pk=user_id, imported_by=provider, role=User.Role.OWNER).first()


def tokens_of(user: User) -> QuerySet[ApiToken]:
    """``user``'s API tokens, active ones first (revoked last), newest first within each."""
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at")


def deliveries_of(provider: AccessProvider) -> QuerySet[WebhookDelivery]:
    """``provider``'s webhook deliveries with their filings (one query), in the model's
    order, newest first."""
    return WebhookDelivery.objects.filter(provider=provider).select_related("filing")


def imports_of(provider: AccessProvider) -> QuerySet[ImportJob]:
    """``provider``'s import jobs with the staff member who started each (one query), in the
    model's order, newest first."""
    return ImportJob.objects.filter(provider=provider).select_related("created_by")


# The services an access provider serves (SPEC §12, §13): a mini-program has no access.
SERVED_KINDS = ("website", "app")


def _served_number(parsed) -> str | None:
    """A parsed filing number's service number when it is a website's or an app's."""
    return parsed.service if parsed is not None and parsed.kind in SERVED_KINDS else None


def approved_website(*, website=None, number=None) -> Website | None:
    """The approved website or app (numbered, of a filed record) with the id ``website`` or
    the number ``number`` (…号-n or …号-nA, any dash, as typed), with its filing; None when
    there is none."""
    rows = (
        Website.every_kind.filter(kind__in=SERVED_KINDS)
        .select_related("filing")
        .exclude(number=None)
    )
    if website not in (None, ""):
        try:
            return rows.filter(pk=int(website), filing__first_approved_at__isnull=False).first()
        except (TypeError, ValueError):
            return None
    if isinstance(number, str) and number.strip():
        served = _served_number(parse_filing_number(number))
        if served is None:
            return None
        return rows.filter(number=served).first()
    return None


def approved_website_by_number(typed: str) -> Website:
    """The approved website (or app, SPEC §13) with the number ``typed`` (…号-n or …号-nA,
    any dash, as typed), with its filing. Raises ``FilingInvalid`` on ``website_number`` when
    ``typed`` is not a website's or an app's number or nothing approved has it."""
    served = _served_number(parse_filing_number(typed))
    if served is None:
        raise FilingInvalid(
            {
                "website_number": [
                    _(
                        "Enter a website number: the filing number and the website's place, "
                        "like 京ICP备2026000001号-1."
                    )
                ]
            }
        )
    website = approved_website(number=served)
    if website is None:
        raise FilingInvalid(
            {
                "website_number": [
                    _("No approved website has the number %(number)s.") % {"number": served}
                ]
            }
        )
    return website


def provider_access_website(provider_id: int | None, website) -> Website | None:
    """The numbered website (or app, SPEC §13) with the id ``website`` when the provider
    ``provider_id`` holds an access to it, in force (the published copy) or in the working
    copy (SPEC §12), with its filing; None otherwise."""
    if provider_id is None:
        return None
    try:
        pk = int(website)
    except (TypeError, ValueError):
        return None
    found = Website.every_kind.select_related("filing").filter(pk=pk).exclude(number=None).first()
    if found is None:
        return None
    if Access.objects.filter(website=found, provider_id=provider_id).exists():
        return found
    published = PublishedWebsite.objects.filter(
        filing_id=found.filing_id, website_number=found.number
    ).values_list("access_providers", flat=True)
    return found if any(provider_id in _ids(held) for held in published) else None


def access_withdrawal_website(
    provider_id: int | None, typed: str
) -> tuple[Website | None, dict[str, list[str]]]:
    """The approved website whose number ``typed`` is (…号-n, any dash, as typed) and whose
    access the provider ``provider_id`` may withdraw (SPEC §12), with no problems; else the
    website found (or None) and the problems, keyed ``website_number``: not a website
    number, no approved website with it, or no access of this provider to it."""
    try:
        website = approved_website_by_number(typed)
    except FilingInvalid as exc:
        return None, exc.errors
    if provider_access_website(provider_id, website.pk) is None:
        return website, {
            "website_number": [
                _(
                    "You hold no access to %(number)s: only the access provider serving a "
                    "website may withdraw its access."
                )
                % {"number": website.number}
            ]
        }
    return website, {}


def _ids(held: Any) -> list:
    """A published website's ``access_providers`` as the driver gives the JSON column: a list
    (PostgreSQL), or its text (SQLite)."""
    if isinstance(held, str):
        return json.loads(held or "[]")
    return held or []


@dataclass(frozen=True)
class AccessRow:
    """One access of a provider as its console lists it (SPEC §12): the website, the access
    (as approved for one in force, as applied for otherwise), and the record's open
    application, with what it does to this access: ``ends`` it (a cancellation of it, of its
    website, or an amendment without it), ``changes`` it, ``adds`` it, or none of these."""

    website_number: str
    website_name: str
    method: str
    server_location: str
    ips: list[str]
    filing_id: int
    application: Application | None = None
    effect: str = ""

    @property
    def method_label(self) -> str:
        return str(dict(Access.Method.choices).get(self.method, self.method))

    @property
    def in_force(self) -> bool:
        return self.effect != "adds"


#: How long a provider's count of accesses in force is kept at most for the console's pages.
ACCESS_COUNT_SECONDS = 600


def _access_count_key(provider_id: int) -> str:
    return f"provider:{provider_id}:accesses-in-force"


def forget_access_counts(sender, *, providers: list[int] = (), **kwargs) -> None:
    """Receiver of ``filings.publishing.published_data_changed`` (connected in
    ``ProvidersConfig.ready``): the counts of accesses in force of ``providers`` are stale."""
    if providers:
        cache.delete_many([_access_count_key(p) for p in providers])


class AccessListing:
    """A provider's accesses in force as one list to paginate (SPEC §12): its published
    websites by website number, read a page at a time (the page on the website number's
    index, the count, kept a minute, on ``published_access_providers_gin``), each page's rows
    then given their
    addresses and their record's open application in three more, whatever the page."""

    def __init__(self, provider_id: int):
        self.provider_id = provider_id
        self.published = _published_holding(provider_id)

    def count(self) -> int:
        # Counting a large provider's accesses reads every entry of the index (a quarter of a
        # second at 160,000): the count is kept until the published copy changes for this
        # provider (``forget_access_counts``), at most ``ACCESS_COUNT_SECONDS``.
        return cache.get_or_set(
            _access_count_key(self.provider_id), self.published.count, ACCESS_COUNT_SECONDS
        )

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[AccessRow]:
        page = list(
            self.published[key].values_list(
                "filing_id", "website_id", "website_number", "website_name", "accesses"
            )
        )
        return _in_force_rows(self.provider_id, page)


def _published_holding(provider_id: int) -> QuerySet[PublishedWebsite]:
    """The published websites where ``provider_id`` holds an approved access, by number."""
    published = PublishedWebsite.objects.order_by("website_number", "id")
    if connection.vendor == "postgresql":
        return published.filter(access_providers__contains=[provider_id])
    # SQLite (development) has no JSON containment: the few rows are read in Python.
    held = [
        pk
        for pk, providers in published.values_list("pk", "access_providers")
        if provider_id in _ids(providers)
    ]
    return published.filter(pk__in=held)


def _in_force_rows(provider_id: int, page: list[tuple]) -> list[AccessRow]:
    """The rows of one page of published websites ``(filing_id, website_id, number, name,
    published accesses)``: each access of ``provider_id`` as approved, with the record's open
    application and what it does to the access."""
    filing_ids = {filing_id for filing_id, *_rest in page}
    applications = {
        a.filing_id: a
        for a in Application.objects.filter(filing_id__in=filing_ids, closed_at__isnull=True)
    }
    current: dict[int, list[dict]] = {}
    for website_id, method, location, ips in Access.objects.filter(
        website_id__in={website_id for _f, website_id, *_rest in page if website_id},
        provider_id=provider_id,
    ).values_list("website_id", "method", "server_location", "ips"):
        current.setdefault(website_id, []).append(
            {"method": method, "server_location": location, "ips": ips}
        )
    approved: dict[tuple[int, str], list[dict]] = {}
    seen: set[int] = set()
    for filing_id, data in (
        FilingVersion.objects.filter(
            filing_id__in=set(applications), kind=FilingVersion.Kind.APPROVED
        )
        .order_by("filing_id", "-seq")
        .values_list("filing_id", "data")
    ):
        if filing_id in seen:
            continue
        seen.add(filing_id)
        for website in data.get("websites") or []:
            approved[(filing_id, website.get("number"))] = website_accesses(website)
    rows = []
    for filing_id, website_id, number, name, published_accesses in page:
        application = applications.get(filing_id)
        now = current.get(website_id, [])
        if application is None:
            # No application open: the working copy is the approved data.
            mine, effect = now, ""
        else:
            mine = [
                a for a in approved.get((filing_id, number), []) if a.get("provider") == provider_id
            ]
            if not mine:
                # Approved before versions were kept: the published accesses (without their
                # addresses), those of the working copy when it has them unchanged.
                published_mine = [
                    a for a in _ids(published_accesses) if a.get("provider") == provider_id
                ]
                kept = {(p.get("method"), p.get("server_location")) for p in published_mine}
                mine = [a for a in now if (a["method"], a["server_location"]) in kept]
                mine = mine or published_mine
            if not now:
                effect = "ends"
            elif sorted(map(_access_key, now)) != sorted(map(_access_key, mine)):
                effect = "changes"
            else:
                effect = ""
        rows.extend(
            AccessRow(
                website_number=number,
                website_name=name,
                method=access.get("method") or "",
                server_location=access.get("server_location") or "",
                ips=list(access.get("ips") or []),
                filing_id=filing_id,
                application=application,
                effect=effect,
            )
            for access in mine
        )
    return rows


def _row(access: Access, **extra) -> AccessRow:
    return AccessRow(
        website_number=access.website.number,
        website_name=access.website.name,
        method=access.method,
        server_location=access.server_location,
        ips=list(access.ips or []),
        filing_id=access.filing_id,
        **extra,
    )


def _access_key(access: dict[str, Any]) -> tuple:
    return (
        access.get("method") or "",
        access.get("server_location") or "",
        sorted(access.get("ips") or []),
    )


def provider_accesses(provider: AccessProvider) -> AccessListing:
    """``provider``'s accesses in force (SPEC §12: the approved data, as gating reads it) to
    numbered websites, by website number, as ``AccessRow``s to paginate; each with its
    record's open application and what that does to it (its cancellation on its way, say).
    An access only applied for is not one of them (``provider_access_applications``)."""
    return AccessListing(provider.pk)


#: The most new-access applications the console lists at once, newest first.
APPLIED_ACCESSES_SHOWN = 200


def provider_access_applications(provider: AccessProvider) -> list[AccessRow]:
    """``provider``'s new accesses on their way (新增接入, SPEC §12): the accesses at this
    provider in the working copy of records with an open ``new_access`` application that
    names it, on websites where it holds none in force, with that application, by website
    number; at most ``APPLIED_ACCESSES_SHOWN`` applications, the newest. Three statements,
    read on ``application_provider_idx``. Amendments and first filings naming the provider
    wait in its first-review queue instead."""
    applications = {
        a.filing_id: a
        for a in Application.objects.filter(
            provider=provider, closed_at__isnull=True, kind=Application.Kind.NEW_ACCESS
        )
        .select_related("submitted_by")
        .order_by("-submitted_at", "-id")[:APPLIED_ACCESSES_SHOWN]
    }
    accesses = (
        Access.objects.filter(provider=provider, filing_id__in=set(applications))
        .exclude(website__number=None)
        .select_related("website")
        .order_by("website__number", "id")
    )
    held = set(
        _published_holding(provider.pk)
        .filter(filing_id__in=set(applications))
        .values_list("website_number", flat=True)
    )
    return [
        _row(access, application=applications[access.filing_id], effect="adds")
        for access in accesses
        if access.website.number not in held
    ]


def is_only_access(website: Website) -> bool:
    """Whether ``website`` has one access left in its working copy: withdrawing it leaves an
    empty shell (空壳网站, SPEC §12)."""
    return Access.objects.filter(website=website).count() == 1
