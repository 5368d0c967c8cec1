"""Account API (SPEC §10): register, confirm the codes, resend them, get a token."""

from django.contrib.auth import authenticate, user_logged_in, user_login_failed
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from beian import limits
from beian.api_errors import Throttled
from beian.clientaddress import client_address_or_none
from beian.limits import CountingScopedRateThrottle

from . import services
from .backends import CLOSED_WITH_FILING
from .models import SignIn, User
from .serializers import (
    AccountSerializer,
    DetailSerializer,
    RegisterSerializer,
    ResendCodeSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    VerifiedSerializer,
    VerifySerializer,
)
from .views import closed_with_filing_message, lockout_message


def _api_errors(exc: ValidationError) -> ApiValidationError:
    if hasattr(exc, "error_dict"):
        return ApiValidationError(exc.message_dict)
    return ApiValidationError({"non_field_errors": exc.messages})


def _throttled(exc: services.CodeRateLimited) -> Throttled:
    return Throttled(wait=exc.retry_after, detail=exc.message)


class _AnonymousAuthView(APIView):
    # These calls identify the account by their body; no session, so no CSRF token needed.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [CountingScopedRateThrottle]
    throttle_scope = "auth"


class RegisterView(_AnonymousAuthView):
    @extend_schema(request=RegisterSerializer, responses={201: AccountSerializer})
    def post(self, request):
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = services.account_register(
                **data.validated_data,
                language=getattr(request, "LANGUAGE_CODE", "zh-hans"),
                ip=client_address_or_none(request),
            )
        except ValidationError as exc:
            raise _api_errors(exc) from exc
        except services.CodeRateLimited as exc:
            raise _throttled(exc) from exc
        return Response(AccountSerializer(user).data, status=status.HTTP_201_CREATED)


class VerifyView(_AnonymousAuthView):
    @extend_schema(request=VerifySerializer, responses={200: VerifiedSerializer})
    def post(self, request):
        data = VerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            user, result = services.account_verify_anonymous(
                username=values["username"],
                sms_code=values.get("sms_code", "").strip(),
                email_code=values.get("email_code", "").strip(),
                ip=client_address_or_none(request),
            )
        except limits.RateLimited as exc:
            raise Throttled(
                wait=exc.retry_after,
                detail=_("Too many tries from your address. Try again later."),
            ) from exc
        if not result.verified:
            raise ApiValidationError({k: [v] for k, v in result.errors.items()})
        return Response({"username": user.username, "verified": True})


class ResendCodeView(_AnonymousAuthView):
    @extend_schema(request=ResendCodeSerializer, responses={202: DetailSerializer})
    def post(self, request):
        data = ResendCodeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = User.objects.filter(username__iexact=values["username"], is_active=True).first()
        if user is not None:
            try:
                services.verification_code_resend(
                    user=user,
                    channel=values["channel"],
                    new_email=values.get("new_email") or None,
                    ip=client_address_or_none(request),
                )
            except ValidationError as exc:
                raise _api_errors(exc) from exc
            except services.CodeRateLimited as exc:
                raise _throttled(exc) from exc
        # Unknown or already confirmed accounts get the same answer: nothing to tell.
        return Response(
            {"detail": _("If the account is waiting for this code, a new one is on its way.")},
            status=status.HTTP_202_ACCEPTED,
        )


class TokenView(_AnonymousAuthView):
    """A DRF token for a confirmed, active account; staff must add a current ``otp``.

    Failures count towards the same lockout as the sign-in page (django-axes).
    """

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description="wrong credentials or otp"),
            403: DetailSerializer,
            429: DetailSerializer,
        },
    )
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        django_request = request._request
        try:
            services.sign_in_gate(username=values["username"])
        except services.SignInSlowed as exc:
            response = Response({"detail": exc.message}, status=status.HTTP_429_TOO_MANY_REQUESTS)
            response["Retry-After"] = str(exc.retry_after)
            return response
        user = authenticate(
            django_request, username=values["username"], password=values["password"]
        )
        if getattr(django_request, "axes_locked_out", False):
            return self._locked()
        if user is None and getattr(django_request, CLOSED_WITH_FILING, False):
            # Only after the right password (Q21), as on the sign-in page.
            return Response(
                {"detail": closed_with_filing_message()},
                status=status.HTTP_403_FORBIDDEN,
            )
        if user is None:
            services.sign_in_failure_count(username=values["username"])
            return Response(
                {"non_field_errors": [_("The username or password is not correct.")]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        step = services.sign_in_next_step(user)
        if step == services.SignInStep.CONFIRM_IDENTITY:
            return Response(
                {"detail": _("Confirm your mobile number and email address first.")},
                status=status.HTTP_403_FORBIDDEN,
            )
        if step == services.SignInStep.INITIAL_PASSWORD:
            return Response(
                {"detail": _("Sign in on the portal and replace your initial password first.")},
                status=status.HTTP_403_FORBIDDEN,
            )
        if step != services.SignInStep.DONE:
            # The enrolment createstaff printed is confirmed by its first valid code, on
            # whichever path it is used first (this call or the portal's sign-in).
            if step == services.SignInStep.SECOND_FACTOR:
                device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            else:
                device = (
                    TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
                )
            if device is None:
                return Response(
                    {"detail": _("Set up your authenticator app on the portal first.")},
                    status=status.HTTP_403_FORBIDDEN,
                )
            otp = (values.get("otp") or "").strip()
            if not otp:
                return Response(
                    {
                        "otp": [
                            _(
                                "Staff accounts must give the current code of their authenticator app."
                            )
                        ]
                    },
                    status=status.HTTP_400_BAD_REQUEST,
                )
            if device.confirmed:
                proved = device.verify_token(otp)
            else:
                proved = services.totp_device_confirm(device=device, token=otp)
            if not proved:
                services.sign_in_failure_count(username=values["username"])
                user_login_failed.send(
                    sender=__name__,
                    credentials={"username": values["username"]},
                    request=django_request,
                )
                if getattr(django_request, "axes_locked_out", False):
                    return self._locked()
                if device.confirmed and services.totp_code_already_used(device=device, token=otp):
                    return Response(
                        {"otp": [services.totp_code_used_message()]},
                        status=status.HTTP_400_BAD_REQUEST,
                    )
                return Response(
                    {
                        "otp": [
                            _(
                                "The code is not correct. Type the current code from your authenticator app."
                            )
                        ]
                    },
                    status=status.HTTP_400_BAD_REQUEST,
                )
        user_logged_in.send(sender=user.__class__, request=django_request, user=user)
        token = services.api_token_issue(user=user)
        services.sign_in_record(
            user=user,
            method=SignIn.Method.TOKEN,
            ip=client_address_or_none(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        return Response({"token": token.key})

    def _locked(self) -> Response:
        response = Response({"detail": lockout_message()}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        response.axes_handled = True
        return response
