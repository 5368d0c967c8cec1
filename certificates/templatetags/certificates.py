"""Panels other apps' pages drop in: ``{% load certificates %}{% certificate_task_panel filing %}``
on the owner's task list (and the provider console), ``{% certificate_staff_panel filing %}`` on
the bureau's filing page."""

from django import template

from certificates.selectors import current_certificate, latest_checks, may_download

register = template.Library()


def _base(context, filing) -> dict:
    certificate = current_certificate(filing=filing) if filing is not None else None
    request = context.get("request")
    return {
        "filing": filing,
        "certificate": certificate,
        "checks": latest_checks(filing=filing) if certificate else [],
        "csrf_token": context.get("csrf_token"),
        "request": request,
        "next_url": request.get_full_path() if request is not None else "",
    }


@register.inclusion_tag("certificates/includes/task_panel_body.html", takes_context=True)
def certificate_task_panel(context, filing):
    data = _base(context, filing)
    user = context.get("user") or getattr(context.get("request"), "user", None)
    data["may_download"] = bool(
        filing is not None and user is not None and may_download(user=user, filing=filing)
    )
    return data


@register.inclusion_tag("certificates/includes/staff_panel_body.html", takes_context=True)
def certificate_staff_panel(context, filing):
    return _base(context, filing)
