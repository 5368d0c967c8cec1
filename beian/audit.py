"""The audit log: one row per staff action, written in the action's own transaction."""

from __future__ import annotations

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from .models import AuditLog, Province


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
