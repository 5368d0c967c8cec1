"""Conflict detection (Q17): the same homepage, a shared domain, the same sponsor name, app
identifier (package name, bundle ID) or mini-program id (SPEC §13) in a
filing of another account.

The conflict belongs to the later submission, whose data was already in the database under
another account (Q17, SPEC §4): it is recorded there as a ``conflict`` (approval waits for
it) and on the earlier filing as a ``later_claim``, a notice for its reviewer that never
blocks, so nobody can freeze another's filing by submitting the same data. On PostgreSQL,
transaction-level advisory locks on the compared values serialise submissions, so of two
owners submitting the same domain at the same moment the second always sees the first, and
exactly one of them holds the conflict.

The work for any number of filings (one submission, or a chunk of a provider import) is a
constant number of queries: their keys, the locks, one UNION over the three indexed keys, the
open rows on either side, and the writes.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from beian import rawsql
from beian.normalforms.names import name_key

from .models import (
    Conflict,
    Domain,
    Filing,
    Identifier,
    PublishedDomain,
    PublishedIdentifier,
    Website,
)

# The conflict field of an identifier by its platform (SPEC §13): an app's package name,
# bundle ID or bundle name, or a mini-program's id.
APP_PLATFORMS = tuple(str(p) for p in Identifier.APP_PLATFORMS)


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
    # App identifiers and mini-program ids, as ``Identifier.key`` writes them (SPEC §13).
    app_identifiers: set[str] = field(default_factory=set)
    mini_program_ids: set[str] = field(default_factory=set)

    def lock_values(self) -> list[str]:
        return (
            [f"d:{d}" for d in self.domains]
            + [f"h:{h}" for h in self.homepages]
            + ([f"s:{self.name}"] if self.name else [])
            + [f"a:{a}" for a in self.app_identifiers]
            + [f"m:{m}" for m in self.mini_program_ids]
        )


# The two reads below are plain SQL over the models' tables: they run for every submission,
# and building them with the ORM cost more than running them. Only quoted table names and
# placeholders are put into the text; every value is a parameter.


def filings_keys(filings: list[Filing]) -> dict[int, Keys]:
    """The domains, homepage keys, sponsor name key, app identifiers and mini-program ids
    of each filing (one query)."""
    keys = {f.pk: Keys(name=name_key(f.sponsor_name)) for f in filings}
    if not keys:
        return keys
    ids = list(keys)
    sql = (
        f"SELECT filing_id, 'd', name FROM {rawsql.table(Domain)} WHERE filing_id IN ({rawsql.marks(ids)}) "  # noqa: S608
        "UNION ALL "
        f"SELECT filing_id, 'h', homepage_key FROM {rawsql.table(Website)} "
        f"WHERE filing_id IN ({rawsql.marks(ids)}) AND homepage_key <> '' "
        "UNION ALL "
        f"SELECT filing_id, CASE WHEN platform IN ({rawsql.marks(APP_PLATFORMS)}) THEN 'a' "
        f"ELSE 'm' END, key FROM {rawsql.table(Identifier)} "
        f"WHERE filing_id IN ({rawsql.marks(ids)})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ids + ids + list(APP_PLATFORMS) + ids)
        for filing_id, kind, key in cursor.fetchall():
            held = keys[filing_id]
            {
                "d": held.domains,
                "h": held.homepages,
                "a": held.app_identifiers,
                "m": held.mini_program_ids,
            }[kind].add(key)
    return keys


def _identifier_parts(field_: str, values: set[str], active: list[str]) -> tuple[str, list]:
    """The candidates' SQL and parameters for app identifiers (``field_`` app_identifier)
    or mini-program ids: the working copies' identifier rows, and the published ones (an
    approved app stays public while an amendment that drops it is under review), compared
    as ``Identifier.key`` writes them (an iOS bundle ID in lower case)."""
    filing = rawsql.table(Filing)
    in_active = f"f.status IN ({rawsql.marks(active)})"
    platforms = f"IN ({rawsql.marks(APP_PLATFORMS)})"
    which = platforms if field_ == Conflict.Field.APP_IDENTIFIER else f"NOT {platforms}"
    lowered = sorted({v.lower() for v in values})
    sql = (
        f"SELECT %s, i.key, i.identifier, i.filing_id, f.owner_id FROM {rawsql.table(Identifier)} i "  # noqa: S608
        f"JOIN {filing} f ON f.id = i.filing_id "
        f"WHERE i.key IN ({rawsql.marks(values)}) AND i.platform {which} AND {in_active} "
        "UNION ALL "
        "SELECT %s, CASE WHEN p.platform = 'ios' THEN p.key ELSE p.identifier END, "
        f"p.identifier, p.filing_id, f.owner_id FROM {rawsql.table(PublishedIdentifier)} p "
        f"JOIN {filing} f ON f.id = p.filing_id "
        f"WHERE p.key IN ({rawsql.marks(lowered)}) AND p.platform {which} AND {in_active} "
        f"AND (p.platform = 'ios' OR p.identifier IN ({rawsql.marks(values)}))"
    )
    params = [
        field_,
        *values,
        *APP_PLATFORMS,
        *active,
        field_,
        *lowered,
        *APP_PLATFORMS,
        *active,
        *values,
    ]
    return sql, params


def _candidates(
    domains: set[str],
    homepages: set[str],
    names: set[str],
    app_identifiers: set[str] = frozenset(),
    mini_program_ids: set[str] = frozenset(),
) -> list[tuple]:
    """(field, key, shown value, filing id, owner id) of every active filing holding one of
    the keys, in one query over the indexed keys."""
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
    for field_, values in (
        (Conflict.Field.APP_IDENTIFIER, app_identifiers),
        (Conflict.Field.MINI_PROGRAM_ID, mini_program_ids),
    ):
        if values:
            sql, values_params = _identifier_parts(field_, set(values), active)
            parts.append(sql)
            params += values_params
    if not parts:
        return []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return cursor.fetchall()


@dataclass(frozen=True)
class _Found:
    """A key that a filing shares with another account's active filing."""

    field: str
    own_text: str  # how this filing writes it (a homepage or name may match by key only)
    other_text: str  # how the other filing writes it
    other_id: int
    other_owner_id: int


def _found_many(filings: list[Filing], keys: dict[int, Keys]) -> dict[int, set[_Found]]:
    """Every key each of ``filings`` shares with an active filing of another account."""
    domains = {d for k in keys.values() for d in k.domains}
    homepages = {h for k in keys.values() for h in k.homepages}
    names = {k.name for k in keys.values() if k.name}
    app_identifiers = {a for k in keys.values() for a in k.app_identifiers}
    mini_program_ids = {m for k in keys.values() for m in k.mini_program_ids}
    holders: dict[tuple[str, str], list[Filing]] = defaultdict(list)
    for f in filings:
        k = keys[f.pk]
        for d in k.domains:
            holders[(Conflict.Field.DOMAIN, d)].append(f)
        for h in k.homepages:
            holders[(Conflict.Field.HOMEPAGE, h)].append(f)
        if k.name:
            holders[(Conflict.Field.SPONSOR_NAME, k.name)].append(f)
        for a in k.app_identifiers:
            holders[(Conflict.Field.APP_IDENTIFIER, a)].append(f)
        for m in k.mini_program_ids:
            holders[(Conflict.Field.MINI_PROGRAM_ID, m)].append(f)
    found: dict[int, set[_Found]] = {f.pk: set() for f in filings}
    candidates = _candidates(domains, homepages, names, app_identifiers, mini_program_ids)
    own = {(kind, key, other_id): shown for kind, key, shown, other_id, _o in candidates}
    for kind, key, shown, other_id, owner_id in candidates:
        for f in holders.get((kind, key), ()):
            if owner_id != f.owner_id and other_id != f.pk:
                own_text = own.get((kind, key, f.pk), shown)
                found[f.pk].add(_Found(kind, own_text, shown, other_id, owner_id))
    return found


# Filings with no submission time (approved before the system kept one) count as earliest.
_NEVER = datetime(1900, 1, 1, tzinfo=UTC)
# (holder filing, kind, field, value, other filing) of one conflict row.
RowKey = tuple[int, str, str, str, int]


def detect_conflicts_many(
    filings: list[Filing], *, submitting: bool = True
) -> dict[int, list[Conflict]]:
    """Recompute the conflicts of each filing (call inside the submitting transaction).

    ``filings`` are being submitted in their order (``submitting``), or re-checked. Each key
    shared with another account's active filing is recorded twice: a ``conflict`` on the
    later submission (it blocks approval) and a ``later_claim`` notice on the earlier one
    (Q17, SPEC §4). Which one is later:

    - a pair already recorded (a row open on either side) keeps its direction, so that the
      earlier filer submitting again (Q19) or amending does not become the later one;
    - otherwise a filing being submitted is later than every filing already in the database
      (the advisory locks make the one that commits first the earlier one), and later than
      the filings before it in ``filings``;
    - on a re-check, the later submission time (``submitted_at``, then id) is later.

    Rows of these filings no longer found are resolved, and so are notices about them on
    other filings. Another filing's ``conflict`` with one of them follows what is found while
    the pair still shares something in that field (a value written differently now, a domain
    dropped while another is still shared); once nothing is shared it stays open until its
    bureau re-checks it. Returns the conflicts newly recorded on each filing, by filing id.
    """
    filings = list({f.pk: f for f in filings}.values())
    if not filings:
        return {}
    keys = filings_keys(filings)
    lock_values(v for k in keys.values() for v in k.lock_values())
    now = timezone.now()
    found = _found_many(filings, keys)
    ids = [f.pk for f in filings]
    by_id = {f.pk: f for f in filings}
    order = {pk: i for i, pk in enumerate(ids)}

    open_rows: dict[RowKey, int] = {}
    pair_kinds: dict[tuple[int, str, int], dict[str, str]] = defaultdict(dict)
    for pk, holder, kind, field_, value, other_id in Conflict.objects.filter(
        Q(filing_id__in=ids) | Q(other_filing_id__in=ids), resolved_at__isnull=True
    ).values_list("id", "filing_id", "kind", "field", "value", "other_filing_id"):
        open_rows[(holder, kind, field_, value, other_id)] = pk
        pair_kinds[(holder, field_, other_id)][value] = kind

    submitted_at: dict[int, datetime | None] = {}
    if not submitting:
        outside = {m.other_id for ms in found.values() for m in ms} - set(ids)
        submitted_at = dict(Filing.objects.filter(pk__in=outside).values_list("pk", "submitted_at"))
        submitted_at.update({f.pk: f.submitted_at for f in filings})

    def recorded_direction(filing_id: int, match: _Found) -> bool | None:
        """Whether the filing is the later one, as an open row of the pair says (None when
        no row is open). A row with the same value decides before one with another value."""
        texts = (match.own_text, match.other_text)
        for holder, other, later_kind in (
            (filing_id, match.other_id, Conflict.Kind.CONFLICT),
            (match.other_id, filing_id, Conflict.Kind.LATER_CLAIM),
        ):
            kinds = pair_kinds.get((holder, match.field, other))
            if kinds:
                kind = next((kinds[t] for t in texts if t in kinds), next(iter(kinds.values())))
                return kind == later_kind
        return None

    def is_later(filing: Filing, match: _Found) -> bool:
        recorded = recorded_direction(filing.pk, match)
        if recorded is not None:
            return recorded
        if match.other_id in order:
            return order[filing.pk] > order[match.other_id]
        if submitting:
            return True
        mine = (submitted_at.get(filing.pk) or _NEVER, filing.pk)
        theirs = (submitted_at.get(match.other_id) or _NEVER, match.other_id)
        return mine > theirs

    desired: dict[RowKey, int] = {}  # row -> the other filing's owner
    for filing in filings:
        for match in found[filing.pk]:
            other = match.other_id
            if is_later(filing, match):
                value = match.other_text
                desired[(filing.pk, Conflict.Kind.CONFLICT, match.field, value, other)] = (
                    match.other_owner_id
                )
                desired[(other, Conflict.Kind.LATER_CLAIM, match.field, value, filing.pk)] = (
                    filing.owner_id
                )
            else:
                value = match.own_text
                desired[(other, Conflict.Kind.CONFLICT, match.field, value, filing.pk)] = (
                    filing.owner_id
                )
                desired[(filing.pk, Conflict.Kind.LATER_CLAIM, match.field, value, other)] = (
                    match.other_owner_id
                )

    superseded = {(h, k, f, o) for h, k, f, _v, o in desired}
    stale = [
        pk
        for (holder, kind, field_, value, other), pk in open_rows.items()
        if (holder, kind, field_, value, other) not in desired
        and (
            holder in by_id
            or kind == Conflict.Kind.LATER_CLAIM
            or (holder, kind, field_, other) in superseded
        )
    ]
    rows = [
        Conflict(
            filing_id=holder,
            kind=kind,
            field=field_,
            value=value,
            other_filing_id=other,
            other_account_id=other_owner,
        )
        for (holder, kind, field_, value, other), other_owner in sorted(desired.items())
        if (holder, kind, field_, value, other) not in open_rows
    ]
    if stale:
        Conflict.objects.filter(id__in=stale).update(resolved_at=now)
    Conflict.objects.bulk_create(rows)
    new: dict[int, list[Conflict]] = {pk: [] for pk in ids}
    for row in rows:
        if row.filing_id in new and row.kind == Conflict.Kind.CONFLICT:
            new[row.filing_id].append(row)
    touched = {key[0] for key in open_rows} | {key[0] for key in desired} | set(ids)
    refresh_conflict_flags(touched)
    return new


def detect_conflicts(*, filing: Filing, submitting: bool = True) -> list[Conflict]:
    """Recompute the conflicts of ``filing`` (call inside the submit/re-check transaction):
    ``detect_conflicts_many`` for one filing. Returns the conflicts newly recorded on it."""
    return detect_conflicts_many([filing], submitting=submitting)[filing.pk]


def close_own_conflicts(*, filing: Filing) -> None:
    """A filing that leaves review (rejected, revoked, withdrawn) keeps no open conflicts, and
    the notices of its claim on the earlier filings go with it.

    Conflicts that later filings have with it stay open until their bureau re-checks them.
    """
    now = timezone.now()
    Conflict.objects.filter(filing=filing, resolved_at__isnull=True).update(resolved_at=now)
    Conflict.objects.filter(
        other_filing=filing, kind=Conflict.Kind.LATER_CLAIM, resolved_at__isnull=True
    ).update(resolved_at=now)
    refresh_conflict_flags([filing.id])


def refresh_conflict_flags(filing_ids: Iterable[int]) -> None:
    """Set ``has_open_conflicts`` from the open conflicts (not the notices) of each filing, in
    one statement that writes only the rows whose flag changes."""
    ids = sorted(set(filing_ids))
    if not ids:
        return
    has_open = (
        f"EXISTS (SELECT 1 FROM {rawsql.table(Conflict)} c "  # noqa: S608
        f"WHERE c.filing_id = {rawsql.table(Filing)}.id AND c.resolved_at IS NULL "
        "AND c.kind = %s)"
    )
    kind = Conflict.Kind.CONFLICT.value
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {rawsql.table(Filing)} SET has_open_conflicts = {has_open} "  # noqa: S608
            f"WHERE id IN ({rawsql.marks(ids)}) AND has_open_conflicts <> {has_open}",
            [kind, *ids, kind],
        )
