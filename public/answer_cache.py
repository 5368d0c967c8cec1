"""The is-it-filed query's answer cache (SPEC §7, Q20).

A cached answer is kept under a *version* of the published data that can answer it: a random
integer in the cache, renewed whenever that data changes, so a changed filing makes the old
answers unreachable without finding and deleting them. There is a version per registrable
domain and per sponsor number, so that an approval elsewhere in the country leaves the
answers about other domains and numbers in place; name searches, which any approval may
change, share one version (``PUBLISHED_VERSION_KEY``), which every change renews.

A query that may be an app identifier or a mini-program id (SPEC §13) also finds the services
filed with it: it is a name search (the shared version) or a domain
(``com.example.app`` reads as one), and the publishing or withdrawal of an identifier renews
the version of the domain it reads as (``identifier_version_key``), so that both kinds of
question about it are asked again.

An answer is ``{"ids": [published website id, …], "truncated": bool, "rows": {id: public
fields} | None[, "body": bytes]}`` at ``ANSWER_PREFIX + version + answer_suffix(query)``, so
that the API's throttle reads the rate count, the version and the answer in one Redis round
trip (``beian.limits.count_and_get_stamped``). Answers live ``PUBLIC_QUERY_CACHE_SECONDS``.
The prefixes name the shape of the rows: rows cached before each had ``service_type`` and
``identifiers`` are never read.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache

from beian.cache import Stamp
from beian.normalforms.domains import domain_for_lookup, registrable_domain

PUBLISHED_VERSION_KEY = "public:published-version"
VERSION_PREFIX = "public:stamp:"
ANSWER_PREFIX = "public:answer:2:"
ROWS_PREFIX = "public:q:2:"

# The kinds of question about a filing number: a sponsor's, or a website's, an app's or a
# mini-program's (``…号-n``, ``-nA``, ``-nX``).
NUMBER_KINDS = ("sponsor_number", "website_number", "app_number", "mini_program_number")


class Question(Protocol):
    """A parsed query (``public.selectors.ParsedQuery``)."""

    kind: str  # one of NUMBER_KINDS, "domain" or "name"
    value: str
    identifier: str | None  # the identifier key also looked up, if any


class Answered(Protocol):
    """A search result (``public.selectors.SearchResult``)."""

    query: Question
    version: int | None
    ids: list[int]
    truncated: bool
    rows: dict[int, dict] | None


# --- Versions ---------------------------------------------------------------------------------


def domain_version_key(domain: str) -> str:
    """Where the version of the answers about ``domain`` (an A-label domain) is kept: its
    registrable domain's, or the shared one when it has none."""
    registrable = registrable_domain(domain)
    return f"{VERSION_PREFIX}d:{registrable}" if registrable else PUBLISHED_VERSION_KEY


def number_version_key(number: str) -> str:
    """Where the version of the answers about a sponsor or website filing number is kept (a
    website number is its sponsor's number and "-n": they share one)."""
    return f"{VERSION_PREFIX}n:{number.rsplit('-', 1)[0] if '号-' in number else number}"


def answer_version_key(query: Question) -> str:
    """Where the version of the data that can answer ``query`` is kept."""
    if query.kind == "domain":
        return domain_version_key(query.value)
    if query.kind in NUMBER_KINDS:
        return number_version_key(query.value)
    return PUBLISHED_VERSION_KEY


def identifier_version_key(identifier: str) -> str:
    """Where the version of the answers that may find ``identifier`` (an app identifier or a
    mini-program id, any case) is kept: the version of the domain it reads as, which a query
    typed as that identifier carries (``com.example.app``); the shared version otherwise (a
    mini-program id is asked as a name)."""
    domain = domain_for_lookup(identifier)
    return domain_version_key(domain) if domain and "." in domain else PUBLISHED_VERSION_KEY


def scoped_version_lifetime() -> int:
    """Seconds a domain's or number's version is kept: a while after its answers expire
    (there are millions of them; a forgotten version only means that the next question is
    searched anew)."""
    return settings.PUBLIC_QUERY_CACHE_SECONDS * 6


def version_lifetime(key: str) -> int | None:
    """Seconds the version at ``key`` is kept; None (for ever) for the shared version."""
    return None if key == PUBLISHED_VERSION_KEY else scoped_version_lifetime()


def new_version() -> int:
    """A fresh version: 62 random bits, so a version forgotten by the cache is never issued
    again."""
    return secrets.randbits(62)


def answer_version_for(query: Question) -> Stamp:
    """Where the version that answers to ``query`` carry is kept, the value to start it with
    when missing and how long it lives, for ``beian.limits.count_and_get_stamped``."""
    key = answer_version_key(query)
    return Stamp(key=key, fresh=new_version(), lifetime=version_lifetime(key))


def current_version(key: str = PUBLISHED_VERSION_KEY) -> int:
    """The version at ``key`` (started when missing, and replaced when the cache holds a value
    of another form there, written before versions were integers)."""
    version = cache.get(key)
    if not isinstance(version, int):
        if version is None:
            cache.add(key, new_version(), timeout=version_lifetime(key))
        else:
            cache.set(key, new_version(), timeout=version_lifetime(key))
        version = cache.get(key)
    return version


def renew_versions(
    *,
    domains: Iterable[str] = (),
    numbers: Iterable[str] = (),
    identifiers: Iterable[str] = (),
) -> None:
    """Make stale every cached answer about these domains (A-labels), sponsor numbers and app
    identifiers or mini-program ids, and every cached name search."""
    cache.set(PUBLISHED_VERSION_KEY, new_version(), timeout=None)
    keys = (
        {domain_version_key(d) for d in domains}
        | {number_version_key(n) for n in numbers if n}
        | {identifier_version_key(i) for i in identifiers if i}
    )
    keys.discard(PUBLISHED_VERSION_KEY)
    if keys:
        cache.set_many({key: new_version() for key in keys}, timeout=scoped_version_lifetime())


# --- Answers ----------------------------------------------------------------------------------


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def answer_suffix(query: Question) -> str:
    """What follows the version in the key of ``query``'s answer."""
    parts = (query.kind, query.value, *((query.identifier,) if query.identifier else ()))
    return f":{_digest(*parts)}"


def answer_key(version: int, query: Question) -> str:
    """The key of ``query``'s answer under ``version``."""
    return f"{ANSWER_PREFIX}{version}{answer_suffix(query)}"


def cached_answer(version: int, query: Question) -> dict[str, Any] | None:
    """``query``'s answer kept under ``version`` (the shape in this module's docstring), or
    None."""
    return cache.get(answer_key(version, query))


def cache_answer(
    version: int,
    query: Question,
    *,
    ids: list[int],
    truncated: bool,
    rows: dict[int, dict] | None,
    body: bytes | None = None,
) -> None:
    """Keep ``query``'s answer under ``version``; ``body``, the API's answer as sent, only
    with it."""
    answer: dict[str, Any] = {"ids": ids, "truncated": truncated, "rows": rows}
    if body is not None:
        answer["body"] = body
    cache.set(answer_key(version, query), answer, timeout=settings.PUBLIC_QUERY_CACHE_SECONDS)


def cache_answer_body(result: Answered, body: bytes) -> None:
    """Keep the API's answer to ``result`` (the bytes sent) with it, under the same version;
    only a result whose rows are kept with its ids."""
    if result.version is None or result.rows is None:
        return
    cache_answer(
        result.version,
        result.query,
        ids=result.ids,
        truncated=result.truncated,
        rows=result.rows,
        body=body,
    )


def rows_key(version: int, ids: list[int]) -> str:
    """The key of the public fields of the published websites ``ids`` under ``version``."""
    return ROWS_PREFIX + _digest(str(version), "rows", ",".join(map(str, ids)))


def cached_rows(version: int, ids: list[int]) -> list[dict] | None:
    """The public fields of ``ids`` kept under ``version``, in that order, or None."""
    return cache.get(rows_key(version, ids))


def cache_rows(version: int, ids: list[int], rows: list[dict]) -> None:
    """Keep the public fields of ``ids`` under ``version``."""
    cache.set(rows_key(version, ids), rows, timeout=settings.PUBLIC_QUERY_CACHE_SECONDS)
