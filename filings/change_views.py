"""The owner's pages for the changes of one part of an approved record (SPEC §12): a new access
for a website (新增接入), one access cancelled (取消接入), one website cancelled (注销网站).

Each page asks, shows every problem beside its field with what was typed kept, and hands the
request to ``filings.changes``, as the owner's API does.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from . import changes, selectors, wizard
from .errors import FilingError, FilingInvalid
from .models import Website
from .validation import OTHER
from .views import owner_page

# The request's fields and the ids of the inputs that show them (those of the wizard's
# website page, so that one partial serves both).
ACCESS_ANCHORS = {
    "provider": "f-w-access_provider",
    "method": "f-w-access_method",
    "server_location": "f-w-server_location",
    "ips": "f-w-ips",
    "website": "f-website",
    "reason": "f-reason",
}


def _approved_website(request, website_id: int) -> tuple:
    """The owner's filing and its approved website ``website_id`` with its accesses; 404 when
    the account has no filed record or the record no such website."""
    filing = selectors.owner_filing(request.user)
    if filing is None or not filing.is_filed:
        raise Http404
    website = (
        Website.objects.filter(filing=filing, pk=website_id)
        .exclude(number=None)
        .prefetch_related("accesses__provider")
        .first()
    )
    if website is None:
        raise Http404
    return filing, website


def _errors(exc: FilingInvalid) -> tuple[dict, list[dict]]:
    """The inputs' errors and the error summary's links, in the order of the page."""
    errs: dict[str, list[str]] = {}
    summary = []
    for field in ACCESS_ANCHORS:
        messages_ = exc.errors.get(field) or []
        if messages_:
            anchor = ACCESS_ANCHORS[field]
            errs[anchor] = [str(m) for m in messages_]
            summary.extend({"href": f"#{anchor}", "message": str(m)} for m in messages_)
    return errs, summary


def _apply(request, call, done: str):
    """Run the service ``call``: a redirect to the task list with ``done`` once it is sent,
    or with the refusal when the filing's state refuses it; ``(None, errs, summary)`` with
    every problem of the fields otherwise."""
    try:
        call()
    except FilingInvalid as exc:
        return (None, *_errors(exc))
    except FilingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("filings:task_list"), {}, []


@owner_page
def access_new(request, website_id: int):
    """Apply for another access to one approved website (新增接入)."""
    filing, website = _approved_website(request, website_id)
    typed = {"provider": None, "method": "", "server_location": "", "ips": []}
    errs: dict = {}
    summary: list = []
    status = 200
    query = ""
    if request.method == "POST":
        chosen = request.POST.get("access_provider") or None
        typed = {
            "provider": int(chosen) if chosen and chosen.isdigit() else chosen,
            "method": request.POST.get("access_method", ""),
            "server_location": request.POST.get("server_location", ""),
            "ips": request.POST.get("ips", ""),
        }
        if request.POST.get("action") == "search":
            query = request.POST.get("provider_query", "")
        else:
            response, errs, summary = _apply(
                request,
                lambda: changes.access_apply(
                    filing=filing,
                    by=request.user,
                    request=changes.AccessRequest(website=website.pk, access=typed),
                ),
                _(
                    "Your application for a new access to %(website)s is sent: the access "
                    "provider checks it first, then the responsible person confirms it by "
                    "SMS, then the bureau decides."
                )
                % {"website": website.number},
            )
            if response is not None:
                return response
            status = 400
    context = wizard.website_context(
        0,
        {"accesses": [typed]},
        {},
        show=False,
        query=query,
    )
    context.update(
        {
            "filing": filing,
            "target": website,
            "errs": errs,
            "error_summary": summary,
        }
    )
    return render(request, "filings/access_new.html", context, status=status)


@owner_page
def access_cancel(request, website_id: int, access_id: int):
    """Apply to cancel one access of an approved website (取消接入)."""
    filing, website = _approved_website(request, website_id)
    access = next((a for a in website.accesses.all() if a.pk == access_id), None)
    if access is None:
        raise Http404
    reason = ""
    errs: dict = {}
    summary: list = []
    status = 200
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        response, errs, summary = _apply(
            request,
            lambda: changes.access_cancel(
                filing=filing,
                by=request.user,
                website=website.pk,
                provider=access.provider_id if access.provider_id else OTHER,
                reason=reason,
            ),
            _("Your application to cancel the access is sent to the bureau of your province."),
        )
        if response is not None:
            return response
        status = 400
    return render(
        request,
        "filings/access_cancel.html",
        {
            "filing": filing,
            "target": website,
            "access": access,
            "last": website.accesses.count() == 1,
            "reason": reason,
            "errs": errs,
            "error_summary": summary,
        },
        status=status,
    )


@owner_page
def website_cancel(request, website_id: int):
    """Apply to cancel one approved website (注销网站); the last one is sent to revocation."""
    filing, website = _approved_website(request, website_id)
    last = not (
        Website.objects.filter(filing=filing).exclude(number=None).exclude(pk=website.pk).exists()
    )
    reason = ""
    errs: dict = {}
    summary: list = []
    status = 200
    if request.method == "POST" and not last:
        reason = request.POST.get("reason", "")
        response, errs, summary = _apply(
            request,
            lambda: changes.website_cancel(
                filing=filing, by=request.user, website=website.pk, reason=reason
            ),
            _("Your application to cancel %(website)s is sent to the bureau of your province.")
            % {"website": website.number},
        )
        if response is not None:
            return response
        status = 400
    return render(
        request,
        "filings/website_cancel.html",
        {
            "filing": filing,
            "target": website,
            "last": bool(last),
            "reason": reason,
            "errs": errs,
            "error_summary": summary,
        },
        status=status,
    )
