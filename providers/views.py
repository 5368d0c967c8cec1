"""The provider console (SPEC §6, §12): clients, the first review (初审), accesses (接入),
imports, tokens and webhooks.

Every page is for staff of an active provider and shows that provider's data only; another
provider's objects answer 404.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from rest_framework.authtoken.models import Token

from beian.normalforms.domains import url_unicode
from beian.workdays import working_calendar
from filings.changes import AccessRequest, access_apply
from filings.errors import FilingError, FilingInvalid
from filings.models import Application, Document
from filings.reasons import reason_in_language
from filings.responses import document_response
from filings.selectors import (
    filing_apps,
    filing_changes,
    filing_documents,
    filing_mini_programs,
    filing_websites,
    first_review_rows,
    open_conflicts,
    provider_application,
    provider_review_queue,
    return_field_label,
    return_fields,
)
from filings.serializers import filing_as_json
from filings.stages import provider_decide

from . import import_jobs, imports, selectors, services
from .forms import (
    PAGE_SIZE,
    AccessApplyForm,
    AccessWithdrawForm,
    AccessWithdrawUploadForm,
    ClientFilter,
    FirstReviewForm,
    ImportUploadForm,
    TokenCreateForm,
    WebhookForm,
)
from .models import ApiToken, ImportJob, WebhookDelivery
from .permissions import provider_staff_required


def _page(request, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _csv_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@provider_staff_required
def console(request):
    """The provider's clients: their filings with status, deadline and conflicts."""
    provider = request.user.provider
    form = ClientFilter(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    conflicts = {"yes": True, "no": False}.get(filters.get("conflicts") or "")
    rows = selectors.client_filings(
        provider=provider,
        status=filters.get("status") or "",
        conflicts=conflicts,
        q=filters.get("q") or "",
    )
    page = _page(request, rows)
    calendar = working_calendar()
    today = timezone.localdate()
    for filing in page:
        filing.days_left = (
            calendar.working_days_between(today, filing.review_deadline)
            if filing.review_deadline and filing.status in filing.OPEN_STATUSES
            else None
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "providers/console.html",
        {
            "provider": provider,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "tab": "clients",
        },
    )


@provider_staff_required
@require_POST
def client_password_reset(request, user_id: int):
    client = selectors.client_account(provider=request.user.provider, user_id=user_id)
    if client is None:
        raise Http404
    try:
        password = services.client_password_reset(client=client, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("providers:console")
    except PermissionDenied as exc:
        raise Http404 from exc
    return render(
        request,
        "providers/password_reset_done.html",
        {"client": client, "password": password, "tab": "clients"},
    )


@provider_staff_required
def import_list(request):
    provider = request.user.provider
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                rows = imports.parse_csv(upload.read())
            except ValidationError as exc:
                form.add_error("file", exc)
            else:
                job = import_jobs.import_job_create(
                    provider=provider, by=request.user, rows=rows, filename=upload.name
                )
                return redirect("providers:import-detail", job_id=job.pk)
        status = 400
    return render(
        request,
        "providers/imports.html",
        {
            "form": form,
            "page": _page(request, selectors.imports_of(provider)),
            "columns": imports.COLUMNS,
            "tab": "imports",
        },
        status=status,
    )


def _job(request, job_id: int) -> ImportJob:
    return get_object_or_404(selectors.imports_of(request.user.provider), pk=job_id)


@provider_staff_required
def import_detail(request, job_id: int):
    job = _job(request, job_id)
    errors = job.results.filter(status="error").order_by("index")[:200] if job.error_count else []
    error_lines = [
        (row.line, row.username, imports.column_for(path, row.payload), message)
        for row in errors
        for path, message in imports.flatten_errors(row.errors)
    ]
    template = (
        "providers/includes/import_progress.html"
        if request.headers.get("HX-Request")
        else "providers/import_detail.html"
    )
    return render(
        request,
        template,
        {"job": job, "error_lines": error_lines, "tab": "imports"},
    )


@provider_staff_required
def import_template(request):
    return _csv_response(imports.template_csv(), "beian-import-template.csv")


@provider_staff_required
def import_errors(request, job_id: int):
    job = _job(request, job_id)
    return _csv_response(imports.error_report_csv(job), f"import-{job.pk}-errors.csv")


@provider_staff_required
@require_POST
def import_results(request, job_id: int):
    """Every row's outcome; the initial passwords are in the first download only."""
    job = _job(request, job_id)
    passwords = import_jobs.import_job_release_passwords(job=job, by=request.user)
    return _csv_response(imports.results_csv(job, passwords), f"import-{job.pk}-results.csv")


@provider_staff_required
def tokens(request):
    form = TokenCreateForm(request.POST or None)
    new_key = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _token, new_key = services.api_token_issue(
                    user=request.user, name=form.cleaned_data["name"]
                )
            except ValidationError as exc:
                form.add_error("name", exc.message_dict.get("name", exc.messages))
                status = 400
            else:
                form = TokenCreateForm()
        else:
            status = 400
    return render(
        request,
        "providers/tokens.html",
        {
            "form": form,
            "new_key": new_key,
            "tokens": selectors.tokens_of(request.user),
            "signin_token": Token.objects.filter(user=request.user).first(),
            "tab": "tokens",
        },
        status=status,
    )


@provider_staff_required
@require_POST
def token_revoke(request, token_id: int):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    services.api_token_revoke(token=token, by=request.user)
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("providers:tokens")


@provider_staff_required
@require_POST
def signin_token_revoke(request):
    Token.objects.filter(user=request.user).delete()
    messages.success(request, _("The sign-in API token is revoked."))
    return redirect("providers:tokens")


@provider_staff_required
def webhooks(request):
    provider = request.user.provider
    form = WebhookForm(
        request.POST or None, initial={"webhook_url": url_unicode(provider.webhook_url)}
    )
    new_secret = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                provider, new_secret = services.webhook_settings_update(
                    provider=provider,
                    by=request.user,
                    url=form.cleaned_data["webhook_url"],
                    new_secret=form.cleaned_data["new_secret"],
                )
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
                status = 400
            else:
                messages.success(request, _("The webhook settings are saved."))
                if new_secret is None:
                    return redirect("providers:webhooks")
                form = WebhookForm(initial={"webhook_url": url_unicode(provider.webhook_url)})
        else:
            status = 400
    return render(
        request,
        "providers/webhooks.html",
        {
            "form": form,
            "provider": provider,
            "new_secret": new_secret,
            "page": _page(request, selectors.deliveries_of(provider)),
            "tab": "webhooks",
        },
        status=status,
    )


@provider_staff_required
@require_POST
def webhook_redeliver(request, delivery_id: int):
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_id, provider=request.user.provider)
    services.webhook_redeliver(delivery=delivery, by=request.user)
    messages.success(request, _("The delivery is queued again."))
    return redirect("providers:webhooks")


# The first review (初审, SPEC §12) ------------------------------------------------------------


@provider_staff_required
def reviews(request):
    """The applications waiting for this provider's first review, oldest first, with the
    provider's deadline and the overdue ones flagged."""
    page = _page(request, provider_review_queue(request.user.provider_id))
    return render(
        request,
        "providers/reviews.html",
        {"page": page, "rows": first_review_rows(page), "tab": "reviews"},
    )


def _review_page(request, application, *, form=None, status=200):
    filing = application.filing
    data = filing_as_json(filing)
    if form is None:
        form = FirstReviewForm(return_fields=return_fields(data))
    row = first_review_rows([application])[0]
    return render(
        request,
        "providers/review_detail.html",
        {
            "application": application,
            "filing": filing,
            "row": row,
            "websites": filing_websites(filing),
            "apps": filing_apps(filing),
            "mini_programs": filing_mini_programs(filing),
            "documents": filing_documents(filing),
            "open_conflicts": open_conflicts(filing),
            "changes": filing_changes(filing),
            "form": form,
            "can_decide": application.status == Application.Status.PROVIDER_REVIEW,
            "tab": "reviews",
        },
        status=status,
    )


@provider_staff_required
def review_detail(request, filing_id: int):
    """One application of this provider: the filing, what changed, its documents and
    conflicts, and the decision form while it waits for the first review. Another
    provider's, or none, answers 404."""
    application = provider_application(request.user.provider_id, filing_id)
    if application is None:
        raise Http404
    if request.method != "POST":
        return _review_page(request, application)
    form = FirstReviewForm(
        request.POST,
        request.FILES,
        return_fields=return_fields(filing_as_json(application.filing)),
    )
    action = request.POST.get("action", "")
    if not form.is_valid():
        return _review_page(request, application, form=form, status=400)
    returns, rows = form.returns()
    try:
        provider_decide(
            filing_id=filing_id,
            by=request.user,
            action=action,
            reason=form.cleaned_data["reason"],
            returns=returns,
            checklist=form.cleaned_data["checklist"],
            record=form.cleaned_data["record"] if action == "pass" else None,
        )
    except PermissionDenied as exc:
        raise Http404 from exc
    except FilingInvalid as exc:
        form.add_service_errors(exc.errors, rows)
        return _review_page(request, application, form=form, status=400)
    except FilingError as exc:
        messages.error(request, exc.message)
        return redirect("providers:reviews")
    if action == "pass":
        messages.success(
            request, _("Passed on. The responsible person and the owner have been told.")
        )
    else:
        messages.success(request, _("Returned to the owner, who has been told why."))
    return redirect("providers:reviews")


@provider_staff_required
@require_GET
def review_document(request, filing_id: int, document_id: int):
    """A pre-approval document of an application this provider first-reviews."""
    application = provider_application(request.user.provider_id, filing_id)
    if application is None:
        raise Http404
    document = get_object_or_404(Document, pk=document_id, filing_id=filing_id)
    return document_response(
        document, download=True if request.GET.get("download") == "1" else None
    )


# Accesses (接入, SPEC §12) ---------------------------------------------------------------------

# The last withdrawal file's results, kept in the session for their CSV download.
WITHDRAWAL_RESULTS = "provider_access_withdrawal_results"
# The service's error keys and the form fields that show them.
ACCESS_FIELDS = {
    "website": "website_number",
    "provider": "website_number",
    "website_number": "website_number",
    "method": "method",
    "server_location": "server_location",
    "ips": "ips",
    "reason": "reason",
}


def _add_errors(form, errors: dict) -> None:
    """Put a service's errors beside the fields they concern (the rest above the form)."""
    for key, found in errors.items():
        name = ACCESS_FIELDS.get(key)
        form.add_error(name if name in form.fields else None, [str(m) for m in found])


@provider_staff_required
def accesses(request):
    """This provider's accesses in force (the approved ones, SPEC §12), each with the
    application on its way that would end or change it; apart, the accesses only applied
    for, with their stage; and the ways to add or withdraw one."""
    provider = request.user.provider
    listing = selectors.provider_accesses(provider)
    applied = selectors.provider_access_applications(provider)
    return render(
        request,
        "providers/accesses.html",
        {
            "page": _page(request, listing),
            "applications": [_applied_row(request, row) for row in applied],
            "tab": "accesses",
        },
    )


def _applied_row(request, row: selectors.AccessRow) -> dict:
    """An access applied for as the console lists it; one this provider's staff applied for
    that came back returned (a lapsed SMS verification, say) with its reasons and the way to
    correct it and apply again (SPEC §12)."""
    application = row.application
    returned = (
        application is not None
        and application.status == Application.Status.RETURNED
        and application.kind == Application.Kind.NEW_ACCESS
        and application.submitted_by is not None
        and application.submitted_by.provider_id == request.user.provider_id
    )
    if not returned:
        return {"access": row, "reasons": [], "reapply_url": ""}
    query = urlencode(
        {
            "website_number": row.website_number,
            "method": row.method,
            "server_location": row.server_location,
            "ips": "\n".join(row.ips),
        }
    )
    reasons = []
    for item in application.returns or []:
        field = str(item.get("field") or "")
        reason = reason_in_language(str(item.get("reason") or ""))
        label = return_field_label(field) if field else ""
        reasons.append(f"{label}: {reason}" if label else reason)
    return {
        "access": row,
        "reasons": reasons,
        "reapply_url": f"{reverse('providers:access-new')}?{query}",
    }


@provider_staff_required
def access_new(request):
    """Apply for an access of this provider to an approved website (新增接入); the first
    review is this provider's, so it counts as done (``filings.changes.access_apply``)."""
    # Opened from a returned application of this provider's: what it applied for, to correct.
    form = AccessApplyForm(
        request.POST or None,
        initial={
            name: request.GET[name]
            for name in ("website_number", "method", "server_location", "ips")
            if request.GET.get(name)
        },
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            values = form.cleaned_data
            try:
                website = selectors.approved_website_by_number(values["website_number"])
                access_apply(
                    filing=website.filing,
                    by=request.user,
                    request=AccessRequest(
                        website=website.pk,
                        access={
                            "provider": request.user.provider_id,
                            "method": values["method"],
                            "server_location": values["server_location"],
                            "ips": values["ips"],
                        },
                    ),
                )
            except FilingInvalid as exc:
                _add_errors(form, exc.errors)
            except FilingError as exc:
                form.add_error(None, exc.message)
            except PermissionDenied:
                form.add_error(None, _("You may not apply for an access to this website."))
            else:
                messages.success(
                    request,
                    _(
                        "The application for your access to %(website)s is sent: the "
                        "responsible person confirms it by SMS, then the bureau decides."
                    )
                    % {"website": website.number},
                )
                return redirect("providers:accesses")
        status = 400
    return render(
        request,
        "providers/access_new.html",
        {"form": form, "tab": "accesses"},
        status=status,
    )


@provider_staff_required
def access_withdraw(request):
    """Withdraw this provider's access to one website (取消接入). The website number and the
    reason are checked together, every problem at once; only then, before the website's
    only access is withdrawn (it would become an empty shell, 空壳网站), the page asks again,
    with everything typed kept. The confirmation names the website it was given for."""
    form = AccessWithdrawForm(
        request.POST or None,
        initial={"website_number": request.GET.get("website_number", "")},
    )
    status = 200
    target = None
    last_access = False
    confirmed = ""
    if request.method == "POST":
        status = 400
        form.is_valid()
        typed = form.cleaned_data.get("website_number")
        if typed:
            target, problems = selectors.access_withdrawal_website(request.user.provider_id, typed)
            _add_errors(form, problems)
            if problems:
                target = None
        if target is not None:
            last_access = selectors.is_only_access(target)
            confirmed = request.POST.get("confirm", "")
        if target is not None and not form.errors:
            if last_access and confirmed != target.number:
                status = 200
            else:
                (result,) = services.provider_access_withdraw_many(
                    by=request.user,
                    withdrawals=[
                        services.AccessWithdrawal(
                            website_number=form.cleaned_data["website_number"],
                            reason=form.cleaned_data["reason"],
                        )
                    ],
                )
                if result.outcome != "error":
                    messages.success(request, _withdrawal_message(result))
                    return redirect("providers:accesses")
                _add_errors(form, result.errors)
    return render(
        request,
        "providers/access_withdraw.html",
        {
            "form": form,
            "target": target,
            "last_access": last_access,
            "confirmed": target is not None and confirmed == target.number,
            "tab": "accesses",
        },
        status=status,
    )


def _withdrawal_message(result: services.AccessWithdrawalResult) -> str:
    """What a withdrawal did, as its row and the page's message say it: sent to the bureau,
    which decides (the access stands meanwhile), or in effect at once
    (``PROVIDER_ACCESS_CANCEL_AT_ONCE``); for the website's only access, when the website
    becomes an empty shell."""
    number = result.website.number if result.website else result.withdrawal.website_number
    if result.outcome == "cancelled":
        text = _("Your access to %(website)s is cancelled.") % {"website": number}
        if result.last_access:
            text += " " + _(
                "It was the website's only access: the website is now an empty shell "
                "(空壳网站) and its owner is warned."
            )
        return text
    text = _(
        "The cancellation of your access to %(website)s is sent to the bureau, which "
        "decides on it; the access stands meanwhile."
    ) % {"website": number}
    if result.last_access:
        text += " " + _(
            "It is the website's only access: once the bureau approves, the website becomes "
            "an empty shell (空壳网站) and its owner is warned."
        )
    return text


def _result_row(result: services.AccessWithdrawalResult) -> dict:
    labels = {
        "applied": _("Applied for: the bureau decides"),
        "cancelled": _("Cancelled at once"),
        "error": _("Refused"),
    }
    if result.outcome == "error":
        message = " ".join(str(m) for found in result.errors.values() for m in found)
    else:
        message = _withdrawal_message(result)
    return {
        "line": result.withdrawal.line,
        "website_number": (
            result.website.number if result.website else result.withdrawal.website_number
        ),
        "reason": result.withdrawal.reason,
        "outcome": result.outcome,
        "outcome_label": str(labels[result.outcome]),
        "message": message,
        "last_access": result.last_access,
    }


def _summary(rows: list[dict] | None) -> dict[str, Any]:
    """How many rows of a withdrawal file went each way, and how many websites are left with
    no access now or will be once the bureau approves, with their numbers (``*_numbers``:
    lists of website numbers in the file's order): a file asks no confirmation for a
    website's only access, as a single withdrawal does, so its summary names them."""
    rows = rows or []

    def count(outcome: str, *, last_access: bool | None = None) -> int:
        return sum(
            1
            for row in rows
            if row["outcome"] == outcome
            and (last_access is None or row["last_access"] == last_access)
        )

    def shells(outcome: str) -> list[str]:
        return [
            row["website_number"]
            for row in rows
            if row["outcome"] == outcome and row["last_access"]
        ]

    return {
        "applied_count": count("applied"),
        "cancelled_count": count("cancelled"),
        "refused_count": count("error"),
        "shells_when_approved": count("applied", last_access=True),
        "shells_now": count("cancelled", last_access=True),
        "shells_when_approved_numbers": shells("applied"),
        "shells_now_numbers": shells("cancelled"),
    }


@provider_staff_required
def access_withdraw_upload(request):
    """Withdraw many accesses from a CSV file (网站备案号, 原因), each row on its own, and
    show every row's result."""
    form = AccessWithdrawUploadForm(request.POST or None, request.FILES or None)
    rows = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                withdrawals = imports.parse_withdrawals_csv(form.cleaned_data["file"].read())
            except ValidationError as exc:
                form.add_error("file", exc)
            else:
                results = services.provider_access_withdraw_many(
                    by=request.user, withdrawals=withdrawals
                )
                rows = [_result_row(result) for result in results]
                request.session[WITHDRAWAL_RESULTS] = rows
                status = 200
    return render(
        request,
        "providers/access_withdraw_upload.html",
        {
            "form": form,
            "rows": rows,
            **_summary(rows),
            "max_rows": settings.PROVIDER_ACCESS_CANCEL_MAX_ROWS,
            "tab": "accesses",
        },
        status=status,
    )


@provider_staff_required
@require_GET
def access_withdraw_results(request):
    """The last withdrawal file's results as CSV (this session's)."""
    rows = request.session.get(WITHDRAWAL_RESULTS)
    if not rows:
        messages.info(request, _("No results yet: upload a file of withdrawals first."))
        return redirect("providers:access-withdraw-upload")
    return _csv_response(imports.withdrawal_results_csv(rows), "access-withdrawals-results.csv")


@provider_staff_required
@require_GET
def access_withdraw_template(request):
    return _csv_response(imports.withdrawals_template_csv(), "access-withdrawals-template.csv")
