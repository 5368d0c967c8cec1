"""Values shown to people in their readable form (loaded in every template as a builtin)."""

from __future__ import annotations

from django import template

from beian.normalforms.domains import domain_unicode as _domain_unicode
from beian.normalforms.domains import url_unicode as _url_unicode

register = template.Library()


@register.filter
def domain_unicode(value) -> str:
    """``{{ domain|domain_unicode }}``: a stored A-label domain in Unicode (``中国``)."""
    return _domain_unicode(str(value)) if value else ""


@register.filter
def url_unicode(value) -> str:
    """``{{ homepage|url_unicode }}``: a URL with its host in Unicode."""
    return _url_unicode(str(value)) if value else ""


@register.filter
def domains_unicode(values) -> list[str]:
    """``{{ website.domains|domains_unicode|join:", " }}``: each domain in Unicode."""
    return [_domain_unicode(str(v)) for v in values or []]
