"""``Authorization: Token …`` for the keys ``POST /api/v1/auth/token/`` issues (DRF's tokens),
refused once they no longer stand for the account's credentials (``services.api_token_valid``:
staff tokens expire, and a password or TOTP device change or "sign out everywhere" revokes the
token of an account with a second factor)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from . import services


class AccountTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if not services.api_token_valid(token=token):
            token.delete()
            raise exceptions.AuthenticationFailed(
                _("This token has expired or was revoked. Get a new one.")
            )
        return user, token
