"""Labels for the codes stored in a filing (services, natures, provinces) on console pages."""

from django import template
from django.utils.translation import gettext as _

from beian.audit import action_label, target_label
from beian.audit import audit_changes as recorded_changes
from beian.models import Province
from filings.models import Conflict, Filing, Website

register = template.Library()


@register.filter
def service_label(code: str) -> str:
    try:
        return str(Website.Service(code).label)
    except ValueError:
        return code


@register.filter
def services_labels(codes) -> str:
    return "、".join(service_label(c) for c in codes or [])


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


@register.simple_tag(takes_context=True)
def location_label(context, code: str) -> str:
    """A server location: a province name, or "outside mainland China" for ``other``."""
    if not code:
        return "—"
    if code == Website.OTHER_LOCATION:
        return _("other (outside mainland China)")
    names = context.get("_province_names")
    if names is None:
        # One query per page, however many websites it shows, in the page's language.
        names = {p.code: p.display_name for p in Province.objects.only("code", "name", "name_en")}
        context.dicts[0]["_province_names"] = names
    return names.get(code, code)


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
    return recorded_changes(entry, value_labels={"status": status_label})
