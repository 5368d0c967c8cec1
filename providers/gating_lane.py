"""The gating call's hot path (接入核验, SPEC §6, §12): ``GET /api/v1/provider/domains/<d>/``
with a console token, answered before the middleware and DRF (``beian.hotpaths``).

A token that the ordinary path let gate is remembered in Redis for
``PROVIDER_TOKEN_CACHE_SECONDS`` (its id, its account and the account's provider, under the
hash of its key). A call with a remembered token costs one Redis round trip, which counts the
token's gating rate, reads the remembered entry and (with replicas) whether the account wrote
lately, and one indexed read of the published domains; everything else (an unknown or
forgotten token, a refused rate, a database error, a query string, another format) takes the
ordinary path, which authenticates against the database and remembers the token again.

Revocation: revoking a token, or changing its account or its provider, deletes the entry when
the change is made and again when it commits (``forget_tokens``, wired in
``providers.signals``), and leaves a mark that keeps the token from being remembered again for
``FORGOTTEN_SECONDS``: a call that read the token before the change committed cannot put it
back after. The entry is read in the same round trip that counts the rate, so the next call
authenticates against the database and is refused. A change that bypasses the models (a
database edit) takes effect when the entry expires, within ``PROVIDER_TOKEN_CACHE_SECONDS``
(1 by default).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.throttling import SimpleRateThrottle

from beian import limits, replicas
from beian.hotpaths import hot_read
from beian.normalforms.text import unreadable_text_code

from .gating import check_domains
from .models import ApiToken
from .services import hash_key

DOMAIN_PATH = "/api/v1/provider/domains/"
ENTRY_PREFIX = "gating:token:"
FORGOTTEN_PREFIX = "gating:forgotten:"
# How long a forgotten token may not be remembered again: longer than any call that read the
# token before its revocation committed can take to answer.
FORGOTTEN_SECONDS = 60
# DRF's key for the gating throttle of a console token (``providers.api.TokenScopedThrottle``).
COUNTER_PREFIX = "throttle_gating_providertoken-"
SCOPE = "gating"

_renderer = JSONRenderer()


def entry_key(key_hash: str) -> str:
    """Where a console token with this key hash (``providers.services.hash_key``) is
    remembered."""
    return f"{ENTRY_PREFIX}{key_hash}"


def forgotten_key(key_hash: str) -> str:
    """Where the mark of a token just forgotten is kept."""
    return f"{FORGOTTEN_PREFIX}{key_hash}"


def gating_rate() -> tuple[int | None, int | None]:
    """(requests, seconds) of the ``gating`` throttle rate (``THROTTLE_GATING``)."""
    return SimpleRateThrottle.parse_rate(None, SimpleRateThrottle.THROTTLE_RATES.get(SCOPE))


def remember_token(token: ApiToken) -> None:
    """Remember ``token`` as allowed to gate (called by the gating view once DRF has
    authenticated the token and checked its account's permission)."""
    provider_id = token.user.provider_id
    if provider_id is None:
        return
    limits.remember_holder(
        entry_key(token.key_hash),
        [str(token.pk), str(token.user_id), str(provider_id)],
        settings.PROVIDER_TOKEN_CACHE_SECONDS,
        unless=forgotten_key(token.key_hash),
    )


def forget_tokens(key_hashes: Iterable[str]) -> None:
    """Forget these tokens (their next call authenticates against the database), and keep
    them from being remembered again for ``FORGOTTEN_SECONDS``."""
    hashes = list(key_hashes)
    limits.forget_holders(
        [entry_key(k) for k in hashes],
        marks=[forgotten_key(k) for k in hashes],
        mark_seconds=max(FORGOTTEN_SECONDS, 2 * settings.PROVIDER_TOKEN_CACHE_SECONDS),
    )


def _asked_domain(request: HttpRequest) -> str | None:
    """The domain of a ``GET …/provider/domains/<domain>/`` the hot path may answer."""
    if request.method != "GET" or request.META.get("QUERY_STRING"):
        return None
    path = request.path_info
    if not path.startswith(DOMAIN_PATH) or not path.endswith("/"):
        return None
    domain = path[len(DOMAIN_PATH) : -1]
    # As the route's ``<path:domain>`` matches (anything but a line feed), and readable text
    # (the ordinary path refuses a control character with its message).
    if not domain or domain == "check" or "\n" in domain or unreadable_text_code(domain):
        return None
    if request.META.get("HTTP_ACCEPT", "*/*") not in ("*/*", "application/json"):
        return None
    return domain


def _token_key(request: HttpRequest) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(header) != 2 or header[0].lower() != "token":
        return None
    if not header[1].startswith(ApiToken.PREFIX):
        return None
    return header[1]


def answer(request: HttpRequest) -> HttpResponse | None:
    """The answer to a gating call with a remembered token, or None (the ordinary path
    answers). Shape: ``providers.gating.GatingAnswer.as_json``, as the view renders it."""
    domain = _asked_domain(request)
    key = _token_key(request) if domain is not None else None
    if key is None:
        return None
    requests, seconds = gating_rate()
    counted = limits.count_for_holder(
        entry_key(hash_key(key)),
        COUNTER_PREFIX,
        seconds or 60,
        replicas.WROTE_PREFIX if replicas.replica_aliases() else "",
    )
    if counted is None:
        return None
    # The ordinary path reads this count instead of counting the call again.
    request.gating_counted = (counted.count, counted.seconds_left)
    if requests is not None and counted.count > requests:
        return None
    try:
        provider_id = int(counted.entry[2])
    except (IndexError, ValueError):
        return None
    found = hot_read(check_domains, [domain], provider_id=provider_id, primary=counted.wrote)
    if found is None:
        return None
    response = HttpResponse(_renderer.render(found[0].as_json()), content_type="application/json")
    response["Vary"] = "Accept"
    response["Allow"] = "GET, HEAD, OPTIONS"
    return response
