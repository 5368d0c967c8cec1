from urllib.parse import urlencode

from django import template

from filings.models import Filing

from ..selectors import annual_review_status as _annual_review_status

register = template.Library()


@register.filter
def nature_label(code: str) -> str:
    """The translated label of a sponsor nature code (``enterprise`` → 企业)."""
    try:
        return Filing.Nature(code).label
    except ValueError:
        return code


@register.simple_tag
def annual_review_status(filing):
    return _annual_review_status(filing=filing)


@register.simple_tag
def querystring_q(q: str, page: int) -> str:
    """The query string of another result page: the query only, never a used captcha."""
    return urlencode({"q": q, "page": page})


@register.filter
def tel_href(phone: str) -> str:
    """A ``tel:`` target keeps only what a phone dials: ``010-1234 5678（总机）`` → ``010-12345678``."""
    return "".join(ch for ch in phone if ch.isdigit() or ch in "+-")
