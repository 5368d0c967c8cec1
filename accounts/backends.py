"""Password sign-in (SPEC §2) that knows an account closed with its revoked filing (Q21)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

# Set on the request when the right password was given for an account that was closed
# because its filing was revoked; the sign-in page then says so instead of "not correct".
CLOSED_WITH_FILING = "account_closed_with_filing"
# A revoked filing's status name (SPEC §3). Accounts stand below filings, so the owner's
# filing is reached through its reverse relation (``User.filing``), not by importing it.
FILING_REVOKED = "revoked"


def closed_with_revoked_filing(user) -> bool:
    """Whether ``user`` is an owner account deactivated because its filing was revoked
    (one query, and none for an active account)."""
    return (
        not user.is_active
        and user.role == user.Role.OWNER
        and type(user)._default_manager.filter(pk=user.pk, filing__status=FILING_REVOKED).exists()
    )


class PortalModelBackend(ModelBackend):
    """Django's ``ModelBackend``, which also marks the request (``CLOSED_WITH_FILING``) when
    the password is right but the account was closed with its revoked filing.

    The password is checked once either way, as ``ModelBackend`` does, so a wrong password
    for a closed account takes as long and answers the same as for any other account.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        model = get_user_model()
        if username is None:
            username = kwargs.get(model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = model._default_manager.get_by_natural_key(username)
        except model.DoesNotExist:
            # Run the hasher once, as for an existing account (Django's timing defence).
            model().set_password(password)
            return None
        if not user.check_password(password):
            return None
        if self.user_can_authenticate(user):
            return user
        if request is not None and closed_with_revoked_filing(user):
            setattr(request, CLOSED_WITH_FILING, True)
        return None


def lockout_username(request, credentials) -> str | None:
    """The username django-axes counts failed sign-ins under (``AXES_USERNAME_CALLABLE``): in
    lower case, since sign-in finds a username in any case, so ``OWNER`` and ``owner`` share
    one lockout. ``credentials`` as axes gives them, else the posted form or API body."""
    if credentials:
        value = credentials.get("username")
    else:
        value = getattr(request, "data", request.POST).get("username")
    if value is None:
        return None
    return str(value).strip().lower()
