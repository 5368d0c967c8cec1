"""``{{ value|coded_message }}``: a stored coded message (``beian.coded``) in the reader's
language."""

from django import template

from beian.coded import render

register = template.Library()


@register.filter
def coded_message(value) -> str:
    return render(value) if value not in (None, "") else ""
