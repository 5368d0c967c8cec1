"""``Authorization: Token bp_…``: the named tokens provider staff create in their console.

Keys without the ``bp_`` prefix are left to DRF's ``TokenAuthentication`` (the tokens that
``POST /api/v1/auth/token/`` issues), which comes next in ``DEFAULT_AUTHENTICATION_CLASSES``.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.models import AccessProvider, User
from beian import rawsql

from .models import ApiToken
from .services import api_token_touch, hash_key


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
        token = live_token(hash_key(key))
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        api_token_touch(token)
        return token.user, token


@lru_cache(maxsize=1)
def _token_query() -> tuple[str, list[rawsql.Columns]]:
    parts = [
        rawsql.columns(ApiToken, "t"),
        rawsql.columns(User, "u"),
        rawsql.columns(AccessProvider, "p"),
    ]
    provider_fk = rawsql.quote(User._meta.get_field("provider").column)
    sql = (
        f"SELECT {', '.join(part.sql for part in parts)} "  # noqa: S608
        f"FROM {rawsql.table(ApiToken)} t "
        f"JOIN {rawsql.table(User)} u ON u.id = t.user_id "
        f"LEFT JOIN {rawsql.table(AccessProvider)} p ON p.id = u.{provider_fk} "
        "WHERE t.key_hash = %s AND t.revoked_at IS NULL"
    )
    return sql, parts


def live_token(key_hash: str) -> ApiToken | None:
    """The unrevoked token with this key hash, with its account and the account's provider.

    Every call of a provider's program authenticates, so this is one statement written out
    once from the models' fields rather than a query the ORM builds on each call; the rows
    become model instances as the ORM would make them.
    """
    sql, (token_columns, user_columns, provider_columns) = _token_query()
    with connection.cursor() as cursor:
        cursor.execute(sql, [key_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    t, u = len(token_columns.names), len(user_columns.names)
    token_row, user_row, provider_row = row[:t], row[t : t + u], row[t + u :]
    db = connection.alias
    token = ApiToken.from_db(db, token_columns.names, token_columns.convert(token_row))
    user = User.from_db(db, user_columns.names, user_columns.convert(user_row))
    user.provider = (
        AccessProvider.from_db(db, provider_columns.names, provider_columns.convert(provider_row))
        if provider_row[0] is not None
        else None
    )
    token.user = user
    return token


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
