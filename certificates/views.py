"""Pages: download, installation guide, "check now", verification and the public keys."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import account_required, staff_required
from beian import limits
from beian.clientaddress import client_address
from beian.normalforms.domains import domain_unicode
from beian.replicas import replica_reads_view
from filings.models import Filing

from . import format as cert_format
from . import services
from .forms import DomainCheckForm, VerifyForm
from .keys import public_key_pem
from .models import Certificate, ComplianceCheck, SigningKey
from .selectors import (
    current_certificate,
    downloadable_certificate,
    filing_for_owner_actions,
    filing_for_staff,
    latest_checks,
    public_domain_check,
    verify_certificate_file,
)


def certificate_response(certificate: Certificate) -> HttpResponse:
    response = HttpResponse(certificate.file_bytes, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{services.CERT_FILENAME}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _back(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@account_required
@require_GET
def download(request, filing_id: int):
    try:
        certificate = downloadable_certificate(user=request.user, filing_id=filing_id)
    except Certificate.DoesNotExist as exc:
        raise Http404 from exc
    return certificate_response(certificate)


@account_required
@require_GET
def install(request, filing_id: int):
    try:
        filing = filing_for_owner_actions(user=request.user, filing_id=filing_id)
    except Filing.DoesNotExist as exc:
        raise Http404 from exc
    certificate = current_certificate(filing=filing)
    if certificate is None:
        raise Http404
    return render(
        request,
        "certificates/install.html",
        {
            "filing": filing,
            "certificate": certificate,
            "snippet": services.footer_snippet(certificate.number),
            "checks": latest_checks(filing=filing),
        },
    )


def _request_check(request, filing: Filing) -> None:
    try:
        count = services.compliance_request_check(filing=filing, by=request.user)
    except services.CheckNotAllowed as exc:
        raise Http404 from exc
    except services.CheckTooSoon as exc:
        messages.warning(
            request,
            _("A check of this filing ran moments ago; try again in %(seconds)s seconds.")
            % {"seconds": exc.seconds},
        )
    except services.CertificateError:
        messages.error(request, _("This filing has no valid certificate to check."))
    except services.CheckUnavailable:
        messages.warning(
            request,
            _(
                "The checker cannot take new work right now. Try again in a few minutes; every "
                "domain is also checked once a day."
            ),
        )
    else:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            text = _("Checked %(count)s domain(s); the results are below.")
        else:
            text = _(
                "The check of %(count)s domain(s) has started; the result appears here when it "
                "is done."
            )
        messages.success(request, text % {"count": count})


@account_required
@require_POST
def check_now(request, filing_id: int):
    try:
        filing = filing_for_owner_actions(user=request.user, filing_id=filing_id)
    except Filing.DoesNotExist as exc:
        raise Http404 from exc
    _request_check(request, filing)
    return redirect(_back(request, reverse("certificates:install", args=[filing.pk])))


@staff_required
@require_POST
def staff_check_now(request, filing_id: int):
    try:
        filing = filing_for_staff(user=request.user, filing_id=filing_id)
    except Filing.DoesNotExist as exc:
        raise Http404 from exc
    _request_check(request, filing)
    return redirect(_back(request, "/"))


@require_http_methods(["GET", "POST"])
@replica_reads_view
def verify(request):
    bound = request.method == "POST"
    form = VerifyForm(request.POST if bound else None, request.FILES if bound else None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = verify_certificate_file(form.cleaned_data["data"])
    return render(
        request,
        "certificates/verify.html",
        {"form": form, "result": result, "domain_form": DomainCheckForm()},
    )


@require_http_methods(["GET", "POST"])
def verify_domain(request):
    """Start the check of a domain's installed certificate on the ``checks`` queue and show
    the page that waits for it: the web request never waits on the website's server."""
    form = DomainCheckForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            check_id = services.public_domain_check_start(
                domain=form.cleaned_data["domain"], address=client_address(request)
            )
        except limits.RateLimited as exc:
            form.add_error(
                "domain",
                _("Too many checks from your address; try again in %(seconds)s seconds.")
                % {"seconds": exc.retry_after},
            )
        except services.CheckUnavailable:
            form.add_error(
                "domain", _("The check cannot be started just now. Try again in a few minutes.")
            )
        else:
            return redirect("certificates:verify-domain-result", check_id=check_id)
    return _verify_page(request, domain_form=form, status=400 if form.is_bound else 200)


@require_GET
def verify_domain_result(request, check_id: str):
    """The public domain check's answer once the worker wrote it; until then a panel that
    asks again every two seconds (htmx) and a link that does the same without JavaScript."""
    check = public_domain_check(check_id)
    if check is None:
        raise Http404
    context = {
        "domain_check": check,
        "domain_answer": check.get("answer"),
        "domain_certificate": check.get("certificate"),
        "domain_detail": check.get("detail", ""),
        "domain_reason_label": (
            dict(ComplianceCheck.Reason.choices).get(check["answer"])
            if check.get("answer")
            else None
        ),
        "check_id": check_id,
    }
    if request.headers.get("HX-Request"):
        return render(request, "certificates/includes/domain_check.html", context)
    return _verify_page(
        request,
        # The domain is kept as its A-label; the box shows it as it was typed (Unicode).
        domain_form=DomainCheckForm(initial={"domain": domain_unicode(check["domain"])}),
        **context,
    )


def _verify_page(request, *, domain_form, status: int = 200, **context):
    return render(
        request,
        "certificates/verify.html",
        {"form": VerifyForm(), "domain_form": domain_form, **context},
        status=status,
    )


def _key_json(key: SigningKey) -> dict:
    return {
        "key_id": key.key_id,
        "algorithm": key.algorithm,
        "public_key": key.public_key,
        "public_key_pem": public_key_pem(key),
        "created_at": key.created_at.isoformat(),
        "retired_at": key.retired_at.isoformat() if key.retired_at else None,
        "active": key.is_active,
    }


@require_GET
@cache_control(public=True, max_age=300)
def keys_json(request):
    """Every public key that ever signed a certificate, retired ones included."""
    keys = SigningKey.objects.order_by("created_at", "id")
    return JsonResponse(
        {
            "issuer": str(settings.SERVICE_NAME),
            "format": cert_format.FORMAT,
            "formats": list(cert_format.FORMATS),
            "keys": [_key_json(k) for k in keys],
        },
        json_dumps_params={"ensure_ascii": False},
    )


@require_GET
@cache_control(public=True, max_age=300)
def key_detail(request, key_id: str, ext: str):
    key = SigningKey.objects.filter(key_id=key_id).first()
    if key is None:
        raise Http404
    if ext == "pem":
        return HttpResponse(public_key_pem(key), content_type="application/x-pem-file")
    return JsonResponse(_key_json(key))
