from django import template
from django.utils.translation import gettext as _

from beian.models import Province
from filings.models import Access, Identifier, Website
from filings.reasons import reason_in_language
from filings.selectors import return_field_label

register = template.Library()


@register.filter
def get(mapping, key):
    """``errs|get:"f-sponsor-name"``: a dict item by a computed key (empty when missing)."""
    if not isinstance(mapping, dict):
        return ""
    return mapping.get(key, "")


@register.simple_tag
def field_id(*parts):
    """``{% field_id "f-websites" index "preapprovals" k %}`` → ``f-websites-0-preapprovals-1``."""
    return "-".join(str(p) for p in parts)


@register.simple_tag(takes_context=True)
def location_label(context, code: str) -> str:
    """A server location: a province name, or "outside mainland China" for ``other``."""
    if not code:
        return "—"
    if code == Access.OTHER_LOCATION:
        return _("other (outside mainland China)")
    names = context.get("_province_names")
    if names is None:
        # One query per page, however many websites it shows, in the page's language.
        names = {p.code: p.display_name for p in Province.objects.only("code", "name", "name_en")}
        context.dicts[0]["_province_names"] = names
    return names.get(code, code)


@register.filter
def return_label(path: str) -> str:
    """``{{ item.field|return_label }}``: a return's field as people read it
    (``selectors.return_field_label``)."""
    return return_field_label(path)


@register.filter
def reason_text(reason: str) -> str:
    """``{{ item.reason|reason_text }}``: a stored return or revocation reason in the reader's
    language when the portal wrote it, as typed otherwise (``filings.reasons``)."""
    return reason_in_language(reason)


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
def platform_label(code: str) -> str:
    """``{{ p.platform|platform_label }}``: an app's platform or a mini-program's host as
    people read it (``android`` → Android, ``wechat`` → 微信)."""
    try:
        return str(Identifier.Platform(code).label)
    except ValueError:
        return code or ""
