"""The owner's pages: task list (Q24) and the filing wizard (sponsor → websites → documents →
check and submit; apps and mini-programs have their pages in ``app_views.py``) and private
document downloads.

Every step saves the owner's changes through ``services.filing_save_data`` before anything
else, so leaving a page — or failing a rule — never loses what was typed. The rules are those
of submission (``selectors.check_data``); each page shows the ones about its own fields.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import account_required, otp_redirect
from accounts.services import CodeRateLimited
from beian.clientaddress import client_address_or_none
from beian.workdays import working_days_between

from . import app_wizard, changes, selectors, services, stages, wizard
from .applications import open_application
from .models import Application, Conflict, Filing, FilingVersion, Website
from .responses import document_response, stored_file_response
from .serializers import editable_data
from .validation import empty_data, empty_website

EDIT_CLOSED = (Filing.Status.REVOCATION_PENDING, Filing.Status.REVOKED)


def owner_page(func: Callable) -> Callable:
    """A page for a signed-in website owner."""

    @account_required
    @wraps(func)
    def wrapper(request, *args, **kwargs):
        if request.user.role != request.user.Role.OWNER:
            raise PermissionDenied
        return func(request, *args, **kwargs)

    return wrapper


def _editing(request) -> tuple[Filing | None, dict]:
    filing = selectors.owner_filing(request.user)
    return filing, (editable_data(filing) if filing else empty_data())


def _closed(request, filing: Filing | None):
    """Editing pages redirect to the task list when the filing cannot change."""
    if filing is not None and filing.status in EDIT_CLOSED:
        messages.info(
            request,
            _("A filing that is %(status)s cannot be changed.")
            % {"status": filing.get_status_display()},
        )
        return redirect("filings:task_list")
    return None


def _save(request, filing: Filing | None, data: dict) -> tuple[Filing | None, dict]:
    """Save ``data`` (creating the filing on the first step); structure errors if refused."""
    try:
        if filing is None:
            filing = services.filing_create(owner=request.user)
        services.filing_save_data(filing=filing, by=request.user, data=data)
    except services.FilingInvalid as exc:
        return filing, exc.errors
    except services.FilingError as exc:
        messages.error(request, exc.message)
        return filing, {"non_field_errors": [exc.message]}
    return filing, {}


def _returns(
    filing: Filing | None,
    data: dict,
    keep: Callable[[tuple], bool],
    listed: Callable[[tuple], bool] | None = None,
) -> dict:
    """The reasons of a return (SPEC §12) a wizard page shows: beside the fields ``keep``
    accepts, those about no field at the top, and there too, linked, those about the fields
    ``listed`` accepts (``wizard.returns_context``)."""
    application = (
        open_application(filing)
        if filing is not None and filing.status == Filing.Status.RETURNED
        else None
    )
    return wizard.returns_context(
        application.returns if application else [], data, keep=keep, listed=listed or _nowhere
    )


def _sponsor_field(path: tuple) -> bool:
    return path[0] == "sponsor"


def _website_field(index: int) -> Callable[[tuple], bool]:
    def keep(path: tuple) -> bool:
        return path[:2] == ("websites", index) and path[2] != "preapprovals"

    return keep


def _nowhere(path: tuple) -> bool:
    return False


def _everywhere(path: tuple) -> bool:
    return True


def _website_list(path: tuple) -> bool:
    return path[0] == "websites"


def _document_field(path: tuple) -> bool:
    return len(path) > 2 and path[0] in wizard.SERVICE_PARTS and path[2] == "preapprovals"


# --- Task list ------------------------------------------------------------------------------


@owner_page
def task_list(request):
    """The owner's task list (Q24): each part of the filing with its state, the actions its
    status allows, open conflicts, versions and the working days left for the bureau."""
    filing = selectors.owner_filing(request.user)
    context: dict[str, Any] = {"filing": filing, "actions": selectors.allowed_actions(None)}
    if filing is not None:
        data = editable_data(filing)
        has_changes = selectors.has_unsubmitted_changes(filing)
        errors = selectors.check_data(filing, data)
        application = open_application(filing)
        # A filed record with nothing changed is the version the bureau approved: nothing is
        # in progress, even where a rule tightened since (an amendment is checked in full).
        if not has_changes and filing.is_filed:
            errors = {}
        context.update(
            {
                "data": data,
                "has_changes": has_changes,
                "sections": selectors.sections(data, errors),
                "actions": selectors.allowed_actions(filing, has_changes=has_changes),
                "conflicts": filing.conflicts.filter(
                    resolved_at__isnull=True, kind=Conflict.Kind.CONFLICT
                ).order_by("id"),
                "versions": selectors.versions(filing),
                "application": application,
                "approved_websites": selectors.approved_websites(filing),
                "approved_apps": selectors.approved_websites(filing, Website.Kind.APP),
                "approved_mini_programs": selectors.approved_websites(
                    filing, Website.Kind.MINI_PROGRAM
                ),
                "stage": _stage(filing, application),
                "max_tries": settings.FILING_VERIFICATION_MAX_TRIES,
                **_returned(filing, application, data),
                "days_left": (
                    working_days_between(timezone.localdate(), filing.review_deadline)
                    if filing.review_deadline and filing.status in Filing.OPEN_STATUSES
                    else None
                ),
            }
        )
    return render(request, "filings/tasks.html", context)


def _returned(filing: Filing, application, data: dict) -> dict[str, Any]:
    """The task list's reasons of a return (SPEC §12), each linked to where it is corrected,
    and, for a returned new access, its own page to correct it and apply again
    (``reapply_url``): the wizard does not change it."""
    if application is None or filing.status != Filing.Status.RETURNED:
        return {"return_items": [], "reapply_url": ""}
    items = wizard.return_items(application.returns, data)
    on_its_way = (
        changes.new_access_on_its_way(filing)
        if application.kind == Application.Kind.NEW_ACCESS
        else None
    )
    if on_its_way is None:
        return {"return_items": items, "reapply_url": ""}
    url = reverse("filings:access-new", args=[on_its_way.website.pk])
    for returned, item in zip(application.returns or [], items, strict=True):
        anchor = wizard.new_access_anchor(
            str(returned.get("field") or ""),
            on_its_way.website_index,
            on_its_way.access_index,
            on_its_way.part,
        )
        if item["path"] is not None:
            item["href"] = f"{url}#{anchor}" if anchor else url
    return {"return_items": items, "reapply_url": url}


def _masked(mobile: str) -> str:
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) >= 8 else mobile


def _stage(filing: Filing, application) -> dict[str, Any] | None:
    """Where the open application is (SPEC §12), for the task list: ``{"status", "whose"
    (``provider`` | ``phone`` | ``owner`` | ``bureau``), "provider", "mobile" (masked),
    "until" (a date or a datetime, or None), "used_up" (the code took its wrong tries)}``;
    None when nothing is open."""
    if application is None:
        return None
    status = application.status
    if status == Filing.Status.PROVIDER_REVIEW:
        return {
            "status": status,
            "whose": "provider",
            "provider": application.provider,
            "until": application.provider_deadline,
        }
    if status == Filing.Status.VERIFICATION:
        return {
            "status": status,
            "whose": "phone",
            "mobile": _masked(application.verification_mobile or filing.principal_mobile or ""),
            "until": application.verification_expires_at,
            # The code took its wrong tries: only a new one helps.
            "used_up": application.verification_tries >= settings.FILING_VERIFICATION_MAX_TRIES,
        }
    if status == Filing.Status.RETURNED:
        return {"status": status, "whose": "owner", "until": None}
    return {"status": status, "whose": "bureau", "until": filing.review_deadline}


# --- Sponsor --------------------------------------------------------------------------------


def _returning_to_check(request) -> bool:
    """The owner came from a "change" link on check-your-answers and goes back there."""
    return "check" in (request.POST.get("return"), request.GET.get("return"))


@owner_page
def sponsor(request):
    filing, data = _editing(request)
    if (response := _closed(request, filing)) is not None:
        return response
    if request.method == "POST":
        data["sponsor"] = wizard.sponsor_from_post(request.POST)
        filing, structure = _save(request, filing, data)
        errors = structure or selectors.check_data(filing, data)
        if request.POST.get("action") == "later" and not structure:
            messages.success(request, _("Your answers are saved. Continue whenever you like."))
            return redirect("filings:task_list")
        back = _returning_to_check(request)
        if not errors.get("sponsor") and not structure:
            return redirect("filings:check_answers" if back else "filings:websites")
        context = {
            **wizard.sponsor_context(data, errors, show=True),
            **_returns(filing, data, _sponsor_field),
            "return_to_check": back,
        }
        return render(request, "filings/sponsor.html", context, status=400)
    errors = selectors.check_data(filing, data) if filing and "check" in request.GET else {}
    context = wizard.sponsor_context(data, errors, bool(errors))
    return render(
        request,
        "filings/sponsor.html",
        {
            **context,
            **_returns(filing, data, _sponsor_field),
            "return_to_check": _returning_to_check(request),
        },
    )


# --- Websites -------------------------------------------------------------------------------


@owner_page
def websites(request):
    filing, data = _editing(request)
    if (response := _closed(request, filing)) is not None:
        return response
    if filing is None:
        return redirect("filings:sponsor")
    errors = selectors.check_data(filing, data)
    rows = wizard.website_rows(data, errors)
    if request.method == "POST":
        if not rows and (data.get("apps") or data.get("mini_programs")):
            # A record of apps or mini-programs alone needs no website (SPEC §13).
            return redirect(
                "filings:documents" if wizard.needs_documents(data) else "filings:check_answers"
            )
        if not rows:
            summary_items = [
                {
                    "href": "#add-website",
                    "message": _("Add at least one website, app or mini-program."),
                }
            ]
            return render(
                request,
                "filings/websites.html",
                {
                    "rows": rows,
                    "error_summary": summary_items,
                    **_returns(filing, data, _nowhere, _website_list),
                },
                status=400,
            )
        incomplete = [r for r in rows if not r["complete"]]
        if incomplete:
            summary_items = [
                {
                    "href": reverse("filings:website", args=[r["index"]]) + "?check=1",
                    "message": _("Website %(n)d needs attention: open it to see what to fix.")
                    % {"n": r["index"] + 1},
                }
                for r in incomplete
            ]
            return render(
                request,
                "filings/websites.html",
                {
                    "rows": rows,
                    "error_summary": summary_items,
                    **_returns(filing, data, _nowhere, _website_list),
                },
                status=400,
            )
        return redirect(
            "filings:documents" if wizard.needs_documents(data) else "filings:check_answers"
        )
    return render(
        request,
        "filings/websites.html",
        {"rows": rows, **_returns(filing, data, _nowhere, _website_list)},
    )


def _website_context(request, index: int | None, website: dict, errors: dict, **kwargs) -> dict:
    """``wizard.website_context`` for this request: a form alone for htmx, and whether the
    owner goes back to check-your-answers."""
    return wizard.website_context(
        index,
        website,
        errors,
        fragment=request.GET.get("fragment") == "1" or bool(request.headers.get("HX-Request")),
        return_to_check=_returning_to_check(request),
        **kwargs,
    )


def _website_page(request, filing: Filing | None, data: dict, index: int | None):
    if index is not None and not 0 <= index < len(data["websites"]):
        raise Http404
    current = data["websites"][index] if index is not None else empty_website()
    if request.method == "POST":
        website = wizard.website_from_post(request.POST, current)
        if index is None:
            data["websites"].append(website)
            index = len(data["websites"]) - 1
        else:
            data["websites"][index] = website
        filing, structure = _save(request, filing, data)
        errors = structure or selectors.check_data(filing, data)
        action = request.POST.get("action")
        if action == "later" and not structure:
            messages.success(request, _("Your answers are saved. Continue whenever you like."))
            return redirect("filings:task_list")
        if action == "search":
            query = request.POST.get("provider_query", "")
            context = _website_context(request, index, website, errors, show=False, query=query)
            context.update(_returns(filing, data, _website_field(index)))
            return render(request, "filings/website.html", context)
        if wizard.changes_accesses(action):
            # The page again with the accesses as they now are, and nothing flagged yet.
            context = _website_context(
                request,
                index,
                website,
                errors,
                show=False,
                **wizard.access_focus(request.POST, website),
            )
            context.update(_returns(filing, data, _website_field(index)))
            return render(request, "filings/website.html", context)
        if not wizard.website_content_errors(errors, index) and not structure:
            messages.success(
                request,
                _("Website “%(name)s” is saved.") % {"name": website["name"] or index + 1},
            )
            return redirect(
                "filings:check_answers" if _returning_to_check(request) else "filings:websites"
            )
        context = _website_context(request, index, website, errors, show=True)
        context.update(_returns(filing, data, _website_field(index)))
        return render(request, "filings/website.html", context, status=400)
    errors = (
        selectors.check_data(filing, data)
        if filing and index is not None and "check" in request.GET
        else {}
    )
    context = _website_context(request, index, current, errors, show=bool(errors))
    if index is not None:
        context.update(_returns(filing, data, _website_field(index)))
    template = "filings/_website_form.html" if context["fragment"] else "filings/website.html"
    return render(request, template, context)


@owner_page
def website_new(request):
    filing, data = _editing(request)
    if (response := _closed(request, filing)) is not None:
        return response
    if filing is None:
        return redirect("filings:sponsor")
    return _website_page(request, filing, data, None)


@owner_page
def website_edit(request, index: int):
    filing, data = _editing(request)
    if (response := _closed(request, filing)) is not None:
        return response
    if filing is None:
        return redirect("filings:sponsor")
    return _website_page(request, filing, data, index)


@owner_page
def website_remove(request, index: int):
    filing, data = _editing(request)
    if (response := _closed(request, filing)) is not None:
        return response
    if filing is None or not 0 <= index < len(data["websites"]):
        raise Http404
    website = data["websites"][index]
    if request.method == "POST":
        del data["websites"][index]
        _save(request, filing, data)
        messages.success(
            request,
            _("Website “%(name)s” is removed.") % {"name": website["name"] or index + 1},
        )
        return redirect("filings:websites")
    return render(request, "filings/website_remove.html", {"index": index, "website": website})


@owner_page
@require_GET
def provider_search(request):
    """Candidates by name as the owner types (Q13): an HTML fragment, or JSON on request.
    With ``access=<n>`` the fragment answers the website page's further access n (SPEC §12):
    its query input and its radios."""
    context = wizard.provider_search_context(request.GET)
    candidates = context["candidates"]
    if "json" in request.headers.get("Accept", "") or request.GET.get("format") == "json":
        return JsonResponse(
            {
                "results": [
                    {"id": p.pk, "name": p.name, "licence_number": p.licence_number}
                    for p in candidates
                ]
            }
        )
    return render(request, "filings/_provider_candidates.html", context)


@owner_page
@require_GET
def store_search(request):
    """Distribution platforms (app stores, mini-program hosts: SPEC §13) by name as the owner
    types, for an app's ``stores``: ``{"results": [{"id", "name", "licence_number"}]}``, at
    most ten by name, none for a blank ``q``."""
    candidates = selectors.distribution_platform_candidates(request.GET.get("q", ""))
    return JsonResponse(
        {
            "results": [
                {"id": p.pk, "name": p.name, "licence_number": p.licence_number} for p in candidates
            ]
        }
    )


# --- Documents ------------------------------------------------------------------------------


@owner_page
def documents(request):
    filing, data = _editing(request)
    if (response := _closed(request, filing)) is not None:
        return response
    if filing is None:
        return redirect("filings:sponsor")
    if request.method == "POST":
        upload_errors: dict = {}
        for part, index, k, upload in wizard.documents_from_post(request.POST, request.FILES, data):
            try:
                document = services.document_upload(filing=filing, by=request.user, file=upload)
            except services.FilingInvalid as exc:
                upload_errors[(part, index, k)] = exc.errors.get("file", [exc.message])
            except services.FilingError as exc:
                upload_errors[(part, index, k)] = [exc.message]
            else:
                data[part][index]["preapprovals"][k]["document"] = document.pk
        filing, structure = _save(request, filing, data)
        errors = structure or selectors.check_data(filing, data)
        wizard.add_upload_errors(errors, data, upload_errors)
        if request.POST.get("action") == "later" and not structure and not upload_errors:
            messages.success(request, _("Your answers are saved. Continue whenever you like."))
            return redirect("filings:task_list")
        if not wizard.has_document_errors(errors) and not structure:
            return redirect("filings:check_answers")
        context = wizard.documents_context(filing, data, errors, show=True)
        context.update(_returns(filing, data, _document_field))
        return render(request, "filings/documents.html", context, status=400)
    errors = selectors.check_data(filing, data) if "check" in request.GET else {}
    return render(
        request,
        "filings/documents.html",
        {
            **wizard.documents_context(filing, data, errors, bool(errors)),
            **_returns(filing, data, _document_field),
        },
    )


@owner_page
@require_GET
def document_download(request, pk: int):
    document = selectors.document_for_user(user=request.user, document_id=pk)
    return document_response(document)


# --- Check and submit -----------------------------------------------------------------------


@owner_page
def check_answers(request):
    """Check your answers: every answer with a link back to its page, and the submission
    (409 with a message when the status does not allow it, 400 with the problems)."""
    filing, data = _editing(request)
    if filing is None:
        return redirect("filings:sponsor")
    has_changes = selectors.has_unsubmitted_changes(filing)
    actions = selectors.allowed_actions(filing, has_changes=has_changes)
    status = 200
    if request.method == "POST":
        try:
            services.filing_submit(filing=filing, by=request.user)
        except services.FilingInvalid as exc:
            errors = exc.errors
            status = 400
        except services.FilingError as exc:
            errors = {}
            messages.error(request, exc.message)
            status = 409
        else:
            return redirect("filings:submitted")
    else:
        errors = selectors.check_data(filing, data)
    # A record approved before amends it, whatever stage its application is at.
    amendment = filing.is_filed
    context = {
        "filing": filing,
        "has_changes": has_changes,
        "can_submit": "submit" in actions,
        "amendment": amendment,
        # An amendment against the version the bureau approved; a first filing's application
        # on its way against its latest submission.
        "comparison": selectors.check_comparison(filing, data),
        "error_summary": wizard.summary(errors, here=False),
        **wizard.answers_context(filing, data),
        **app_wizard.answers_context(filing, data),
        **_returns(filing, data, _nowhere, _everywhere),
    }
    return render(request, "filings/check.html", context, status=status)


@owner_page
def submitted(request):
    filing = selectors.owner_filing(request.user)
    if filing is None or filing.submitted_at is None:
        return redirect("filings:task_list")
    return render(
        request,
        "filings/submitted.html",
        {"filing": filing, "application": open_application(filing)},
    )


@owner_page
@require_POST
def discard(request):
    filing = selectors.owner_filing(request.user)
    if filing is None:
        raise Http404
    services.filing_discard_changes(filing=filing, by=request.user)
    messages.success(request, _("Your unsubmitted changes are discarded."))
    return redirect("filings:task_list")


@owner_page
def revocation(request):
    filing = selectors.owner_filing(request.user)
    if filing is None:
        raise Http404
    reason = ""
    errs: dict = {}
    status = 200
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        try:
            services.filing_apply_revocation(filing=filing, by=request.user, reason=reason)
        except services.FilingInvalid as exc:
            errs = {"f-reason": exc.errors.get("reason", [])}
            status = 400
        except services.FilingError as exc:
            messages.error(request, exc.message)
            return redirect("filings:task_list")
        else:
            messages.success(
                request,
                _("Your application for revocation is sent to the bureau of your province."),
            )
            return redirect("filings:task_list")
    elif filing.status != Filing.Status.APPROVED:
        messages.error(request, _("Only an approved filing can apply for revocation."))
        return redirect("filings:task_list")
    error_summary = [{"href": "#f-reason", "message": m} for m in errs.get("f-reason", [])]
    return render(
        request,
        "filings/revocation.html",
        {"filing": filing, "reason": reason, "errs": errs, "error_summary": error_summary},
        status=status,
    )


@owner_page
def withdraw(request):
    """Withdraw the open application at whatever stage it is (asks first, SPEC §12): a first
    filing goes back to draft, an approved record stays approved."""
    filing = selectors.owner_filing(request.user)
    if filing is None:
        raise Http404
    if filing.status not in services.WITHDRAWABLE_STATUSES:
        messages.error(request, _("There is no application to withdraw."))
        return redirect("filings:task_list")
    application = open_application(filing)
    revocation = filing.status == Filing.Status.REVOCATION_PENDING
    amendment = not revocation and filing.is_filed
    if revocation:
        label = _("Withdraw the application for revocation")
    elif amendment and (application is None or application.kind == Application.Kind.AMENDMENT):
        label = _("Withdraw the amendment")
    else:
        label = _("Withdraw the application")
    if request.method == "POST":
        try:
            services.filing_withdraw(filing=filing, by=request.user)
        except services.FilingError as exc:
            messages.error(request, exc.message)
        else:
            if revocation:
                done = _("The application for revocation is withdrawn. The filing stays approved.")
            elif amendment:
                done = _(
                    "The application is withdrawn. The approved filing is unchanged; the "
                    "withdrawn version stays in the list of versions."
                )
            else:
                done = _(
                    "The application is withdrawn. Your filing is a draft again, with everything "
                    "you typed; submit it whenever you are ready."
                )
            messages.success(request, done)
        return redirect("filings:task_list")
    return render(
        request,
        "filings/withdraw.html",
        {
            "filing": filing,
            "application": application,
            "revocation": revocation,
            "amendment": amendment,
            "label": label,
        },
    )


@owner_page
@require_POST
def verification_resend(request):
    """A new SMS code for the responsible person (SPEC §12), under the code limits: refused
    with the wait when they are used up."""
    filing = selectors.owner_filing(request.user)
    if filing is None:
        raise Http404
    try:
        filing = stages.verification_resend(
            filing=filing, by=request.user, ip=client_address_or_none(request)
        )
    except CodeRateLimited as exc:
        messages.error(request, exc.message)
    except services.FilingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("A new code is on its way to %(mobile)s. The earlier code no longer works.")
            % {"mobile": _masked(filing.principal_mobile)},
        )
    return redirect("filings:task_list")


@owner_page
def version(request, seq: int):
    filing = selectors.owner_filing(request.user)
    if filing is None:
        raise Http404
    item = FilingVersion.objects.filter(filing=filing, seq=seq).select_related("created_by").first()
    if item is None:
        raise Http404
    data = {
        "sponsor": item.data.get("sponsor") or {},
        "websites": item.data.get("websites") or [],
        "apps": item.data.get("apps") or [],
        "mini_programs": item.data.get("mini_programs") or [],
    }
    context = {
        "filing": filing,
        "version": item,
        "outcome": selectors.version_outcome(filing, item),
        **wizard.answers_context(filing, data),
        **app_wizard.answers_context(filing, data),
    }
    return render(request, "filings/version.html", context)


# --- The verification record of a first review (SPEC §12) -----------------------------------


@require_GET
def verification_record(request, application_id: int):
    """The verification record (核验单) a provider uploaded when it passed an application on:
    for that provider's staff, and for bureau staff of the filing's province and the ministry
    past their second factor. Anyone else: 404."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if request.user.role == request.user.Role.PROVIDER and not (
        request.user.provider_id and request.user.provider.is_active
    ):
        raise Http404
    response = otp_redirect(request)
    if response is not None:
        return response
    application = selectors.verification_record_for(request.user, application_id)
    extension = os.path.splitext(application.provider_record.name)[1]
    return stored_file_response(
        application.provider_record,
        content_type=application.provider_record_type,
        filename=f"verification-record-{application.filing_id}{extension}",
        download=request.GET.get("download") == "1" or None,
    )


verification_record.requires_staff_otp = True
