"""Pages: the is-it-filed query, the bulletin board, the owner's annual review, the SMS
verification of an application (SPEC §12)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from accounts.permissions import account_required
from beian.clientaddress import client_address, client_address_or_none
from beian.replicas import replica_reads_view
from filings import stages
from filings.models import Filing

from .forms import QueryCaptchaForm, QueryForm, VerificationForm
from .selectors import (
    annual_review_status,
    bureau_directory,
    captcha_needed,
    filing_search,
    published_announcements,
    rows_by_service_type,
)
from .services import AnnualReviewError, annual_review_confirm, query_count_add

RESULTS_PER_PAGE = 20
# Queries this session may still make after solving the captcha.
CAPTCHA_CREDIT_KEY = "public_query_credit"


@require_GET
@replica_reads_view
def query(request):
    """是否备案查询 (Q20): anyone may ask; many queries from one address need a captcha."""
    address = client_address(request)
    over_threshold = captcha_needed(address)
    credit = request.session.get(CAPTCHA_CREDIT_KEY, 0) if over_threshold else 0
    require_captcha = over_threshold and credit <= 0
    asked = "q" in request.GET
    if require_captcha and asked and "captcha_1" not in request.GET:
        # First time over the threshold: keep the query, show the picture, no error yet.
        form = QueryCaptchaForm(initial={"q": request.GET.get("q", "")})
        return render(request, "public/query.html", {"form": form, "captcha": True})
    form = (QueryCaptchaForm if require_captcha else QueryForm)(request.GET if asked else None)
    context = {"form": form, "captcha": require_captcha}
    if asked and form.is_valid():
        if over_threshold:
            solved = settings.PUBLIC_QUERY_CAPTCHA_AFTER if require_captcha else credit
            request.session[CAPTCHA_CREDIT_KEY] = solved - 1
        query_count_add(address)
        result = filing_search(form.cleaned_data["parsed"])
        page = Paginator(result.ids, RESULTS_PER_PAGE).get_page(request.GET.get("page"))
        rows = result.rows_for(list(page.object_list))
        context.update(
            result=result,
            page=page,
            rows=rows,
            groups=rows_by_service_type(rows),
            q=form.cleaned_data["q"],
            max_results=settings.PUBLIC_QUERY_MAX_RESULTS,
        )
        if require_captcha:
            # The next query starts from a clean form: the picture was used up.
            context["form"] = QueryForm(initial={"q": form.cleaned_data["q"]})
            context["captcha"] = False
    return render(request, "public/query.html", context)


@require_GET
def bulletin(request):
    """公告栏 (Q5): the ministry's announcements and every bureau's contact."""
    page = Paginator(published_announcements(), 10).get_page(request.GET.get("page"))
    return render(request, "public/bulletin.html", {"page": page, "provinces": bureau_directory()})


@require_GET
def announcement(request, pk: int):
    item = get_object_or_404(published_announcements(), pk=pk)
    return render(request, "public/announcement.html", {"announcement": item})


def _owner_filing(request) -> Filing | None:
    if request.user.role != User.Role.OWNER:
        raise PermissionDenied
    return Filing.objects.filter(owner=request.user).first()


@account_required
@require_GET
def annual_review(request):
    """The owner's annual review (年度审核, Q9), also shown in the task list."""
    filing = _owner_filing(request)
    return render(
        request,
        "public/annual_review.html",
        {"filing": filing, "review_status": annual_review_status(filing=filing)},
    )


@account_required
@require_POST
def annual_review_confirm_view(request):
    filing = _owner_filing(request)
    if filing is None:
        raise Http404
    try:
        reviews = annual_review_confirm(filing=filing, by=request.user)
    except AnnualReviewError as exc:
        messages.error(request, exc.message)
    else:
        years = "、".join(str(r.year) for r in reviews)
        messages.success(
            request,
            _("Thank you. Your annual review for %(years)s is recorded.") % {"years": years},
        )
    return redirect(_next_url(request))


def _next_url(request) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    try:
        return reverse("filings:task_list")
    except NoReverseMatch:
        return reverse("public:annual_review")


def verification(request):
    """短信核验 (SPEC §12), open to anyone: the responsible person types the mobile, the code
    of the SMS and the last 6 characters of the certificate number; the application then
    reaches the bureau of the filing's province. Errors stay on their fields with everything
    typed (the code too, unless it is what did not match); 400 for a problem, 429 when the address has tried too often."""
    form = VerificationForm(request.POST if request.method == "POST" else None)
    status = 200
    page_errors: list[str] = []
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                filing = stages.verification_confirm(
                    mobile=data["mobile"],
                    code=data["code"],
                    id_last6=data["id_last6"],
                    ip=client_address_or_none(request),
                )
            except stages.VerificationProblem as exc:
                for name, errors in exc.errors.items():
                    form.add_error(name if name in form.fields else None, errors)
            except stages.VerificationLimited as exc:
                page_errors.append(exc.message)
                status = 429
            else:
                return render(request, "public/verification_done.html", {"filing": filing})
        if "code" in form.errors:
            # A code that did not match is typed again: a wrong one is of no use. Kept when
            # only another field was wrong, or the address must wait.
            form.data = form.data.copy()
            form.data["code"] = ""
    return render(
        request,
        "public/verification.html",
        {"form": form, "page_errors": page_errors},
        status=status,
    )
