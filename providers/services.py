"""Access-provider actions (SPEC §6): notifications, tokens, webhook settings, client resets.

Imports live in ``providers/imports.py`` (rows) and ``providers/import_jobs.py`` (writing them);
the gating lookup in ``providers/gating.py``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AccessProvider, User
from accounts.notifications import provider_email
from accounts.passwords import INITIAL_PASSWORD_LENGTH, random_password
from beian.audit import audit
from beian.celery import app as celery_app
from beian.delivery import queue_emails
from beian.outbound import literal_address_refused
from beian.outbox import enqueue_after_commit
from filings.changes import access_cancel
from filings.errors import FilingError, FilingInvalid
from filings.models import Access, Domain, Filing, Website
from filings.serializers import access_as_json

from .models import ApiToken, WebhookDelivery
from .selectors import (
    access_withdrawal_website,
    is_only_access,
    providers_of_filing,
)
from .webhooks import SEND_WEBHOOK_TASK, normal_url

EVENTS = tuple(WebhookDelivery.Event.values)


# Organisations ------------------------------------------------------------------------------


@transaction.atomic
def provider_create(
    *,
    name: str,
    licence_number: str,
    email: str,
    phone: str,
    contact_name: str = "",
    provinces=(),
    kind: str = AccessProvider.Kind.ACCESS,
    by: User | None = None,
) -> AccessProvider:
    """Register a provider (the ministry, from the admin or ``createprovider``). ``kind``
    (``AccessProvider.Kind``): an access provider (the default), a distribution platform (an
    app store or mini-program host, SPEC §13) or both. Raises ``ValidationError`` keyed by
    field (``kind`` for an unknown kind)."""
    if kind not in AccessProvider.KIND_FLAGS:
        raise ValidationError(
            {
                "kind": [
                    _("Choose one of: %(kinds)s.")
                    % {"kinds": ", ".join(AccessProvider.Kind.values)}
                ]
            }
        )
    serves, distributes = AccessProvider.KIND_FLAGS[kind]
    provider = AccessProvider(
        name=(name or "").strip(),
        licence_number=(licence_number or "").strip(),
        email=(email or "").strip(),
        phone=(phone or "").strip(),
        contact_name=(contact_name or "").strip(),
        is_access_provider=serves,
        is_distribution_platform=distributes,
    )
    provider.full_clean()
    provider.save()
    provider.provinces.set(provinces)
    audit(
        actor=by,
        action="provider.create",
        target=provider,
        after={
            "name": provider.name,
            "licence_number": provider.licence_number,
            "kind": provider.kind,
        },
    )
    return provider


# Notifications ------------------------------------------------------------------------------


def filing_event_body(*, filing: Filing, event: str, delivery_id: uuid.UUID) -> dict:
    """The webhook body: the event and the filing's public data (numbers, websites, domains)."""
    domains: dict[int, list[str]] = {}
    for website_id, name in (
        Domain.objects.filter(filing=filing)
        .order_by("position", "id")
        .values_list("website_id", "name")
    ):
        domains.setdefault(website_id, []).append(name)
    accesses: dict[int, list[dict]] = {}
    for access in Access.objects.filter(filing=filing).order_by("position", "id"):
        accesses.setdefault(access.website_id, []).append(access_as_json(access))
    websites = []
    for w in Website.objects.filter(filing=filing).order_by("position", "id"):
        shown = accesses.get(w.id, [])
        websites.append(
            {
                "id": w.pk,
                "number": w.number,
                "name": w.name,
                "homepage": w.homepage,
                "domains": domains.get(w.id, []),
                "access_provider": next(
                    (a["provider"] for a in shown if isinstance(a["provider"], int)), None
                ),
                "accesses": shown,
            }
        )
    return {
        "id": str(delivery_id),
        "event": event,
        "occurred_at": timezone.now().isoformat(),
        "filing": {
            "id": filing.pk,
            "number": filing.number,
            "status": filing.status,
            "province": filing.province_id,
            "sponsor_name": filing.sponsor_name,
            "filed_by_provider": filing.filed_by_provider_id,
            "websites": websites,
        },
    }


# Events told with their own email; the changes of one access or website (SPEC §12) share one.
OWN_EMAIL_EVENTS = ("approved", "amended", "revoked")


@transaction.atomic
def notify_filing_event(
    *, filing: Filing, event: str, also: list[int] | tuple[int, ...] = ()
) -> list[WebhookDelivery]:
    """Tell every provider the filing is under (``providers_of_filing``), and the active
    providers ``also`` names (ids: those whose access the change ended), of ``event``
    (``WebhookDelivery.Event``): an email and, where a webhook URL is set, a signed webhook.

    Called inside the decision's transaction: the emails and webhook rows commit with it, and
    sending starts only after commit. Raises ``ValueError`` for an unknown event.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown filing event {event!r}")
    deliveries = []
    emails = []
    body_data = None
    providers = providers_of_filing(filing)
    known = {p.pk for p in providers}
    extra = [p for p in also if p not in known]
    if extra:
        providers += list(AccessProvider.objects.filter(pk__in=extra, is_active=True))
    template = f"provider_filing_{event}" if event in OWN_EMAIL_EVENTS else "provider_filing_change"
    for provider in providers:
        emails.append(
            provider_email(
                provider,
                template,
                {
                    "provider": provider,
                    "filing": filing,
                    "event": event,
                    "event_label": WebhookDelivery.Event(event).label,
                },
            )
        )
        if not provider.webhook_url:
            continue
        key = uuid.uuid4()
        if body_data is None:
            body_data = filing_event_body(filing=filing, event=event, delivery_id=key)
        body = json.dumps({**body_data, "id": str(key)}, ensure_ascii=False).encode()
        delivery = WebhookDelivery.objects.create(
            provider=provider,
            filing=filing,
            event=event,
            url=provider.webhook_url,
            body=body,
            idempotency_key=key,
        )
        deliveries.append(delivery)
    queue_emails(emails)
    _enqueue_deliveries_after_commit(deliveries)
    return deliveries


def _enqueue_deliveries_after_commit(deliveries: list[WebhookDelivery]) -> None:
    # By the task's name, so that providers.tasks may import the services. A broker outage
    # does not fail the decision that caused the delivery: the sweeper sends it.
    enqueue_after_commit(
        celery_app.signature(SEND_WEBHOOK_TASK), WebhookDelivery, [d.pk for d in deliveries]
    )


@transaction.atomic
def webhook_redeliver(*, delivery: WebhookDelivery, by: User) -> WebhookDelivery:
    """Queue a failed delivery again (same body and id, fresh attempts)."""
    _check_provider_staff(by, delivery.provider)
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status != WebhookDelivery.Status.FAILED:
        return delivery
    delivery.status = WebhookDelivery.Status.QUEUED
    delivery.attempts = 0
    delivery.save(update_fields=["status", "attempts", "updated_at"])
    audit(actor=by, action="provider.webhook_redeliver", target=delivery)
    _enqueue_deliveries_after_commit([delivery])
    return delivery


@transaction.atomic
def webhook_settings_update(
    *, provider: AccessProvider, by: User, url: str, new_secret: bool = False
) -> tuple[AccessProvider, str | None]:
    """Set (or clear) the webhook URL; returns the new secret when one was generated.

    A secret is generated the first time a URL is set, or on request; it is shown once.
    """
    _check_provider_staff(by, provider)
    url = (url or "").strip()
    if url:
        try:
            url = normal_url(url)
            URLValidator(schemes=["http", "https"])(url)
        except (ValueError, ValidationError) as exc:
            raise ValidationError(
                {"webhook_url": _("Enter a full http:// or https:// address.")}
            ) from exc
        if settings.PRODUCTION and not url.startswith("https://"):
            raise ValidationError(
                {"webhook_url": _("Use an https:// address: the body carries filing data.")}
            )
        if urlsplit(url).port not in (None, 80, 443):
            raise ValidationError(
                {
                    "webhook_url": _(
                        "Webhooks are sent to ports 80 and 443 only: leave the port out of the "
                        "address."
                    )
                }
            )
        refused = literal_address_refused(
            url,
            allow_private=settings.PROVIDER_WEBHOOK_ALLOW_PRIVATE,
            resolve_overrides=settings.PROVIDER_WEBHOOK_RESOLVE,
        )
        if refused is not None:
            raise ValidationError(
                {
                    "webhook_url": _(
                        "Webhooks are sent to public addresses only: %(address)s is not one."
                    )
                    % {"address": refused}
                }
            )
    provider = AccessProvider.objects.select_for_update().get(pk=provider.pk)
    before = {"webhook_url": provider.webhook_url}
    secret = None
    if url and (new_secret or not provider.webhook_secret):
        secret = "whsec_" + secrets.token_urlsafe(32)
        provider.webhook_secret = secret
    provider.webhook_url = url
    provider.save(update_fields=["webhook_url", "webhook_secret"])
    audit(
        actor=by,
        action="provider.webhook_settings",
        target=provider,
        before=before,
        after={"webhook_url": url, "secret_changed": secret is not None},
    )
    return provider, secret


# Tokens -------------------------------------------------------------------------------------


def hash_key(key: str) -> str:
    """The stored form of an API token key: its SHA-256 as 64 hexadecimal characters (keys
    are 256-bit random, so an unsalted fast hash suffices; only the hash is kept)."""
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_issue(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new named token for a provider staff member; the key is returned here only."""
    if user.role != User.Role.PROVIDER or user.provider_id is None:
        raise PermissionDenied
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name, like “gating server”.")})
    if len(name) > 64:
        raise ValidationError({"name": _("Use at most 64 characters.")})
    key = ApiToken.PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, key_hash=hash_key(key), key_prefix=key[:10]
    )
    audit(actor=user, action="provider.token_create", target=token, after={"name": name})
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    """Revoke one of the caller's own tokens (404 for anyone else's, in the view)."""
    if token.user_id != by.pk:
        raise PermissionDenied
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit(actor=by, action="provider.token_revoke", target=token, after={"name": token.name})
    return token


def api_token_touch(token: ApiToken) -> None:
    """Record use, at most once a minute (one UPDATE, no row lock)."""
    now = timezone.now()
    if token.last_used_at and now - token.last_used_at < timedelta(minutes=1):
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


# Client accounts ------------------------------------------------------------------------------


def initial_password() -> str:
    """A random initial password for a client account: ``accounts.passwords.random_password``
    of 14 characters (about 81 bits), as the cheap hasher of ``set_initial_password`` needs."""
    return random_password(INITIAL_PASSWORD_LENGTH)


def set_initial_password(user: User, raw: str) -> None:
    """Hash with the cheap initial-password hasher (see ``providers/hashers.py``)."""
    user.password = make_password(raw, hasher="pbkdf2_initial")
    user.password_is_initial = True


@transaction.atomic
def client_password_reset(*, client: User, by: User) -> str:
    """The provider that imported an account resets it while it still has its initial
    password (Q12); afterwards only the bureau can. Returns the new initial password.

    Raises ``PermissionDenied`` for an account the provider did not import, and
    ``ValidationError`` for a closed (deactivated) account or one past its initial password.
    """
    provider = by.provider
    _check_provider_staff(by, provider)
    client = User.objects.select_for_update().get(pk=client.pk)
    if client.imported_by_id != provider.pk or client.role != User.Role.OWNER:
        raise PermissionDenied
    if not client.is_active:
        raise ValidationError(
            _(
                "This client's account is closed (deactivated, as when its filing is revoked), "
                "so it has no password to reset. To file again the client registers a new "
                "account or is imported again."
            )
        )
    if not client.password_is_initial:
        raise ValidationError(
            _(
                "This client has already chosen their own password. Only the communications "
                "administration of the filing's province can reset it now."
            )
        )
    raw = initial_password()
    set_initial_password(client, raw)
    client.save(update_fields=["password", "password_is_initial"])
    audit(
        actor=by,
        action="provider.client_password_reset",
        target=client,
        note=f"{provider.name}",
        province=getattr(getattr(client, "filing", None), "province_id", None),
    )
    return raw


def _check_provider_staff(user: User, provider: AccessProvider | None) -> None:
    if (
        provider is None
        or not user.is_active
        or user.role != User.Role.PROVIDER
        or user.provider_id != provider.pk
        or not provider.is_active
    ):
        raise PermissionDenied


# Withdrawing accesses (取消接入, SPEC §12) -----------------------------------------------------


@dataclass(frozen=True)
class AccessWithdrawal:
    """One withdrawal a provider's staff asks for: the website number as typed (…号-n, any
    dash), the reason, and the line of the CSV file it came from (0 for a form)."""

    website_number: str
    reason: str
    line: int = 0


@dataclass
class AccessWithdrawalResult:
    """A withdrawal's answer. ``outcome``: ``applied`` (a ``cancel_access`` application sent
    to the bureau), ``cancelled`` (taken effect at once, ``PROVIDER_ACCESS_CANCEL_AT_ONCE``) or
    ``error``; ``errors`` keyed ``website_number``, ``reason`` or ``""`` (the row);
    ``last_access`` when it was the website's only access (it becomes an empty shell)."""

    withdrawal: AccessWithdrawal
    outcome: str
    website: Website | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    last_access: bool = False


def _withdrawal_errors(exc: FilingError) -> dict[str, list[str]]:
    if not isinstance(exc, FilingInvalid):
        return {"": [exc.message]}
    keys = {"website": "website_number", "provider": "website_number", "reason": "reason"}
    errors: dict[str, list[str]] = {}
    for key, messages in exc.errors.items():
        errors.setdefault(keys.get(key, ""), []).extend(str(m) for m in messages)
    return errors


def _withdraw(by: User, withdrawal: AccessWithdrawal) -> AccessWithdrawalResult:
    website, problems = access_withdrawal_website(by.provider_id, withdrawal.website_number)
    if problems or website is None:
        return AccessWithdrawalResult(withdrawal, "error", website=website, errors=problems)
    last_access = is_only_access(website)
    try:
        with transaction.atomic():  # the row's savepoint
            filing = access_cancel(
                filing=website.filing, by=by, website=website.pk, reason=withdrawal.reason
            )
    except FilingError as exc:
        return AccessWithdrawalResult(
            withdrawal, "error", website=website, errors=_withdrawal_errors(exc)
        )
    except (PermissionDenied, ValidationError) as exc:
        messages = getattr(exc, "messages", None) or [_("You may not withdraw this access.")]
        return AccessWithdrawalResult(
            withdrawal, "error", website=website, errors={"": [str(m) for m in messages]}
        )
    outcome = "cancelled" if filing.status == Filing.Status.APPROVED else "applied"
    return AccessWithdrawalResult(withdrawal, outcome, website=website, last_access=last_access)


@transaction.atomic
def provider_access_withdraw_many(
    *, by: User, withdrawals: list[AccessWithdrawal]
) -> list[AccessWithdrawalResult]:
    """Withdraw accesses of the provider of its staff ``by`` (取消接入, SPEC §12), one
    ``filings.changes.access_cancel`` each, in list order; a single withdrawal is a list of
    one. Each runs in its own savepoint, so one refused leaves the others standing; what is
    sent on (messages, webhooks) is handed over once all are written. A provider withdraws
    only its own accesses: another's is refused on ``website_number``.

    Returns one ``AccessWithdrawalResult`` per withdrawal, in order; raises nothing for a
    row's problem. Raises ``PermissionDenied`` unless ``by`` is staff of a provider."""
    if by.role != User.Role.PROVIDER or by.provider_id is None:
        raise PermissionDenied
    return [_withdraw(by, withdrawal) for withdrawal in withdrawals]
