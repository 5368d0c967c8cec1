"""Reads for access providers: who a filing concerns, clients, gating, tokens, deliveries."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import AccessProvider, User
from beian.normalforms.domains import domain_for_lookup
from beian.normalforms.filing_numbers import parse_filing_number
from beian.normalforms.names import name_key
from beian.normalforms.text import folded, unreadable_text_code
from filings.errors import FilingInvalid
from filings.models import Access, Filing, Website

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
    """The website with the id ``website`` when the provider ``provider_id`` holds an access
    to it in the working copy (SPEC §12), with its filing; None otherwise."""
    if provider_id is None:
        return None
    try:
        pk = int(website)
    except (TypeError, ValueError):
        return None
    return (
        Website.objects.select_related("filing")
        .filter(pk=pk, accesses__provider_id=provider_id)
        .exclude(number=None)
        .first()
    )


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


def provider_accesses(provider: AccessProvider) -> QuerySet[Access]:
    """``provider``'s accesses to numbered websites in the working copies (SPEC §12), with
    their websites and filings (one query), by website number."""
    return (
        Access.objects.filter(provider=provider)
        .exclude(website__number=None)
        .select_related("website", "filing")
        .order_by("website__number", "id")
    )


def is_only_access(website: Website) -> bool:
    """Whether ``website`` has one access left in its working copy: withdrawing it leaves an
    empty shell (空壳网站, SPEC §12)."""
    return Access.objects.filter(website=website).count() == 1
