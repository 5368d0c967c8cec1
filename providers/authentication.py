"""``Authorization: Token bp_…``: the named tokens provider staff create in their console.

Keys without the ``bp_`` prefix are left to DRF's ``TokenAuthentication`` (the tokens that
``POST /api/v1/auth/token/`` issues), which comes next in ``DEFAULT_AUTHENTICATION_CLASSES``.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection
from django.db.models.expressions import Col
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

        token = live_token(hash_key(key))
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        api_token_touch(token)
        return token.user, token


def _columns(model, alias: str) -> tuple[list[str], str, list]:
    """Attribute names, the select list, and each column's converters (as the ORM applies
    them: SQLite, say, returns times without their zone)."""
    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    converters = []
    for f in fields:
        col = Col(alias, f)
        converters.append(
            (col, connection.ops.get_db_converters(col) + f.get_db_converters(connection))
        )
    return (
        [f.attname for f in fields],
        ", ".join(f"{alias}.{quote(f.column)}" for f in fields),
        converters,
    )


@lru_cache(maxsize=1)
def _token_query() -> tuple[str, list[list[str]], list]:
    from accounts.models import User

    from .models import AccessProvider

    quote = connection.ops.quote_name
    parts = [_columns(m, a) for m, a in ((ApiToken, "t"), (User, "u"), (AccessProvider, "p"))]
    provider_fk = quote(User._meta.get_field("provider").column)
    sql = (
        f"SELECT {', '.join(columns for _names, columns, _conv in parts)} "  # noqa: S608
        f"FROM {quote(ApiToken._meta.db_table)} t "
        f"JOIN {quote(User._meta.db_table)} u ON u.id = t.user_id "
        f"LEFT JOIN {quote(AccessProvider._meta.db_table)} p ON p.id = u.{provider_fk} "
        "WHERE t.key_hash = %s AND t.revoked_at IS NULL"
    )
    return (
        sql,
        [names for names, _columns, _conv in parts],
        [c for *_rest, conv in parts for c in conv],
    )


def live_token(key_hash: str) -> ApiToken | None:
    """The unrevoked token with this key hash, with its account and the account's provider.

    Every call of a provider's program authenticates, so this is one statement written out
    once from the models' fields rather than a query the ORM builds on each call; the rows
    become model instances as the ORM would make them.
    """
    from accounts.models import User

    from .models import AccessProvider

    sql, names, converters = _token_query()
    with connection.cursor() as cursor:
        cursor.execute(sql, [key_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    converted = []
    for value, (col, functions) in zip(row, converters, strict=True):
        for function in functions:
            value = function(value, col, connection)
        converted.append(value)
    token_names, user_names, provider_names = names
    values = iter(converted)
    token_row = [next(values) for _ in token_names]
    user_row = [next(values) for _ in user_names]
    provider_row = [next(values) for _ in provider_names]
    db = connection.alias
    token = ApiToken.from_db(db, token_names, token_row)
    user = User.from_db(db, user_names, user_row)
    user.provider = (
        AccessProvider.from_db(db, provider_names, provider_row)
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
