"""The review console pages (SPEC §4). Every page is for OTP-verified bureau or ministry staff;
a bureau sees its own province only, and anything else answers 404."""

from __future__ import annotations

import csv

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.permissions import staff_required
from beian.models import Province
from beian.normalforms.domains import domain_unicode
from beian.workdays import working_calendar
from filings.models import Document, Filing
from filings.responses import document_response
from filings.selectors import (
    filing_apps,
    filing_changes,
    filing_documents,
    filing_mini_programs,
    filing_websites,
)
from public.selectors import annual_overdue, annual_overdue_counts, bureau_directory

from . import selectors, services
from . import shells as shell_service
from .forms import OptionalReasonForm, QueueFilterForm, RefuseForm, RejectForm, RevokeForm
from .scope import OutOfScope, filings_in_scope, is_ministry, is_reviewer, province_code_of

PAGE_SIZE = 50


def _filing_or_404(request, pk: int) -> Filing:
    filing = selectors.filing_for_review(request.user, pk)
    if filing is None:
        raise Http404
    return filing


def _add_errors(form, error: ValidationError) -> None:
    for field, errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


# The queue --------------------------------------------------------------------------------------


@require_GET
@staff_required
def queue(request):
    form = QueueFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    on = selectors.today()
    paginator = Paginator(selectors.queue_filings(request.user, filters, on=on), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    rows = selectors.queue_rows(page.object_list, on=on, calendar=working_calendar())
    return render(
        request,
        "review/queue.html",
        {
            "form": form,
            "filters": filters,
            "page": page,
            "rows": rows,
            "today": on,
            "query": _query_without_page(request),
            "ministry": is_ministry(request.user),
        },
    )


class _Echo:
    def write(self, value):
        return value


@require_GET
@staff_required
def export(request):
    """The current queue or search as CSV, streamed (no row limit, constant memory)."""
    form = QueueFilterForm(request.GET or None, user=request.user)
    on = selectors.today()
    calendar = working_calendar()
    qs = selectors.queue_filings(request.user, form.filters(), on=on)
    writer = csv.writer(_Echo())
    header = [
        _("Id"),
        _("Filing number"),
        _("Kind"),
        _("Status"),
        _("Province"),
        _("Sponsor"),
        _("Account"),
        _("Submitted"),
        _("Review deadline"),
        _("Working days left"),
        _("Overdue"),
        _("Conflicts"),
        _("Pre-approval"),
        _("Domains"),
    ]

    def rows():
        yield "\ufeff" + writer.writerow(header)
        for chunk in _chunks(qs.iterator(chunk_size=1000), 1000):
            for row in selectors.queue_rows(chunk, on=on, calendar=calendar):
                f = row.filing
                submitted = timezone.localtime(f.submitted_at) if f.submitted_at else None
                yield writer.writerow(
                    [
                        f.pk,
                        f.number or "",
                        row.kind or "",
                        f.status,
                        f.province_id or "",
                        f.sponsor_name,
                        f.owner.username,
                        submitted.strftime("%Y-%m-%d %H:%M") if submitted else "",
                        f.review_deadline or "",
                        "" if row.days_left is None else row.days_left,
                        "1" if row.overdue else "0",
                        "1" if f.has_open_conflicts else "0",
                        "1" if f.has_preapproval else "0",
                        " ".join(domain_unicode(d) for d in row.domains),
                    ]
                )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="review-{timezone.localdate():%Y%m%d}.csv"'
    )
    return response


def _chunks(iterable, size):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# A filing ---------------------------------------------------------------------------------------


def _render_detail(request, filing: Filing, *, status: int = 200, **forms):
    open_conflicts, resolved_conflicts = selectors.filing_conflicts(request.user, filing)
    reject_text = (
        services.conflict_rejection_text([c.conflict for c in open_conflicts])
        if open_conflicts
        else ""
    )
    application = selectors.review_application(filing)
    on = selectors.today()
    calendar = working_calendar()
    days_left = (
        calendar.working_days_between(on, filing.review_deadline)
        if filing.review_deadline and filing.status in Filing.OPEN_STATUSES
        else None
    )
    context = {
        "filing": filing,
        "application": application,
        "first_review": selectors.first_review(application),
        "days_left": days_left,
        "overdue": days_left is not None and filing.review_deadline < on,
        "websites": filing_websites(filing),
        "apps": filing_apps(filing),
        "mini_programs": filing_mini_programs(filing),
        "documents": filing_documents(filing),
        "open_conflicts": open_conflicts,
        "resolved_conflicts": resolved_conflicts,
        "later_claims": selectors.filing_later_claims(request.user, filing),
        "changes": filing_changes(filing),
        "versions": selectors.filing_versions(filing),
        "audit_entries": selectors.filing_audit_trail(filing),
        "escalations": list(filing.escalations.order_by("-escalated_at")[:5]),
        "can_decide": filing.status
        in (Filing.Status.PENDING_REVIEW, Filing.Status.AMENDMENT_PENDING),
        "can_decide_revocation": filing.status == Filing.Status.REVOCATION_PENDING,
        "can_revoke": filing.is_filed,
        "can_reset_password": filing.owner.role == User.Role.OWNER and filing.owner.is_active,
        "reject_form": forms.get("reject_form")
        or RejectForm(prefix="reject", initial={"reason": reject_text}),
        "revoke_form": forms.get("revoke_form")
        or RevokeForm(prefix="revoke", initial={"return_to": request.GET.get("return_to")}),
        "refuse_form": forms.get("refuse_form") or RefuseForm(prefix="refuse"),
        "grant_form": forms.get("grant_form") or OptionalReasonForm(prefix="grant"),
        "action_error": forms.get("action_error"),
        "return_to": _return_target(request, request.GET.get("return_to")),
    }
    return render(request, "review/detail.html", context, status=status)


def _return_target(request, value) -> Filing | None:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return filings_in_scope(request.user).filter(pk=pk).only("id", "sponsor_name").first()


@require_GET
@staff_required
def detail(request, pk: int):
    return _render_detail(request, _filing_or_404(request, pk))


def _act(request, filing, action, **kwargs):
    """Run a service; OutOfScope answers 404, a refusal the error text."""
    try:
        action(filing=filing, by=request.user, **kwargs)
    except OutOfScope as exc:
        raise Http404 from exc
    except ValidationError as exc:
        return exc
    return None


@require_POST
@staff_required
def approve(request, pk: int):
    filing = _filing_or_404(request, pk)
    error = _act(request, filing, services.filing_approve)
    if error is not None:
        return _render_detail(request, filing, status=400, action_error=error.messages)
    messages.success(request, _("Approved. Filing number: %(number)s") % {"number": filing.number})
    return redirect("review:detail", pk=filing.pk)


def _decide_with_reason(request, filing, form, service, *, done: str, form_key: str):
    """Run a decision that takes the form's reason. None once it is made (with ``done`` as the
    success message), else the filing page again with the form and its errors (400)."""
    if form.is_valid():
        error = _act(request, filing, service, reason=form.cleaned_data["reason"])
        if error is None:
            messages.success(request, done)
            return None
        _add_errors(form, error)
    return _render_detail(request, filing, status=400, **{form_key: form})


@require_http_methods(["GET", "POST"])
@staff_required
def reject(request, pk: int):
    filing = _filing_or_404(request, pk)
    if request.method == "GET":
        return redirect(reverse("review:detail", args=[filing.pk]) + "#decision")
    response = _decide_with_reason(
        request,
        filing,
        RejectForm(request.POST, prefix="reject"),
        services.filing_reject,
        done=_("Rejected. The owner has been told the reason by email."),
        form_key="reject_form",
    )
    return response or redirect("review:detail", pk=filing.pk)


@require_POST
@staff_required
def recheck(request, pk: int):
    filing = _filing_or_404(request, pk)
    error = _act(request, filing, services.filing_recheck)
    if error is not None:
        return _render_detail(request, filing, status=400, action_error=error.messages)
    if filing.has_open_conflicts:
        messages.warning(request, _("Re-checked: the filing still has open conflicts."))
    else:
        messages.success(request, _("Re-checked: no conflicts remain."))
    return redirect("review:detail", pk=filing.pk)


@require_POST
@staff_required
def revoke(request, pk: int):
    filing = _filing_or_404(request, pk)
    form = RevokeForm(request.POST, prefix="revoke")
    if form.is_valid() and request.POST.get("edit"):
        # Back from the confirmation to the filing page, the reason as it was typed.
        again = RevokeForm(
            prefix="revoke",
            initial={k: form.cleaned_data[k] for k in ("reason", "return_to")},
        )
        return _render_detail(request, filing, revoke_form=again)
    if form.is_valid() and not form.cleaned_data["confirmed"]:
        # Revoking cannot be undone: the reviewer confirms it with the reason in front of them.
        return render(
            request,
            "review/revoke_confirm.html",
            {
                "filing": filing,
                "form": form,
                "websites": filing_websites(filing),
                "apps": filing_apps(filing),
                "mini_programs": filing_mini_programs(filing),
                "return_to": _return_target(request, form.cleaned_data.get("return_to")),
            },
        )
    response = _decide_with_reason(
        request,
        filing,
        form,
        services.filing_revoke,
        done=_("Revoked %(number)s; the owner account is deactivated.") % {"number": filing.number},
        form_key="revoke_form",
    )
    if response is not None:
        return response
    target = _return_target(request, form.cleaned_data.get("return_to"))
    if target is not None:
        return redirect(reverse("review:detail", args=[target.pk]) + "#conflicts")
    return redirect("review:detail", pk=filing.pk)


@require_POST
@staff_required
def revocation(request, pk: int):
    """Decide an owner's application for revocation: grant or refuse (with a reason)."""
    filing = _filing_or_404(request, pk)
    if request.POST.get("decision") == "grant":
        response = _decide_with_reason(
            request,
            filing,
            OptionalReasonForm(request.POST, prefix="grant"),
            services.revocation_approve,
            done=_("The filing is revoked."),
            form_key="grant_form",
        )
    else:
        response = _decide_with_reason(
            request,
            filing,
            RefuseForm(request.POST, prefix="refuse"),
            services.revocation_refuse,
            done=_("The application for revocation is refused."),
            form_key="refuse_form",
        )
    return response or redirect("review:detail", pk=filing.pk)


@require_POST
@staff_required
def password_reset(request, pk: int):
    """Reset the password of the filing's owner account: a temporary password by SMS."""
    filing = _filing_or_404(request, pk)
    try:
        services.bureau_password_reset(account=filing.owner, by=request.user)
    except OutOfScope as exc:
        raise Http404 from exc
    except ValidationError as exc:
        return _render_detail(request, filing, status=400, action_error=exc.messages)
    messages.success(
        request,
        _(
            "A temporary password was sent by SMS to %(mobile)s; it must be changed at the next sign-in."
        )
        % {"mobile": filing.owner.mobile},
    )
    return redirect("review:detail", pk=filing.pk)


@require_GET
@staff_required
def document(request, pk: int, document_id: int):
    filing = _filing_or_404(request, pk)
    doc = get_object_or_404(Document, pk=document_id, filing=filing)
    return document_response(doc, download=True if request.GET.get("download") == "1" else None)


# Deadlines, statistics, audit log ------------------------------------------------------------


@require_GET
@staff_required
def deadlines(request):
    due, overdue = selectors.deadline_filings(request.user)
    recent_escalations = selectors.recent_escalations(request.user)
    return render(
        request,
        "review/deadlines.html",
        {
            "due": due,
            "overdue": overdue,
            "escalations": recent_escalations,
            "ministry": is_ministry(request.user),
        },
    )


@require_GET
@staff_required
def statistics(request):
    stats = selectors.review_statistics(request.user)
    return render(
        request,
        "review/statistics.html",
        {"stats": stats, "ministry": is_ministry(request.user)},
    )


@require_GET
@staff_required
def audit_log(request):
    action = request.GET.get("action", "")[:64]
    province = request.GET.get("province", "")[:2]
    paginator = Paginator(
        selectors.audit_entries(request.user, action=action, province=province), PAGE_SIZE
    )
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "review/audit.html",
        {
            "page": page,
            "action": action,
            "province": province,
            "actions": selectors.AUDIT_ACTIONS,
            "ministry": is_ministry(request.user),
            "provinces": selectors.provinces_for_filter(request.user),
            "query": _query_without_page(request),
        },
    )


@staff_required
@require_GET
def annual_overdue_list(request):
    """The bureau's overdue annual reviews (SPEC §8: its own province; the ministry sees every
    one and may pick a province). Answers 403 to anyone but a reviewer."""
    if not is_reviewer(request.user):
        raise PermissionDenied
    scope = province_code_of(request.user)
    province = scope
    if scope is None and request.GET.get("province"):
        province = get_object_or_404(Province, code=request.GET["province"]).code
    reviews = (
        annual_overdue(province=province)
        .select_related("filing", "filing__province", "filing__owner")
        .order_by("year", "filing__number", "id")
    )
    page = Paginator(reviews, 50).get_page(request.GET.get("page"))
    counts = annual_overdue_counts(province=scope)
    provinces = {p.code: p for p in bureau_directory()}
    return render(
        request,
        "review/annual_overdue.html",
        {
            "page": page,
            "province": provinces.get(province) if province else None,
            "is_ministry": scope is None,
            "counts": [(provinces[code], n) for code, n in counts.items() if code in provinces],
            "total": sum(counts.values()),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def shells(request):
    """The province's empty shells (空壳网站, SPEC §12), oldest first, with the days of notice
    left; POST cancels those past their notice in one audited batch. The ministry sees every
    province and may pick one. Answers 403 to anyone but a reviewer."""
    if not is_reviewer(request.user):
        raise PermissionDenied
    scope = province_code_of(request.user)
    province = scope
    if scope is None and request.GET.get("province"):
        province = get_object_or_404(Province, code=request.GET["province"]).code
    if request.method == "POST":
        run = shell_service.shells_cancel_due(by=request.user, province=province)
        if run.cancelled or run.revoked:
            messages.success(
                request,
                _(
                    "%(websites)d websites cancelled, %(filings)d filings revoked as their "
                    "last website was an empty shell."
                )
                % {"websites": len(run.cancelled), "filings": len(run.revoked)},
            )
        else:
            messages.info(request, _("No empty shell is past its notice period."))
        if run.skipped:
            messages.warning(
                request,
                _("Left for later, as an application is open for them: %(numbers)s.")
                % {"numbers": ", ".join(run.skipped)},
            )
        target = reverse("review:shells")
        return redirect(f"{target}?province={province}" if scope is None and province else target)
    rows = shell_service.shells_in_scope(request.user, province=province)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    cutoff = shell_service.shell_cutoff()
    today = timezone.localdate()
    for website in page:
        website.deadline = services.shell_deadline(website.shell_since)
        website.days_left = max((website.deadline - today).days, 0)
        website.due = website.shell_since <= cutoff
    return render(
        request,
        "review/shells.html",
        {
            "page": page,
            "province": {p.code: p for p in bureau_directory()}.get(province) if province else None,
            "is_ministry": scope is None,
            "due_count": rows.filter(shell_since__lte=cutoff).count(),
            "notice_days": settings.FILING_SHELL_NOTICE_DAYS,
            "provinces": selectors.provinces_for_filter(request.user),
        },
    )
