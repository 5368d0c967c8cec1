"""The audit log: one row per staff action, written in the action's own transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import AuditLog, Province

# What each recorded action is called on the console (the code stays in the data and exports).
ACTION_LABELS = {
    "filing.submit": _("filing submitted"),
    "filing.revocation_apply": _("revocation applied for"),
    "filing.withdraw": _("application withdrawn by the owner"),
    "application.provider_pass": _("first review passed by the access provider"),
    "application.provider_return": _("returned by the access provider"),
    "application.verified": _("SMS verification confirmed"),
    "application.verification_resend": _("new SMS verification code sent"),
    "application.verification_lapsed": _("SMS verification lapsed: returned"),
    "filing.approve": _("filing approved"),
    "filing.approve_amendment": _("amendment approved"),
    "access.cancel_at_once": _("access withdrawn by its provider, in effect at once"),
    "shell.cancel": _("empty shells cancelled after the notice period"),
    "shell.revoke": _("filing revoked: every website an empty shell past its notice"),
    "filing.reject": _("filing rejected"),
    "filing.reject_amendment": _("amendment rejected"),
    "filing.recheck": _("conflicts re-checked"),
    "filing.revoke": _("filing revoked by the bureau"),
    "revocation.approve": _("revocation approved"),
    "revocation.refuse": _("revocation refused"),
    "account.password_reset": _("password reset by the bureau"),
    "annual_review.confirm": _("annual review confirmed"),
    "certificate.issue": _("certificate issued"),
    "certificate.revoke": _("certificate revoked"),
    "provider.create": _("access provider created"),
    "provider.change": _("access provider changed"),
    "provider.staff_create": _("provider staff member added"),
    "provider.token_create": _("API token created"),
    "provider.token_revoke": _("API token revoked"),
    "provider.webhook_settings": _("webhook settings changed"),
    "provider.webhook_redeliver": _("webhook sent again"),
    "provider.client_password_reset": _("client password reset by the provider"),
    "provider.import_upload": _("import file uploaded"),
    "provider.import_client": _("client imported"),
    "provider.import_passwords_download": _("initial passwords downloaded"),
    "calendar.year_replace": _("holiday calendar of a year replaced"),
}
TARGET_LABELS = {
    "filings.filing": _("filing"),
    "accounts.user": _("account"),
    "certificates.certificate": _("certificate"),
    "accounts.accessprovider": _("access provider"),
    # Older audit rows name the organisation by its former app label.
    "providers.accessprovider": _("access provider"),
    "providers.apitoken": _("API token"),
    "providers.importjob": _("import"),
    "providers.webhookdelivery": _("webhook delivery"),
    "beian.calendarday": _("calendar"),
}


# What each recorded field is called, for "label: old → new" on the console.
FIELD_LABELS = {
    "status": _("status"),
    "number": _("filing number"),
    "review_deadline": _("review deadline"),
    "has_open_conflicts": _("open conflicts"),
    "conflicts": _("open conflicts"),
    "rejection_reason": _("rejection reason"),
    "revocation_reason": _("revocation reason"),
    "new_website_numbers": _("new website numbers"),
    "version": _("version"),
    "owner_active": _("owner account active"),
    "password_is_initial": _("temporary password"),
    "sms_to": _("sent by SMS to"),
    "superseded": _("certificates replaced"),
    "serial": _("certificate serial number"),
    "key_id": _("signing key"),
    "revoked": _("certificates revoked"),
    "name": _("name"),
    "licence_number": _("licence number"),
    "email": _("email"),
    "phone": _("phone"),
    "is_active": _("active"),
    "webhook_url": _("webhook URL"),
    "secret_changed": _("new signing secret"),
    "filing": _("filing"),
    "provider": _("access provider"),
    "username": _("username"),
    "filename": _("file"),
    "rows": _("rows"),
    "passwords": _("initial passwords"),
    "years": _("years"),
    "late": _("confirmed late"),
    "year": _("year"),
    "days": _("days stored"),
    "holidays": _("holidays"),
    "working_days": _("adjusted working days"),
    "application": pgettext_lazy("filing change", "application"),
    "checklist": _("first-review checks"),
    "returns": _("fields to change"),
    "expires": _("code valid until"),
    "withdrawn": _("withdrawn"),
    "kind": pgettext_lazy("filing change", "kind of application"),
    "empty_shells": _("websites left without access (empty shells)"),
    "cancelled": _("websites cancelled"),
    "websites": _("websites"),
}
# Long texts (reasons) are cut on the log; the filing page has them whole.
_LONGEST_VALUE = 80


@dataclass(frozen=True)
class FieldChange:
    """One changed field of an audit row: ``label: before → after`` (``before`` is None when
    the row records no earlier value)."""

    label: str
    before: str | None
    after: str


def _shown(key: str, value: Any, value_labels: Mapping[str, Callable[[Any], str]]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if key == "conflicts" and isinstance(value, list):
        return str(len(value))
    if key in value_labels:
        return str(value_labels[key](value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):
        return ", ".join(_shown(key, v, value_labels) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_shown(k, v, value_labels)}" for k, v in value.items())
    text = str(value)
    return text if len(text) <= _LONGEST_VALUE else text[: _LONGEST_VALUE - 1] + "…"


def audit_changes(
    entry: AuditLog, *, value_labels: Mapping[str, Callable[[Any], str]] | None = None
) -> list[FieldChange]:
    """The fields an audit row changed, each labelled in the active language and its values
    made readable (yes/no, counts, and through ``value_labels`` the codes of the apps that
    recorded them: ``{"status": label_of_a_status_code}``). Fields whose value stayed the same
    are left out; a row without ``before`` (a creation) lists what it recorded."""
    value_labels = value_labels or {}
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    changes = []
    for key in dict.fromkeys([*after, *before]):
        old, new = before.get(key), after.get(key)
        if key in before and key in after and old == new:
            continue
        label = str(FIELD_LABELS.get(key, key.replace("_", " ")))
        changes.append(
            FieldChange(
                label=label,
                before=_shown(key, old, value_labels) if key in before else None,
                after=_shown(key, new, value_labels),
            )
        )
    return changes


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


def target_label(target_type: str) -> str:
    return str(TARGET_LABELS.get(target_type, target_type))


def _jsonable(value: Any) -> Any:
    return None if value is None else json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def audit_entry(
    *,
    actor,
    action: str,
    target: models.Model,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
    province: Province | str | None = None,
    ip_address: str | None = None,
) -> AuditLog:
    """The unsaved row ``audit`` writes, for callers that insert many in one statement."""
    province_id = province.pk if isinstance(province, Province) else province
    return AuditLog(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        province_id=province_id,
        before=_jsonable(before),
        after=_jsonable(after),
        note=note,
        ip_address=ip_address,
    )


def audit(*, actor, action: str, target: models.Model, **details: Any) -> AuditLog:
    """Record ``action`` (e.g. ``"filing.approve"``) by ``actor`` on ``target``; ``details`` are
    those of ``audit_entry`` (before, after, note, province, ip_address)."""
    entry = audit_entry(actor=actor, action=action, target=target, **details)
    entry.save(force_insert=True)
    return entry
