"""The distribution platforms' check (SPEC §13): is an app or mini-program filed? Set-based.

An app store asks by the identifiers it knows (an Android package name, an iOS bundle ID, a
HarmonyOS bundle name, a mini-program's id on its host), as access providers ask about domains
(``providers.gating``). An identifier counts as filed when it is a published (approved)
identifier of a filing whose approved data is valid; the answer's ``number`` is the service
number of the app (``…号-nA``) or mini-program (``…号-nX``) that holds it, ``status`` the
filing's status, as gating gives them. An app or mini-program cancelled (注销) is no longer
published and answers as never filed; one of a revoked filing answers ``revoked`` with its old
number.

Identifiers are compared as their platforms compare them (``beian.normalforms.apps``): an iOS
bundle ID without case, WeChat and Douyin ids in the lower case they are stored in, every
other identifier exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from beian import rawsql
from beian.normalforms.apps import DOUYIN, IOS, WECHAT, identifier_for_lookup
from beian.replicas import read_connection
from filings.models import Filing, Identifier, PublishedIdentifier, Website

# Platforms whose identifiers match the asked one in any case: iOS bundle IDs (Apple: "bundle
# IDs are case insensitive"), and the hexadecimal ids of WeChat and Douyin, stored in lower
# case (``validate_mini_program_id``).
_ANY_CASE = frozenset({IOS, WECHAT, DOUYIN})


@dataclass(frozen=True)
class AppCheckAnswer:
    """One identifier's answer (SPEC §13), ``identifier`` exactly as it was asked."""

    identifier: Any
    filed: bool
    number: str | None
    status: str | None

    def as_json(self) -> dict:
        return {
            "identifier": self.identifier,
            "filed": self.filed,
            "number": self.number,
            "status": self.status,
        }


def _matches(asked: str, platform: str, identifier: str) -> bool:
    """Whether a stored ``identifier`` of ``platform`` is the one ``asked`` (folded)."""
    if platform in _ANY_CASE:
        return identifier.lower() == asked.lower()
    return identifier == asked


def _filed(status: str) -> bool:
    """As gating: published rows are removed on revocation; the status keeps the answer right
    inside the revocation's own transaction."""
    return status != Filing.Status.REVOKED


def check_identifiers(identifiers: list[Any]) -> list[AppCheckAnswer]:
    """Answers in the order asked, each with ``identifier`` exactly as asked. One query for
    the batch, two when some identifiers are not published (the revoked filings' working
    copies then tell their old numbers); none for a batch of which nothing can be an
    identifier."""
    asked = [identifier_for_lookup(value) for value in identifiers]
    wanted = {a for a in asked if a}
    found: dict[str, tuple[str, str, bool]] = {}
    if wanted:
        rows = _published(sorted({a.lower() for a in wanted}))
        for a in wanted:
            best = None
            for _key, platform, identifier, number, status in rows.get(a.lower(), ()):
                if not _matches(a, platform, identifier):
                    continue
                # A filed answer before a stale one; the identifier as typed before one that
                # differs only in case (an Android "com.Example" before an iOS "com.example").
                rank = (not _filed(status), identifier != a)
                if best is None or rank < best[0]:
                    best = (rank, number, status)
            if best is not None:
                found[a] = (best[1], best[2], _filed(best[2]))
    revoked = _revoked_numbers(sorted(a for a in wanted if a not in found))
    answers = []
    for value, a in zip(identifiers, asked, strict=True):
        if a in found:
            number, status, filed = found[a]
            answers.append(AppCheckAnswer(value, filed, number, status))
        elif a in revoked:
            answers.append(AppCheckAnswer(value, False, revoked[a], Filing.Status.REVOKED))
        else:
            answers.append(AppCheckAnswer(value, False, None, None))
    return answers


def _published(keys: list[str]) -> dict[str, list[tuple[str, str, str, str, str]]]:
    """(key, platform, identifier, service number, filing status) of the published identifiers
    whose lower-case ``key`` is one of ``keys``, by key, in the order of their services: one
    indexed read of one table (``PublishedIdentifier`` carries the number and the status).
    Plain SQL, as gating reads the published domains: the batch is called for every app a
    store lists."""
    sql = (
        "SELECT key, platform, identifier, service_number, filing_status "  # noqa: S608
        f"FROM {rawsql.table(PublishedIdentifier)} "
        f"WHERE {rawsql.one_of('key', keys)} ORDER BY key, website_id"
    )
    with read_connection(PublishedIdentifier).cursor() as cursor:
        cursor.execute(sql, rawsql.one_of_params(keys))
        rows = cursor.fetchall()
    by_key: dict[str, list] = {}
    for row in rows:
        by_key.setdefault(row[0], []).append(row)
    return by_key


def _revoked_numbers(asked: list[str]) -> dict[str, str]:
    """For identifiers no approved filing publishes: the service number of an app or
    mini-program of a revoked filing that held it, so a store can tell "never filed" from
    "revoked" (one query for the batch, written out as gating's: the ORM's thousand
    placeholders cost as much as the read). ``Identifier.key`` is an iOS bundle ID in lower
    case and any other identifier as stored, so the asked one and its lower case find both."""
    if not asked:
        return {}
    keys = sorted({k for a in asked for k in (a, a.lower())})
    service, filing = rawsql.table(Website), rawsql.table(Filing)
    sql = (
        "SELECT i.platform, i.identifier, w.number "  # noqa: S608 - names from the models
        f"FROM {rawsql.table(Identifier)} i "
        f"JOIN {filing} f ON f.id = i.filing_id JOIN {service} w ON w.id = i.service_id "
        f"WHERE {rawsql.one_of('i.key', keys)} AND f.status = %s "
        f"AND w.number IS NOT NULL AND w.kind IN (%s, %s) "
        "ORDER BY f.revoked_at DESC, i.service_id"
    )
    params = [
        *rawsql.one_of_params(keys),
        Filing.Status.REVOKED,
        Website.Kind.APP,
        Website.Kind.MINI_PROGRAM,
    ]
    reader = read_connection(Identifier)
    # A few hundred rows found by index: on 4,000,000 websites PostgreSQL planned this in
    # parallel, and starting the worker cost 20 ms of a 25 ms call.
    with transaction.atomic(using=reader.alias), reader.cursor() as cursor:
        if reader.vendor == "postgresql":
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    found: dict[str, str] = {}
    by_lower: dict[str, list[str]] = {}
    for a in asked:
        by_lower.setdefault(a.lower(), []).append(a)
    for platform, identifier, number in rows:
        for a in by_lower.get(identifier.lower(), ()):
            if _matches(a, platform, identifier):
                found.setdefault(a, number)
    return found
