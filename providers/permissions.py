"""Who may use the provider console and API: active staff of an active provider."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token
from rest_framework.permissions import BasePermission

from accounts.models import User
from accounts.permissions import needs_otp, otp_redirect

from .models import ApiToken


def is_provider_staff(user) -> bool:
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.role == User.Role.PROVIDER
        and user.provider_id is not None
        and user.provider.is_active
    )


def provider_staff_required(view: Callable) -> Callable:
    """A console page: signed in as staff of an active provider (and past the second factor
    if the staff member enrolled one). Other accounts get 404: the console is not theirs."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_provider_staff(request.user):
            raise Http404
        response = otp_redirect(request)
        if response is not None:
            return response
        return view(request, *args, **kwargs)

    wrapper.requires_staff_otp = True
    return wrapper


class IsActiveProviderStaff(BasePermission):
    """API: staff of an active provider. A token counts as the second factor (a console token
    is created in a session that passed it); a browser session must have passed it."""

    message = _("This call is for staff of an active access provider.")

    def has_permission(self, request, view) -> bool:
        if not is_provider_staff(request.user):
            return False
        if isinstance(request.auth, ApiToken | Token):
            return True
        if needs_otp(request.user):
            django_request = getattr(request, "_request", request)
            return bool(django_request.user.is_verified())
        return True
