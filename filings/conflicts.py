"""Conflict detection (Q17): the same homepage, a shared domain or the same sponsor name in a
filing of another account.

Detection is symmetric: when a submission finds another account's filing, the conflict is
recorded on both, so that of two owners submitting the same domain at the same moment both
see it. On PostgreSQL, transaction-level advisory locks on the compared values serialise such
submissions, so the later one always sees the earlier one.

The work for any number of filings (one submission, or a chunk of a provider import) is a
constant number of queries: their keys, the locks, one UNION over the three indexed keys, the
open conflicts on either side, and the writes.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from beian import rawsql
from beian.normalforms.names import name_key

from .models import Conflict, Domain, Filing, PublishedDomain, Website


def _lock_key(value: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(value.encode(), digest_size=8).digest(), "big", signed=True
    )


def lock_values(values: Iterable[str]) -> None:
    """Hold a transaction-scoped advisory lock on each value (PostgreSQL; a no-op elsewhere).

    The locks are taken in one statement, in key order, so that two transactions locking
    overlapping sets can never wait on each other in a cycle (PostgreSQL evaluates volatile
    functions of the select list after the sort).
    """
    if connection.vendor != "postgresql":
        return
    keys = sorted({_lock_key(v) for v in values})
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(k)) FROM "
            "(SELECT k FROM unnest(%s::bigint[]) AS k ORDER BY k) AS ordered",
            [keys],
        )


@dataclass
class Keys:
    """What a filing is compared on."""

    domains: set[str] = field(default_factory=set)
    homepages: set[str] = field(default_factory=set)
    name: str = ""

    def lock_values(self) -> list[str]:
        return (
            [f"d:{d}" for d in self.domains]
            + [f"h:{h}" for h in self.homepages]
            + ([f"s:{self.name}"] if self.name else [])
        )


# The two reads below are plain SQL over the models' tables: they run for every submission,
# and building them with the ORM cost more than running them. Only quoted table names and
# placeholders are put into the text; every value is a parameter.


def filings_keys(filings: list[Filing]) -> dict[int, Keys]:
    """The domains, homepage keys and sponsor name key of each filing (one query)."""
    keys = {f.pk: Keys(name=name_key(f.sponsor_name)) for f in filings}
    if not keys:
        return keys
    ids = list(keys)
    sql = (
        f"SELECT filing_id, 'd', name FROM {rawsql.table(Domain)} WHERE filing_id IN ({rawsql.marks(ids)}) "  # noqa: S608
        "UNION ALL "
        f"SELECT filing_id, 'h', homepage_key FROM {rawsql.table(Website)} "
        f"WHERE filing_id IN ({rawsql.marks(ids)}) AND homepage_key <> ''"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ids + ids)
        for filing_id, kind, key in cursor.fetchall():
            (keys[filing_id].domains if kind == "d" else keys[filing_id].homepages).add(key)
    return keys


def _candidates(domains: set[str], homepages: set[str], names: set[str]) -> list[tuple]:
    """(field, key, shown value, filing id, owner id) of every active filing holding one of
    the keys, in one query over the three indexed keys."""
    active = list(Filing.ACTIVE_STATUSES)
    filing = rawsql.table(Filing)
    in_active = f"f.status IN ({rawsql.marks(active)})"
    parts: list[str] = []
    params: list = []
    if domains:
        # Approved domains stay public while an amendment that drops them is under review.
        for model in (Domain, PublishedDomain):
            parts.append(
                f"SELECT %s, d.name, d.name, d.filing_id, f.owner_id FROM {rawsql.table(model)} d "  # noqa: S608
                f"JOIN {filing} f ON f.id = d.filing_id "
                f"WHERE d.name IN ({rawsql.marks(domains)}) AND {in_active}"
            )
            params += [Conflict.Field.DOMAIN, *domains, *active]
    if homepages:
        parts.append(
            f"SELECT %s, w.homepage_key, w.homepage, w.filing_id, f.owner_id "  # noqa: S608
            f"FROM {rawsql.table(Website)} w JOIN {filing} f ON f.id = w.filing_id "
            f"WHERE w.homepage_key IN ({rawsql.marks(homepages)}) AND {in_active}"
        )
        params += [Conflict.Field.HOMEPAGE, *homepages, *active]
    if names:
        parts.append(
            f"SELECT %s, f.sponsor_name_key, f.sponsor_name, f.id, f.owner_id FROM {filing} f "  # noqa: S608
            f"WHERE f.sponsor_name_key IN ({rawsql.marks(names)}) AND {in_active}"
        )
        params += [Conflict.Field.SPONSOR_NAME, *names, *active]
    if not parts:
        return []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return cursor.fetchall()


Match = tuple[str, str, int, int]  # field, value, other filing id, other owner id


def matches_many(filings: list[Filing], keys: dict[int, Keys]) -> dict[int, list[Match]]:
    """Every filing of another account that shares a key with each of ``filings``.

    ``filings`` count as submitted in their order: two of them that match each other record
    the earlier one's text (a homepage or name may match by key and be written differently),
    as when the later one's submission finds the earlier one."""
    domains = {d for k in keys.values() for d in k.domains}
    homepages = {h for k in keys.values() for h in k.homepages}
    names = {k.name for k in keys.values() if k.name}
    holders: dict[tuple[str, str], list[Filing]] = defaultdict(list)
    for f in filings:
        k = keys[f.pk]
        for d in k.domains:
            holders[(Conflict.Field.DOMAIN, d)].append(f)
        for h in k.homepages:
            holders[(Conflict.Field.HOMEPAGE, h)].append(f)
        if k.name:
            holders[(Conflict.Field.SPONSOR_NAME, k.name)].append(f)
    found: dict[int, set[Match]] = {f.pk: set() for f in filings}
    order = {f.pk: i for i, f in enumerate(filings)}
    candidates = _candidates(domains, homepages, names)
    own = {(kind, key, other_id): shown for kind, key, shown, other_id, _o in candidates}
    for kind, key, shown, other_id, owner_id in candidates:
        for f in holders.get((kind, key), ()):
            if owner_id != f.owner_id and other_id != f.pk:
                later = order.get(other_id, -1) > order[f.pk]
                value = own.get((kind, key, f.pk), shown) if later else shown
                found[f.pk].add((kind, value, other_id, owner_id))
    return {pk: sorted(m) for pk, m in found.items()}


def detect_conflicts_many(filings: list[Filing]) -> dict[int, list[Conflict]]:
    """Recompute the open conflicts of each filing (call inside the submitting transaction).

    Conflicts no longer found are resolved; new ones are recorded on both filings. Returns
    the conflicts newly recorded on each filing, by filing id.
    """
    filings = list({f.pk: f for f in filings}.values())
    if not filings:
        return {}
    keys = filings_keys(filings)
    lock_values(v for k in keys.values() for v in k.lock_values())
    now = timezone.now()
    found = matches_many(filings, keys)
    ids = [f.pk for f in filings]
    by_id = {f.pk: f for f in filings}

    own_open: dict[int, list[tuple[int, str, str, int]]] = defaultdict(list)
    mirrored: set[tuple[int, str, int]] = set()  # (holder filing, field, other filing)
    for pk, filing_id, kind, value, other_id in Conflict.objects.filter(
        Q(filing_id__in=ids) | Q(other_filing_id__in=ids), resolved_at__isnull=True
    ).values_list("id", "filing_id", "field", "value", "other_filing_id"):
        if filing_id in by_id:
            own_open[filing_id].append((pk, kind, value, other_id))
        if other_id in by_id:
            mirrored.add((filing_id, kind, other_id))

    stale: list[int] = []
    new: dict[int, list[Conflict]] = {}
    mirrors: list[Conflict] = []
    for filing in filings:
        matches = found[filing.pk]
        found_keys = {(f, v, o) for f, v, o, _ in matches}
        existing = {(f, v, o) for _, f, v, o in own_open[filing.pk]}
        stale += [pk for pk, f, v, o in own_open[filing.pk] if (f, v, o) not in found_keys]
        new[filing.pk] = [
            Conflict(filing=filing, field=f, value=v, other_filing_id=o, other_account_id=owner)
            for f, v, o, owner in matches
            if (f, v, o) not in existing
        ]
        # The mirror conflict on each other filing, unless it is already open there (or is
        # being recorded now because the other filing is in this same batch).
        for f, v, other_id, _owner in matches:
            if (other_id, f, filing.pk) in mirrored or other_id in by_id:
                continue
            mirrored.add((other_id, f, filing.pk))
            mirrors.append(
                Conflict(
                    filing_id=other_id,
                    field=f,
                    value=v,
                    other_filing=filing,
                    other_account_id=filing.owner_id,
                )
            )
    if stale:
        Conflict.objects.filter(id__in=stale).update(resolved_at=now)
    Conflict.objects.bulk_create([c for batch in new.values() for c in batch] + mirrors)
    touched = set(ids) | {o for matches in found.values() for _, _, o, _ in matches}
    refresh_conflict_flags(touched)
    return new


def detect_conflicts(*, filing: Filing) -> list[Conflict]:
    """Recompute the open conflicts of ``filing`` (call inside the submit/re-check transaction).

    Conflicts no longer found are resolved; new ones are recorded on both filings. Returns the
    conflicts newly recorded on ``filing``.
    """
    return detect_conflicts_many([filing])[filing.pk]


def close_own_conflicts(*, filing: Filing) -> None:
    """A filing that leaves review (rejected, revoked, back to draft) keeps no open conflicts.

    Conflicts that other filings have with it stay open until their bureau re-checks them.
    """
    Conflict.objects.filter(filing=filing, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )
    refresh_conflict_flags([filing.id])


def refresh_conflict_flags(filing_ids: Iterable[int]) -> None:
    """Set ``has_open_conflicts`` from the open conflicts of each filing, in one statement
    that writes only the rows whose flag changes."""
    ids = sorted(set(filing_ids))
    if not ids:
        return
    has_open = (
        f"EXISTS (SELECT 1 FROM {rawsql.table(Conflict)} c "  # noqa: S608
        f"WHERE c.filing_id = {rawsql.table(Filing)}.id AND c.resolved_at IS NULL)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {rawsql.table(Filing)} SET has_open_conflicts = {has_open} "  # noqa: S608
            f"WHERE id IN ({rawsql.marks(ids)}) AND has_open_conflicts <> {has_open}",
            ids,
        )
