"""Conflict detection (Q17): the same homepage, a shared domain or the same sponsor name in a
filing of another account.

Detection is symmetric: when a submission finds another account's filing, the conflict is
recorded on both, so that of two owners submitting the same domain at the same moment both
see it. On PostgreSQL, transaction-level advisory locks on the compared values serialise such
submissions, so the later one always sees the earlier one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from .models import Conflict, Domain, Filing, PublishedDomain, Website
from .normalize import sponsor_name_key


def lock_values(values: Iterable[str]) -> None:
    """Hold a transaction-scoped advisory lock on each value (PostgreSQL; a no-op elsewhere)."""
    if connection.vendor != "postgresql":
        return
    keys = sorted(
        {
            int.from_bytes(hashlib.blake2b(v.encode(), digest_size=8).digest(), "big", signed=True)
            for v in values
        }
    )
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def filing_keys(filing: Filing) -> tuple[set[str], set[str], str]:
    domains = set(Domain.objects.filter(filing=filing).values_list("name", flat=True))
    homepages = {
        key
        for key in Website.objects.filter(filing=filing).values_list("homepage_key", flat=True)
        if key
    }
    return domains, homepages, sponsor_name_key(filing.sponsor_name)


def find_matches(filing: Filing) -> list[tuple[str, str, int, int]]:
    """(field, value, other filing id, other owner id) for every match, in one query per field."""
    domains, homepages, name_key = filing_keys(filing)
    others = Q(filing__status__in=Filing.ACTIVE_STATUSES) & ~Q(filing__owner_id=filing.owner_id)
    matches: set[tuple[str, str, int, int]] = set()
    if domains:
        for name, other_id, owner_id in Domain.objects.filter(others, name__in=domains).values_list(
            "name", "filing_id", "filing__owner_id"
        ):
            matches.add((Conflict.Field.DOMAIN, name, other_id, owner_id))
        # Approved domains stay public while an amendment that drops them is under review.
        for name, other_id, owner_id in PublishedDomain.objects.filter(
            others, name__in=domains
        ).values_list("name", "filing_id", "filing__owner_id"):
            matches.add((Conflict.Field.DOMAIN, name, other_id, owner_id))
    if homepages:
        for _key, homepage, other_id, owner_id in Website.objects.filter(
            others, homepage_key__in=homepages
        ).values_list("homepage_key", "homepage", "filing_id", "filing__owner_id"):
            matches.add((Conflict.Field.HOMEPAGE, homepage, other_id, owner_id))
    if name_key:
        for name, other_id, owner_id in (
            Filing.objects.filter(status__in=Filing.ACTIVE_STATUSES, sponsor_name_key=name_key)
            .exclude(owner_id=filing.owner_id)
            .values_list("sponsor_name", "id", "owner_id")
        ):
            matches.add((Conflict.Field.SPONSOR_NAME, name, other_id, owner_id))
    return sorted(matches)


def detect_conflicts(*, filing: Filing) -> list[Conflict]:
    """Recompute the open conflicts of ``filing`` (call inside the submit/re-check transaction).

    Conflicts no longer found are resolved; new ones are recorded on both filings. Returns the
    conflicts newly recorded on ``filing``.
    """
    domains, homepages, name_key = filing_keys(filing)
    lock_values(
        [f"d:{d}" for d in domains]
        + [f"h:{h}" for h in homepages]
        + ([f"s:{name_key}"] if name_key else [])
    )
    now = timezone.now()
    found = find_matches(filing)
    found_keys = {(f, v, o) for f, v, o, _ in found}
    open_conflicts = list(Conflict.objects.filter(filing=filing, resolved_at__isnull=True))
    stale = [
        c.id for c in open_conflicts if (c.field, c.value, c.other_filing_id) not in found_keys
    ]
    if stale:
        Conflict.objects.filter(id__in=stale).update(resolved_at=now)
    existing = {(c.field, c.value, c.other_filing_id) for c in open_conflicts}
    new = [
        Conflict(filing=filing, field=f, value=v, other_filing_id=o, other_account_id=owner)
        for f, v, o, owner in found
        if (f, v, o) not in existing
    ]
    Conflict.objects.bulk_create(new)
    # The mirror conflict on each other filing, unless it is already open there.
    mirrors = []
    for f, v, other_id, _owner in found:
        if not Conflict.objects.filter(
            filing_id=other_id, field=f, other_filing=filing, resolved_at__isnull=True
        ).exists():
            mirrors.append(
                Conflict(
                    filing_id=other_id,
                    field=f,
                    value=v,
                    other_filing=filing,
                    other_account_id=filing.owner_id,
                )
            )
    Conflict.objects.bulk_create(mirrors)
    refresh_conflict_flags([filing.id, *{o for _, _, o, _ in found}])
    return new


def close_own_conflicts(*, filing: Filing) -> None:
    """A filing that leaves review (rejected, revoked, back to draft) keeps no open conflicts.

    Conflicts that other filings have with it stay open until their bureau re-checks them.
    """
    Conflict.objects.filter(filing=filing, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )
    refresh_conflict_flags([filing.id])


def refresh_conflict_flags(filing_ids: Iterable[int]) -> None:
    ids = set(filing_ids)
    with_open = set(
        Conflict.objects.filter(filing_id__in=ids, resolved_at__isnull=True)
        .values_list("filing_id", flat=True)
        .distinct()
    )
    if with_open:
        Filing.objects.filter(id__in=with_open).update(has_open_conflicts=True)
    if ids - with_open:
        Filing.objects.filter(id__in=ids - with_open).update(has_open_conflicts=False)
