"""The audit log: one row per staff action, written in the action's own transaction."""

from __future__ import annotations

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import AuditLog, Province

# What each recorded action is called on the console (the code stays in the data and exports).
ACTION_LABELS = {
    "filing.submit": _("filing submitted"),
    "filing.revocation_apply": _("revocation applied for"),
    "filing.withdraw": _("application withdrawn by the owner"),
    "filing.approve": _("filing approved"),
    "filing.approve_amendment": _("amendment approved"),
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
}
TARGET_LABELS = {
    "filings.filing": _("filing"),
    "accounts.user": _("account"),
    "certificates.certificate": _("certificate"),
    "providers.accessprovider": _("access provider"),
    "providers.apitoken": _("API token"),
    "providers.importjob": _("import"),
    "providers.webhookdelivery": _("webhook delivery"),
}


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


def target_label(target_type: str) -> str:
    return str(TARGET_LABELS.get(target_type, target_type))


def _jsonable(value: Any) -> Any:
    import json

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
