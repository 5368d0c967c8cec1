"""Values shown to people in their readable form (loaded in every template as a builtin)."""

from __future__ import annotations

from django import template

from beian.normalforms.apps import fingerprint_display as _fingerprint_display
from beian.normalforms.apps import public_key_short as _public_key_short
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


@register.filter
def fingerprint_display(value) -> str:
    """``{{ p.fingerprint|fingerprint_display }}``: a stored certificate fingerprint in colon
    notation (``88:74:26:…``)."""
    return _fingerprint_display(str(value)) if value else ""


@register.filter
def public_key_short(value) -> str:
    """``{{ p.public_key|public_key_short }}``: a stored public key shortened to its first 16
    and last 8 digits (``beian.normalforms.apps.public_key_short``)."""
    return _public_key_short(str(value)) if value else ""
