"""Who may open a page or call an API: roles and the staff second factor (SPEC §1, §2).

Pages: ``staff_required(roles=...)`` and ``account_required``. API: ``IsVerifiedStaff``,
``IsBureauStaff``, ``IsMinistryAdmin``, ``IsProviderStaff``, ``IsVerifiedOwner``,
``IsSignedInPastSecondFactor``.

Bureau and ministry staff must have a confirmed TOTP device and have used it in this session
(django-otp) before any staff page; a staff API token is issued only with a valid ``otp``
(``accounts.api.TokenView``), so a request authenticated by that token counts as verified.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.permissions import BasePermission

from .models import User

STAFF_ROLES: tuple[str, ...] = (User.Role.BUREAU, User.Role.MINISTRY)


def has_confirmed_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def needs_otp(user: User) -> bool:
    """Bureau and ministry staff always; others (provider staff) once they enrolled a device."""
    return user.role in STAFF_ROLES or has_confirmed_device(user)


def otp_redirect(request):
    """The redirect a signed-in user without a verified second factor gets, or ``None``."""
    user = request.user
    if not needs_otp(user) or user.is_verified():
        return None
    target = "accounts:otp-verify" if has_confirmed_device(user) else "accounts:otp-setup"
    return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


def staff_required(view: Callable | None = None, *, roles: Iterable[str] = STAFF_ROLES) -> Callable:
    """A page for the given staff roles, behind the second factor.

    Not signed in: to the login page. Another role: 403. No confirmed device: to TOTP
    enrolment. A device not used in this session: to the code prompt.
    """
    allowed = frozenset(roles)

    def decorate(func: Callable) -> Callable:
        @wraps(func)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if user.role not in allowed:
                raise PermissionDenied
            response = otp_redirect(request)
            if response is not None:
                return response
            return func(request, *args, **kwargs)

        wrapper.requires_staff_otp = True
        wrapper.staff_roles = allowed
        return wrapper

    return decorate(view) if view is not None else decorate


def account_required(func: Callable) -> Callable:
    """A page for any signed-in account; staff must have passed the second factor too."""

    @wraps(func)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        response = otp_redirect(request)
        if response is not None:
            return response
        return func(request, *args, **kwargs)

    wrapper.requires_staff_otp = True
    return wrapper


def request_is_otp_verified(request) -> bool:
    """True when the session passed the second factor, or the call carries an API token.

    Tokens are issued only past the second factor: DRF's to an account that has one only
    together with a valid ``otp`` (see ``TokenView``), a provider's named token only from a
    console session that passed it. Session authentication leaves ``request.auth`` empty.
    """
    if getattr(request, "auth", None) is not None:
        return True
    django_request = getattr(request, "_request", request)
    session_user = getattr(django_request, "user", None)
    is_verified = getattr(session_user, "is_verified", None)
    return bool(is_verified and is_verified())


class _RolePermission(BasePermission):
    roles: tuple[str, ...] = ()
    message = _("This call is for staff accounts that have passed the second factor (otp).")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if user.role not in self.roles:
            return False
        return not needs_otp(user) or request_is_otp_verified(request)


class IsVerifiedStaff(_RolePermission):
    """Bureau staff or the ministry, with the second factor."""

    roles = STAFF_ROLES


class IsBureauStaff(_RolePermission):
    """Bureau staff (their province is ``request.user.province``), with the second factor."""

    roles = (User.Role.BUREAU,)


class IsMinistryAdmin(_RolePermission):
    roles = (User.Role.MINISTRY,)


class IsProviderStaff(_RolePermission):
    """Access-provider staff (``request.user.provider``); the second factor if they enrolled."""

    roles = (User.Role.PROVIDER,)
    message = _("This call is for access-provider staff.")


class IsVerifiedOwner(BasePermission):
    """A website owner whose mobile and email are confirmed and who chose their own password
    (and, having enrolled a second factor, passed it)."""

    message = _("This call is for website owners who have confirmed their mobile and email.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and user.is_active
            and user.role == User.Role.OWNER
            and user.identity_verified
            and not user.password_is_initial
            and (not needs_otp(user) or request_is_otp_verified(request))
        )


class IsSignedInPastSecondFactor(BasePermission):
    """Any active account; one with a second factor (staff always) must have passed it, as
    ``account_required`` demands of pages."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        return not needs_otp(user) or request_is_otp_verified(request)
