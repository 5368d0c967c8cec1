"""``Authorization: Token bp_…``: the named tokens provider staff create in their console.

Keys without the ``bp_`` prefix are left to DRF's ``TokenAuthentication`` (the tokens that
``POST /api/v1/auth/token/`` issues), which comes next in ``DEFAULT_AUTHENTICATION_CLASSES``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from .models import ApiToken


class ProviderTokenAuthentication(TokenAuthentication):
    model = ApiToken

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "").split()
        if len(header) != 2 or header[0].lower() != "token":
            return None
        if not header[1].startswith(ApiToken.PREFIX):
            return None
        return self.authenticate_credentials(header[1])

    def authenticate_credentials(self, key):
        from .services import api_token_touch, hash_key

        token = (
            ApiToken.objects.select_related("user", "user__provider")
            .filter(key_hash=hash_key(key), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        api_token_touch(token)
        return token.user, token


class ProviderTokenScheme(OpenApiAuthenticationExtension):
    """The schema's name for the named provider tokens (same header as DRF's tokens)."""

    target_class = "providers.authentication.ProviderTokenAuthentication"
    name = "providerTokenAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Provider console token: "Token bp_…"',
        }
