"""Reads for access providers: who a filing concerns, clients, gating, tokens, deliveries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

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


def approved_website(*, website=None, number=None) -> Website | None:
    """The approved website (numbered, of a filed record) with the id ``website`` or the
    website number ``number`` (any dash, as typed), with its filing; None when there is none."""
    rows = Website.objects.select_related("filing").exclude(number=None)
    if website not in (None, ""):
        try:
            return rows.filter(pk=int(website), filing__first_approved_at__isnull=False).first()
        except (TypeError, ValueError):
            return None
    if isinstance(number, str) and number.strip():
        parsed = parse_filing_number(number)
        if parsed is None or parsed.website is None:
            return None
        return rows.filter(number=parsed.website).first()
    return None


def approved_website_by_number(typed: str) -> Website:
    """The approved website with the website number ``typed`` (…号-n, any dash, as typed),
    with its filing. Raises ``FilingInvalid`` on ``website_number`` when ``typed`` is not a
    website number or no approved website has it."""
    number = parse_filing_number(typed)
    if number is None or number.website is None:
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
    website = approved_website(number=number.website)
    if website is None:
        raise FilingInvalid(
            {
                "website_number": [
                    _("No approved website has the number %(number)s.") % {"number": number.website}
                ]
            }
        )
    return website


def provider_access_website(provider_id: int | None, website) -> Website | None:
    """The numbered website with the id ``website`` when the provider ``provider_id`` holds an
    access to it, in force (the published copy) or in the working copy (SPEC §12), with its
    filing; None otherwise."""
    if provider_id is None:
        return None
    try:
        pk = int(website)
    except (TypeError, ValueError):
        return None
    found = Website.objects.select_related("filing").filter(pk=pk).exclude(number=None).first()
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


class AccessListing:
    """A provider's accesses in force as one list to paginate: those of records with an
    application open first (read from the approved copy), then the rest, whose working copy
    is the approved one, by website number (one query a page)."""

    def __init__(self, first: list[AccessRow], rest: QuerySet[Access]):
        self.first = first
        self.rest = rest

    def count(self) -> int:
        return len(self.first) + self.rest.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[AccessRow]:
        start, stop = key.start or 0, key.stop
        rows = self.first[start:stop]
        rest_start = max(start - len(self.first), 0)
        rest_stop = None if stop is None else max(stop - len(self.first), 0)
        if rest_stop is None or rest_stop > rest_start:
            rows += [_row(access) for access in self.rest[rest_start:rest_stop]]
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


def _changing_filings() -> QuerySet[Filing]:
    """Approved records with an application open: their working copy is the application's,
    their approved data the published copy and the last approved version."""
    return Filing.objects.filter(Filing.filed_q()).exclude(status=Filing.Status.APPROVED)


def _in_force_while_changing(provider_id: int) -> list[AccessRow]:
    """The provider's accesses in force on records with an application open, each with what
    that application does to it, by website number."""
    published = PublishedWebsite.objects.filter(filing__in=_changing_filings())
    if connection.vendor == "postgresql":
        published = published.filter(access_providers__contains=[provider_id])
    held = [
        (filing_id, number, name, accesses)
        for filing_id, number, name, providers, accesses in published.values_list(
            "filing_id", "website_number", "website_name", "access_providers", "accesses"
        )
        if provider_id in _ids(providers)
    ]
    if not held:
        return []
    filing_ids = {filing_id for filing_id, _number, _name, _accesses in held}
    approved: dict[tuple[int, str], list[dict]] = {}
    seen: set[int] = set()
    for filing_id, data in (
        FilingVersion.objects.filter(filing_id__in=filing_ids, kind=FilingVersion.Kind.APPROVED)
        .order_by("filing_id", "-seq")
        .values_list("filing_id", "data")
    ):
        if filing_id in seen:
            continue
        seen.add(filing_id)
        for website in data.get("websites") or []:
            approved[(filing_id, website.get("number"))] = website_accesses(website)
    current: dict[tuple[int, str], list[dict]] = {}
    for filing_id, number, method, location, ips in Access.objects.filter(
        filing_id__in=filing_ids, provider_id=provider_id
    ).values_list("filing_id", "website__number", "method", "server_location", "ips"):
        current.setdefault((filing_id, number), []).append(
            {"method": method, "server_location": location, "ips": ips}
        )
    applications = {
        a.filing_id: a
        for a in Application.objects.filter(filing_id__in=filing_ids, closed_at__isnull=True)
    }
    rows = []
    for filing_id, number, name, published_accesses in sorted(held, key=lambda h: h[1]):
        key = (filing_id, number)
        now = current.get(key, [])
        mine = [a for a in approved.get(key, []) if a.get("provider") == provider_id]
        if not mine:
            # Approved before versions were kept: the published accesses (without their
            # addresses), those of the working copy when it has them unchanged.
            published_mine = [
                a for a in _ids(published_accesses) if a.get("provider") == provider_id
            ]
            same = [
                a
                for a in now
                if (a["method"], a["server_location"])
                in {(p.get("method"), p.get("server_location")) for p in published_mine}
            ]
            mine = same or published_mine
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
                application=applications.get(filing_id),
                effect=effect,
            )
            for access in mine
        )
    return rows


def provider_accesses(provider: AccessProvider) -> AccessListing:
    """``provider``'s accesses in force (SPEC §12: the approved data, as gating reads it) to
    numbered websites, as ``AccessRow``s to paginate: first those of records with an
    application open, each with what the application does to it (its cancellation on its
    way, say), then the others by website number. An access only applied for is not one of
    them (``provider_access_applications``)."""
    rest = (
        Access.objects.filter(provider=provider, filing__status=Filing.Status.APPROVED)
        .exclude(website__number=None)
        .select_related("website")
        .order_by("website__number", "id")
    )
    return AccessListing(_in_force_while_changing(provider.pk), rest)


def provider_access_applications(
    provider: AccessProvider, *, in_force: list[AccessRow] | None = None
) -> list[AccessRow]:
    """``provider``'s accesses on their way (SPEC §12): those the working copy of a record
    with an application open gives it on a numbered website where it holds none in force (a
    new access, or an amendment adding it), each with that application, by website number.
    ``in_force``: the provider's accesses in force on records with an application open, when
    already read (``provider_accesses(…).first``)."""
    if in_force is None:
        in_force = _in_force_while_changing(provider.pk)
    held = {(row.filing_id, row.website_number) for row in in_force}
    accesses = (
        Access.objects.filter(provider=provider, filing__in=_changing_filings())
        .exclude(website__number=None)
        .select_related("website")
        .order_by("website__number", "id")
    )
    pending = [a for a in accesses if (a.filing_id, a.website.number) not in held]
    applications = {
        a.filing_id: a
        for a in Application.objects.filter(
            filing_id__in={a.filing_id for a in pending}, closed_at__isnull=True
        ).select_related("submitted_by")
    }
    return [
        _row(access, application=applications.get(access.filing_id), effect="adds")
        for access in pending
    ]


def is_only_access(website: Website) -> bool:
    """Whether ``website`` has one access left in its working copy: withdrawing it leaves an
    empty shell (空壳网站, SPEC §12)."""
    return Access.objects.filter(website=website).count() == 1
