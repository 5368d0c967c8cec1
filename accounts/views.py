"""Account pages: register, confirm, sign in (with its steps), recover, the account page, 2FA.

A password-checked sign-in whose account still needs its codes or a new password is kept in
the session as *pending* and is not logged in, so no other page opens until the steps are done
(Q22): confirm the SMS and email codes, then replace an initial password, then the home page.
"""

from __future__ import annotations

import base64
import time
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import (
    authenticate,
    login,
    logout,
    update_session_auth_hash,
    user_login_failed,
)
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from beian import limits
from beian.clientaddress import client_address, client_address_or_none
from beian.delivery import delivery_delayed
from beian.normalforms.filing_numbers import parse_filing_number

from . import services
from .backends import CLOSED_WITH_FILING
from .forms import (
    ChangePasswordForm,
    CodeForm,
    ContactChangeForm,
    ForgotPasswordForm,
    ForgotUsernameForm,
    LoginForm,
    NewEmailForm,
    OtpForm,
    RegisterForm,
    ResetPasswordForm,
    SetPasswordForm,
    VerifyForm,
)
from .models import SignIn, User
from .permissions import account_required, has_confirmed_device

PENDING = "accounts_pending"
RESET_USERNAME = "accounts_reset_username"
CONTACT_CHANGE = "accounts_contact_change"
MODEL_BACKEND = "accounts.backends.PortalModelBackend"
# The page of each sign-in step that has one.
STEP_PAGES = {
    services.SignInStep.CONFIRM_IDENTITY: "accounts:verify",
    services.SignInStep.INITIAL_PASSWORD: "accounts:password-initial",
    services.SignInStep.SECOND_FACTOR_SETUP: "accounts:otp-setup",
    services.SignInStep.SECOND_FACTOR: "accounts:otp-verify",
}


def _first_url(*names: str) -> str | None:
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def home_url_for(user: User) -> str:
    """Where an account lands after signing in: its task list or console."""
    if user.role == User.Role.OWNER:
        return _first_url("filings:task_list") or "/"
    if user.role == User.Role.BUREAU:
        return _first_url("review:queue") or reverse("accounts:account")
    if user.role == User.Role.MINISTRY:
        return _first_url("admin:index") or reverse("accounts:account")
    return _first_url("providers:console") or reverse("accounts:account")


def _safe_next(request, candidate: str | None) -> str | None:
    # Only a path on this site: anything else would be taken for a URL name by redirect().
    if (
        candidate
        and candidate.startswith("/")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return None


def _complete_sign_in(request, user: User, step: services.SignInStep, next_url: str | None = None):
    request.session.pop(PENDING, None)
    login(request, user, backend=MODEL_BACKEND)
    language = getattr(request, "LANGUAGE_CODE", None)
    if language and language != user.language and language in dict(settings.LANGUAGES):
        User.objects.filter(pk=user.pk).update(language=language)
    services.sign_in_record(
        user=user,
        method=SignIn.Method.PASSWORD,
        ip=client_address_or_none(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    if step in STEP_PAGES:
        target = STEP_PAGES[step]
        return redirect(f"{reverse(target)}?{urlencode({'next': next_url or home_url_for(user)})}")
    return redirect(next_url or home_url_for(user))


def _start_pending(request, user: User, *, via: str, next_url: str | None = None) -> None:
    request.session.cycle_key()
    request.session[PENDING] = {
        "user_id": user.pk,
        "via": via,
        "started": time.time(),
        "next": next_url,
    }


def _pending_user(request) -> User | None:
    state = request.session.get(PENDING)
    if not state:
        return None
    if time.time() - state["started"] > settings.ACCOUNTS_PENDING_SIGN_IN_SECONDS:
        request.session.pop(PENDING, None)
        return None
    return User.objects.filter(pk=state["user_id"], is_active=True).first()


def _next_step(request, user: User):
    """The next step of a pending sign-in, or the signed-in home when none is left."""
    step = services.sign_in_next_step(user)
    if step in services.SIGN_IN_STEPS_BEFORE_LOGIN:
        return redirect(STEP_PAGES[step])
    state = request.session.get(PENDING) or {}
    return _complete_sign_in(request, user, step, _safe_next(request, state.get("next")))


def _no_pending(request):
    messages.info(request, _("Your sign-in has expired. Sign in again."))
    return redirect("accounts:login")


def _rate_limited(form, exc: services.CodeRateLimited, field: str | None = None) -> None:
    form.add_error(field, exc.message)


# Registration and confirmation -----------------------------------------------------------------


def register(request):
    if request.user.is_authenticated:
        return redirect(home_url_for(request.user))
    form = RegisterForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = services.account_register(
                    username=data["username"],
                    password=data["password"],
                    email=data["email"],
                    mobile=data["mobile"],
                    language=request.LANGUAGE_CODE,
                    ip=client_address_or_none(request),
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            except services.CodeRateLimited as exc:
                _rate_limited(form, exc)
                status = 429
            else:
                _start_pending(request, user, via="register")
                messages.success(
                    request,
                    _(
                        "Your account is created. We sent a code to your mobile and another to your email."
                    ),
                )
                return redirect("accounts:verify")
        else:
            # The form's own problems (a mismatched confirmation, say) come with those of
            # the fields it could not judge, so that everything is said at once.
            checked = {
                name: form.data.get(name)
                for name in ("username", "email", "mobile", "password")
                if name not in form.errors and form.data.get(name)
            }
            form.add_service_errors(
                ValidationError(services.account_registration_problems(**checked) or {})
            )
        if status == 200:
            status = 400
    return render(request, "accounts/register.html", {"form": form}, status=status)


def verify(request):
    user = _pending_user(request)
    if user is None:
        return _no_pending(request)
    if services.sign_in_next_step(user) != services.SignInStep.CONFIRM_IDENTITY:
        return _next_step(request, user)
    form = VerifyForm(
        request.POST or None,
        need_sms=not user.mobile_verified_at,
        need_email=not user.email_verified_at,
    )
    status = 200
    if request.method == "POST":
        # Each code is checked on its own: a right SMS code confirms the mobile even when the
        # email code is wrong or has not arrived (Q16).
        typed = {name: request.POST.get(name, "").strip() for name in ("sms_code", "email_code")}
        had_mobile, had_email = bool(user.mobile_verified_at), bool(user.email_verified_at)
        result = services.account_verify(
            user=user, sms_code=typed["sms_code"], email_code=typed["email_code"]
        )
        user.refresh_from_db()
        if result.verified:
            messages.success(request, _("Your mobile number and email address are confirmed."))
            return _next_step(request, user)
        errors = result.errors
        confirmed_now = _partly_confirmed(user, had_mobile=had_mobile, had_email=had_email)
        if confirmed_now:
            # A partial success reads as one (Q16): a code not typed yet is the next step,
            # not an error; only a wrong code typed is.
            messages.success(request, confirmed_now)
            errors = {name: e for name, e in errors.items() if typed.get(name)}
            if not errors:
                return redirect("accounts:verify")
        form = VerifyForm(
            request.POST,
            need_sms=not user.mobile_verified_at,
            need_email=not user.email_verified_at,
        )
        form.is_valid()
        for name, message in errors.items():
            if name in form.fields and name not in form.errors:
                form.add_error(name, message)
        status = 400
    waiting_for = [
        address
        for address, done in (
            (user.mobile, user.mobile_verified_at),
            (user.email, user.email_verified_at),
        )
        if not done
    ]
    return render(
        request,
        "accounts/verify.html",
        {
            "form": form,
            "pending_user": user,
            "can_change_email": bool(user.mobile_verified_at),
            # Sending is held up (the message queue is down or behind): say so, so that the
            # owner waits instead of asking for codes that would only queue up behind them.
            "codes_delayed": delivery_delayed(recipients=waiting_for),
        },
        status=status,
    )


def _partly_confirmed(user: User, *, had_mobile: bool, had_email: bool) -> str:
    """What one code just confirmed and what to do next, or "" when nothing was confirmed."""
    if user.mobile_verified_at and not had_mobile:
        return _(
            "Your mobile number is confirmed. Next, type the code sent to %(email)s. If it "
            "has not come, send a new one, or use another email address."
        ) % {"email": user.email}
    if user.email_verified_at and not had_email:
        return _(
            "Your email address is confirmed. Next, type the code sent to your mobile "
            "%(mobile)s. If it has not come, send a new one."
        ) % {"mobile": user.mobile}
    return ""


@require_POST
def verify_resend(request):
    user = _pending_user(request)
    if user is None:
        return _no_pending(request)
    channel = request.POST.get("channel")
    if channel not in {"sms", "email"}:
        return redirect("accounts:verify")
    try:
        services.verification_code_resend(
            user=user, channel=channel, ip=client_address_or_none(request)
        )
    except services.CodeRateLimited as exc:
        messages.error(request, exc.message)
    else:
        if channel == "sms":
            messages.success(request, _("A new code is on its way to your mobile."))
        else:
            messages.success(request, _("A new code is on its way to your email."))
    return redirect("accounts:verify")


def verify_change_email(request):
    """Q16: the email code never arrived; after the mobile is confirmed, use another address."""
    user = _pending_user(request)
    if user is None:
        return _no_pending(request)
    if services.sign_in_next_step(user) != services.SignInStep.CONFIRM_IDENTITY:
        return _next_step(request, user)
    if not user.mobile_verified_at:
        messages.info(
            request, _("Confirm your mobile number first; then you can change the email.")
        )
        return redirect("accounts:verify")
    form = NewEmailForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.unverified_email_change(
                    user=user,
                    new_email=form.cleaned_data["new_email"],
                    ip=client_address_or_none(request),
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            except services.CodeRateLimited as exc:
                _rate_limited(form, exc, "new_email")
            else:
                messages.success(request, _("We sent a new code to the new email address."))
                return redirect("accounts:verify")
        status = 400
    return render(
        request,
        "accounts/verify_change_email.html",
        {"form": form, "pending_user": user},
        status=status,
    )


# Sign in and out -------------------------------------------------------------------------------


def sign_in(request):
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url or home_url_for(request.user))
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.sign_in_gate(username=form.cleaned_data["username"])
            except services.SignInSlowed as exc:
                form.add_error(None, exc.message)
                response = render(
                    request, "accounts/login.html", {"form": form, "next": next_url}, status=429
                )
                response["Retry-After"] = str(exc.retry_after)
                return response
            user = authenticate(
                request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
            if getattr(request, "axes_locked_out", False):
                form.add_error(None, lockout_message())
                response = render(
                    request, "accounts/login.html", {"form": form, "next": next_url}, status=429
                )
                response.axes_handled = True
                return response
            if user is None and getattr(request, CLOSED_WITH_FILING, False):
                # Only after the right password (Q21): nothing is told to anyone else.
                form.add_error(None, closed_with_filing_message())
                return render(
                    request,
                    "accounts/login.html",
                    {"form": form, "next": next_url, "closed_with_filing": True},
                    status=400,
                )
            if user is None:
                services.sign_in_failure_count(username=form.cleaned_data["username"])
                form.add_error(None, _("The username or password is not correct."))
            else:
                step = services.sign_in_next_step(user)
                if step not in services.SIGN_IN_STEPS_BEFORE_LOGIN:
                    return _complete_sign_in(request, user, step, next_url)
                _start_pending(request, user, via="login", next_url=next_url)
                if step == services.SignInStep.CONFIRM_IDENTITY:
                    services.identity_codes_send_missing(
                        user=user, ip=client_address_or_none(request)
                    )
                    messages.info(
                        request,
                        _("Confirm your mobile number and email address before you continue."),
                    )
                return _next_step(request, user)
        status = 400
    return render(request, "accounts/login.html", {"form": form, "next": next_url}, status=status)


def closed_with_filing_message() -> str:
    """What the right password of an account closed with its revoked filing gets (Q21), on the
    sign-in page and from the token API."""
    return _(
        "This account was closed when its filing was revoked. To file again, "
        "register a new account and submit a new filing."
    )


def lockout_message() -> str:
    minutes = max(1, round(float(settings.AXES_COOLOFF_TIME) * 60))
    return ngettext(
        "Too many failed sign-ins for this username from your address. Try again in %(minutes)d minute.",
        "Too many failed sign-ins for this username from your address. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def locked_out(request, original_response=None, credentials=None):
    """django-axes' lockout answer: the page or API answer that saw it, else a plain one."""
    if original_response is not None and getattr(original_response, "axes_handled", False):
        return original_response
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": lockout_message()}, status=429)
    return render(
        request,
        "accounts/login.html",
        {"form": LoginForm(), "page_errors": [lockout_message()]},
        status=429,
    )


def sign_out(request):
    if request.method == "POST":
        logout(request)
        messages.info(request, _("You have signed out."))
        return redirect("home")
    return render(request, "accounts/logout.html")


@account_required
@require_POST
def sign_out_everywhere(request):
    """End every session of the account (this one too) and revoke its API token."""
    services.account_sign_out_everywhere(user=request.user)
    logout(request)
    messages.info(
        request,
        _("You have signed out everywhere: every session and the API token of your account ended."),
    )
    return redirect("home")


# Passwords -------------------------------------------------------------------------------------


def password_initial(request):
    """Q22: an account on its initial password chooses its own before anything else."""
    user = _pending_user(request)
    if user is None:
        return _no_pending(request)
    if services.sign_in_next_step(user) != services.SignInStep.INITIAL_PASSWORD:
        return _next_step(request, user)
    form = SetPasswordForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.password_set(user=user, new_password=form.cleaned_data["new_password1"])
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                user.refresh_from_db()
                messages.success(request, _("Your new password is set."))
                return _next_step(request, user)
        status = 400
    return render(request, "accounts/password_initial.html", {"form": form}, status=status)


def password_forgot(request):
    form = ForgotPasswordForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            username = form.cleaned_data["username"].strip()
            answer = services.password_reset_request(
                username=username, ip=client_address_or_none(request)
            )
            if answer.provider is not None:
                return render(
                    request, "accounts/password_provider.html", {"provider": answer.provider}
                )
            request.session[RESET_USERNAME] = username
            return redirect("accounts:password-reset")
        status = 400
    return render(request, "accounts/password_forgot.html", {"form": form}, status=status)


def password_reset(request):
    username = request.session.get(RESET_USERNAME)
    if not username:
        return redirect("accounts:password-forgot")
    form = ResetPasswordForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.password_reset_complete(
                    username=username,
                    sms_code=data["sms_code"],
                    email_code=data["email_code"],
                    new_password=data["new_password1"],
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                request.session.pop(RESET_USERNAME, None)
                messages.success(request, _("Your password is changed. Sign in with the new one."))
                return redirect("accounts:login")
        status = 400
    return render(request, "accounts/password_reset.html", {"form": form}, status=status)


# The account page ------------------------------------------------------------------------------


@account_required
def account(request):
    return render(
        request,
        "accounts/account.html",
        {"sign_ins": SignIn.objects.filter(user=request.user)[:10]},
    )


@account_required
def password_change(request):
    form = ChangePasswordForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            # Through authenticate(), so wrong current passwords count towards the same lockout
            # as the sign-in page: a session left open is no way to guess the password.
            checked = authenticate(
                request,
                username=request.user.get_username(),
                password=form.cleaned_data["old_password"],
            )
            if getattr(request, "axes_locked_out", False):
                form.add_error(None, lockout_message())
                status = 429
            elif checked is None or checked.pk != request.user.pk:
                form.add_error("old_password", _("Your current password is not correct."))
            else:
                try:
                    user = services.password_set(
                        user=request.user, new_password=form.cleaned_data["new_password1"]
                    )
                except ValidationError as exc:
                    form.add_service_errors(exc)
                else:
                    update_session_auth_hash(request, user)
                    messages.success(request, _("Your password is changed."))
                    return redirect("accounts:account")
        if status == 200:
            status = 400
    response = render(request, "accounts/password_change.html", {"form": form}, status=status)
    response.axes_handled = True
    return response


CHANNELS = {"mobile": "sms", "email": "email"}


@account_required
def contact_change(request, kind: str):
    channel = CHANNELS.get(kind)
    if channel is None:
        return redirect("accounts:account")
    form = ContactChangeForm(request.POST or None, channel=channel)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                destination = services.contact_change_request(
                    user=request.user,
                    channel=channel,
                    new_value=form.cleaned_data["value"],
                    ip=client_address_or_none(request),
                )
            except ValidationError as exc:
                form.add_error("value", [m for ms in exc.message_dict.values() for m in ms])
            except services.CodeRateLimited as exc:
                _rate_limited(form, exc, "value")
            else:
                request.session[CONTACT_CHANGE] = {"kind": kind, "to": destination}
                return redirect("accounts:contact-confirm", kind=kind)
        status = 400
    return render(
        request, "accounts/contact_change.html", {"form": form, "kind": kind}, status=status
    )


@account_required
def contact_confirm(request, kind: str):
    channel = CHANNELS.get(kind)
    state = request.session.get(CONTACT_CHANGE) or {}
    if channel is None or state.get("kind") != kind:
        return redirect("accounts:account")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.contact_change_confirm(
                    user=request.user, channel=channel, code=form.cleaned_data["code"]
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                request.session.pop(CONTACT_CHANGE, None)
                if channel == "sms":
                    messages.success(request, _("Your mobile number is changed."))
                else:
                    messages.success(request, _("Your email address is changed."))
                return redirect("accounts:account")
        status = 400
    return render(
        request,
        "accounts/contact_confirm.html",
        {"form": form, "kind": kind, "destination": state.get("to", "")},
        status=status,
    )


# Staff second factor ---------------------------------------------------------------------------


def _otp_next(request) -> str:
    return _safe_next(request, request.POST.get("next") or request.GET.get("next")) or (
        home_url_for(request.user)
    )


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    # Drop the XML declaration so the SVG can sit inline in the page.
    return svg[svg.index("<svg") :]


def otp_setup(request):
    """Enrol an authenticator: scan the QR code (or type the key), confirm one code."""
    if not request.user.is_authenticated:
        return redirect(
            f"{reverse('accounts:login')}?{urlencode({'next': request.get_full_path()})}"
        )
    user = request.user
    if has_confirmed_device(user):
        return redirect(
            f"{reverse('accounts:otp-verify')}?{urlencode({'next': _otp_next(request)})}"
        )
    device = services.totp_device_for_enrolment(user=user)
    form = OtpForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            if services.totp_device_confirm(device=device, token=form.cleaned_data["otp_token"]):
                otp_login(request, device)
                messages.success(request, _("Your authenticator is set up."))
                return redirect(_otp_next(request))
            # A wrong code counts towards the sign-in lockout, as on the token API.
            user_login_failed.send(
                sender=__name__, credentials={"username": user.username}, request=request
            )
            form.add_error(
                "otp_token",
                _(
                    "The code is not correct. Check the time on your phone and type the current code."
                ),
            )
        status = 400
    secret = base64.b32encode(device.bin_key).decode("ascii")
    return render(
        request,
        "accounts/otp_setup.html",
        {
            "form": form,
            "qr_svg": mark_safe(_qr_svg(device.config_url)),  # noqa: S308 - generated locally
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "next": _otp_next(request),
        },
        status=status,
    )


def otp_verify(request):
    if not request.user.is_authenticated:
        return redirect(
            f"{reverse('accounts:login')}?{urlencode({'next': request.get_full_path()})}"
        )
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return redirect(
            f"{reverse('accounts:otp-setup')}?{urlencode({'next': _otp_next(request)})}"
        )
    if user.is_verified():
        return redirect(_otp_next(request))
    form = OtpForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            if device.verify_token(form.cleaned_data["otp_token"]):
                otp_login(request, device)
                return redirect(_otp_next(request))
            if not device.verify_is_allowed()[0]:
                form.add_error("otp_token", _("Too many wrong codes. Wait a minute and try again."))
            elif services.totp_code_already_used(
                device=device, token=form.cleaned_data["otp_token"]
            ):
                form.add_error("otp_token", services.totp_code_used_message())
            else:
                form.add_error(
                    "otp_token",
                    _(
                        "The code is not correct. Type the current code from your authenticator app."
                    ),
                )
        status = 400
    return render(
        request,
        "accounts/otp_verify.html",
        {"form": form, "next": _otp_next(request)},
        status=status,
    )


# --- Forgotten username (Q11) ---------------------------------------------------------------


def forgot_username(request):
    """Public: the username goes to the account's verified contacts, never to the screen."""
    form = ForgotUsernameForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            parsed = parse_filing_number(form.cleaned_data["number"])
            number = parsed.text if parsed else "".join(form.cleaned_data["number"].split())
            try:
                limits.take(
                    limits.Charge("username-reminder-from", client_address(request)),
                    limits.Charge("username-reminder-number", number),
                )
            except limits.RateLimited:
                pass  # the same answer, so the page tells nothing; nothing more is sent
            else:
                services.username_reminder_send(number=number)
            return render(request, "filings/forgot_username_sent.html")
        status = 400
    return render(request, "filings/forgot_username.html", {"form": form}, status=status)
