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

from accounts.models import AccessProvider

from . import changes, selectors, wizard
from .applications import open_application
from .errors import FilingError, FilingInvalid
from .models import Access, Filing, Website
from .reasons import reason_in_language
from .validation import OTHER, website_accesses
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


# The services with accesses (SPEC §12, §13); a mini-program has none.
SERVED_KINDS = (Website.Kind.WEBSITE, Website.Kind.APP)


def _approved_website(request, website_id: int, kinds=SERVED_KINDS) -> tuple:
    """The owner's filing and its approved website (or app, or mini-program: ``kinds``)
    ``website_id`` with its accesses; 404 when the account has no filed record or the record
    no such service."""
    filing = selectors.owner_filing(request.user)
    if filing is None or not filing.is_filed:
        raise Http404
    website = (
        Website.every_kind.filter(filing=filing, pk=website_id, kind__in=kinds)
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


def _returned_new_access(filing, website) -> tuple[dict | None, dict, list[str]]:
    """For a returned new access of ``website`` (SPEC §12): the access as applied for, the
    reasons beside the page's inputs (``{anchor: [reasons]}``) and those about nothing the
    page asks (labelled); ``(None, {}, [])`` otherwise."""
    if filing.status != Filing.Status.RETURNED:
        return None, {}, []
    on_its_way = changes.new_access_on_its_way(filing)
    if on_its_way is None or on_its_way.website.pk != website.pk:
        return None, {}, []
    application = open_application(filing)
    beside: dict[str, list[str]] = {}
    general: list[str] = []
    for item in application.returns or []:
        field = str(item.get("field") or "")
        reason = reason_in_language(str(item.get("reason") or ""))
        anchor = wizard.new_access_anchor(
            field, on_its_way.website_index, on_its_way.access_index, on_its_way.part
        )
        if anchor:
            beside.setdefault(anchor, []).append(reason)
        else:
            label = selectors.return_field_label(field) if field else ""
            general.append(f"{label}: {reason}" if label else reason)
    return on_its_way.access, beside, general


def _accesses_now(filing, website) -> list[dict]:
    """The approved accesses of ``website`` (its last approved version: an access applied for
    is not one of them), with their providers' names."""
    approved_now = changes.approved_data(filing)
    approved = next(
        (
            w
            for part in changes.SERVED_PARTS
            for w in approved_now[part]
            if w["number"] == website.number
        ),
        None,
    )
    accesses = website_accesses(approved) if approved else []
    names = dict(
        AccessProvider.objects.filter(
            pk__in=[a["provider"] for a in accesses if isinstance(a["provider"], int)]
        ).values_list("pk", "name")
    )
    methods = dict(Access.Method.choices)
    return [
        {
            "provider": names.get(a["provider"], "") if a["provider"] != OTHER else "",
            "method": methods.get(a["method"], a["method"]),
            "server_location": a["server_location"],
            "ips": a["ips"],
        }
        for a in accesses
    ]


@owner_page
def access_new(request, website_id: int):
    """Apply for another access to one approved website (新增接入); a returned one is
    corrected here and applied for again, with the reasons beside its fields."""
    filing, website = _approved_website(request, website_id)
    returned_access, returned, returned_general = _returned_new_access(filing, website)
    typed = returned_access or {"provider": None, "method": "", "server_location": "", "ips": []}
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
            "accesses_now": _accesses_now(filing, website),
            "errs": errs,
            "error_summary": summary,
            "returned": returned,
            "returned_general": returned_general,
            "was_returned": returned_access is not None,
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
    filing, website = _approved_website(request, website_id, tuple(Website.Kind.values))
    last = not (
        Website.every_kind.filter(filing=filing)
        .exclude(number=None)
        .exclude(pk=website.pk)
        .exists()
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
