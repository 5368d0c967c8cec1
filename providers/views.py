"""The provider console (SPEC §6, §12): clients, the first review (初审), imports, tokens and
webhooks.

Every page is for staff of an active provider and shows that provider's data only; another
provider's objects answer 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from rest_framework.authtoken.models import Token

from beian.normalforms.domains import url_unicode
from beian.workdays import working_calendar
from filings.errors import FilingError, FilingInvalid
from filings.models import Application, Document
from filings.responses import document_response
from filings.selectors import (
    filing_changes,
    filing_documents,
    filing_websites,
    first_review_rows,
    open_conflicts,
    provider_application,
    provider_review_queue,
    return_fields,
)
from filings.serializers import filing_as_json
from filings.stages import provider_decide

from . import import_jobs, imports, selectors, services
from .forms import (
    PAGE_SIZE,
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
        (row.line, row.username, imports.column_for(path), message)
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
