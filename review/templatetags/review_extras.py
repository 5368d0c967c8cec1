"""Labels for the codes stored in a filing (services, natures, provinces) on console pages."""

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from beian.audit import action_label, target_label
from beian.audit import audit_changes as recorded_changes
from filings.models import Application, Conflict, Filing
from filings.stages import CHECKLIST
from filings.templatetags.filings_tags import (
    location_label,
    reason_text,
    return_label,
    service_label,
    services_labels,
)

register = template.Library()


# Service labels, shared with the provider console.
register.filter("service_label", service_label)
register.filter("services_labels", services_labels)
register.filter("reason_text", reason_text)


@register.filter
def nature_label(code: str) -> str:
    try:
        return str(Filing.Nature(code).label)
    except ValueError:
        return code


@register.filter
def id_type_label(code: str) -> str:
    try:
        return str(Filing.IdType(code).label)
    except ValueError:
        return code


@register.filter
def conflict_field_label(code: str) -> str:
    try:
        return str(Conflict.Field(code).label)
    except ValueError:
        return code


@register.filter
def status_label(code: str) -> str:
    try:
        return str(Filing.Status(code).label)
    except ValueError:
        return code


# A server location's name, shared with the provider console.
register.simple_tag(takes_context=True, name="location_label")(location_label)


@register.filter
def audit_action(code: str) -> str:
    """The console's name for a recorded action code."""
    return action_label(code)


@register.filter
def audit_target(target_type: str) -> str:
    return target_label(target_type)


@register.filter
def audit_changes(entry) -> list:
    """The fields an audit row changed, as ``label: before → after`` items, filing statuses
    by their names."""
    return recorded_changes(entry, value_labels=_VALUE_LABELS)


def _checks(ticked: list) -> str:
    return f"{len(ticked)}/{len(CHECKLIST)}"


def _returns(items: list) -> str:
    return "; ".join(
        f"{return_label(i.get('field', ''))}: {reason_text(i.get('reason', ''))}".strip(": ")
        for i in items
        if isinstance(i, dict)
    )


def _local_time(value: str) -> str:
    moment = parse_datetime(str(value))
    if moment is None:
        return str(value)
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _application(value) -> str:
    return f"#{value}"


def _kind(value) -> str:
    kinds = dict(Application.Kind.choices)
    return str(kinds.get(value, value))


# How the codes an audit row keeps read on the console (SPEC §4, §12).
_VALUE_LABELS = {
    "status": status_label,
    "checklist": _checks,
    "returns": _returns,
    "expires": _local_time,
    "application": _application,
    "kind": _kind,
    "withdrawn": _kind,
}
