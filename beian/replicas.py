"""Reads served by PostgreSQL streaming replicas.

Where one database is not enough, the reads the whole country makes — the public query,
every provider's gating and app check, certificate verification — go to read-only copies of
the primary kept by PostgreSQL's own streaming replication; everything else goes to the
primary. Settings (``beian.settings``):

- ``DATABASE_REPLICA_URLS``: the replicas' URLs, each a connection alias in
  ``DATABASE_REPLICAS`` (``replica1``, ``replica2``, …); none by default, and then every read
  goes to the primary;
- ``REPLICA_MAX_LAG_SECONDS``: a replica whose replay is further behind is skipped;
- ``REPLICA_CHECK_SECONDS``: how long a replica's health, once measured, is believed;
- ``READ_YOUR_WRITES_SECONDS``: after a person or a token writes, their reads stay on the
  primary this long, so that nobody misses their own submission.

The views that may read from a replica say so (``ReplicaReadsMixin`` for DRF views,
``replica_reads_view`` for Django views); inside them ``ReplicaRouter`` sends reads to a
healthy replica, and keeps on the primary any read made inside a transaction of the primary
(it may read what the transaction wrote) and every read of a person or token that wrote
lately. A replica that does not answer, or lags past the limit, is skipped with a log line
and the reads fall back to the primary; a query that fails on a replica is run again on the
primary, so a replica going away changes nothing for the people asking.
"""

from __future__ import annotations

import contextvars
import functools
import itertools
import logging
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

PRIMARY = "default"

# Whether the code running now may read from a replica (set by the views that may).
_replica_reads: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "replica_reads", default=False
)
# The replica the router last gave a read to, in the code running now.
_last_replica: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "last_replica", default=None
)
# Round robin over the healthy replicas, per process.
_turn = itertools.count()
# alias -> (measured at, monotonic seconds; usable?)
_health: dict[str, tuple[float, bool]] = {}

# The replica's replay lag in seconds: none while it has replayed everything it received, else
# the age of the last transaction it replayed (PostgreSQL's own functions; 0 on a server that
# is not in recovery, which is no replica).
LAG_SQL = (
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 "
    "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)


def replica_aliases() -> list[str]:
    """The connection aliases of the configured replicas, in order."""
    return list(getattr(settings, "DATABASE_REPLICAS", []) or [])


def replica_lag(alias: str) -> float:
    """Seconds the replica ``alias`` is behind the primary (``LAG_SQL``); raises
    ``DatabaseError`` when it cannot be asked."""
    with connections[alias].cursor() as cursor:
        cursor.execute(LAG_SQL)
        (lag,) = cursor.fetchone()
    return float(lag or 0)


def _healthy(alias: str) -> bool:
    now = time.monotonic()
    measured = _health.get(alias)
    if measured is not None and now - measured[0] < settings.REPLICA_CHECK_SECONDS:
        return measured[1]
    try:
        lag = replica_lag(alias)
    except DatabaseError as exc:
        usable, why = False, f"does not answer ({exc.__class__.__name__}: {exc})".strip()
        connections[alias].close()
    else:
        usable = lag <= settings.REPLICA_MAX_LAG_SECONDS
        why = f"lags {lag:.1f} s (limit {settings.REPLICA_MAX_LAG_SECONDS} s)"
    was = measured[1] if measured is not None else True
    if not usable:
        logger.warning("replica %s skipped, reads go to the primary: %s", alias, why)
    elif not was:
        logger.info("replica %s serves reads again", alias)
    _health[alias] = (now, usable)
    return usable


def mark_down(alias: str) -> None:
    """Believe the replica ``alias`` unusable until its next check (a query on it failed)."""
    _health[alias] = (time.monotonic(), False)
    connections[alias].close()


def forget_health() -> None:
    """Measure every replica again at its next use (tests, settings changed)."""
    _health.clear()


def usable_replica() -> str | None:
    """A healthy replica's alias, taking turns among them, or None (no replica, or none
    usable: the reads go to the primary)."""
    aliases = replica_aliases()
    if not aliases:
        return None
    start = next(_turn)
    for offset in range(len(aliases)):
        alias = aliases[(start + offset) % len(aliases)]
        if _healthy(alias):
            return alias
    return None


WROTE_PREFIX = "replicas:wrote:"


def _wrote_key(user_id) -> str:
    return f"{WROTE_PREFIX}{user_id}"


def wrote_lately(user) -> bool:
    """Whether ``user`` (authenticated) wrote within ``READ_YOUR_WRITES_SECONDS`` (one cache
    read)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(cache.get(_wrote_key(user.pk)))


def remember_write(user) -> None:
    """Keep ``user``'s reads on the primary for ``READ_YOUR_WRITES_SECONDS``."""
    if user is not None and getattr(user, "is_authenticated", False):
        cache.set(_wrote_key(user.pk), 1, timeout=settings.READ_YOUR_WRITES_SECONDS)


def begin_replica_reads(user=None) -> contextvars.Token | None:
    """Let the code that follows read from a replica, unless ``user`` wrote lately (then it
    stays on the primary) or no replica is configured; returns what ``end_replica_reads``
    takes back."""
    if not replica_aliases() or wrote_lately(user):
        return None
    return _replica_reads.set(True)


def end_replica_reads(token: contextvars.Token | None) -> None:
    if token is not None:
        _replica_reads.reset(token)


def reading_from_replicas() -> bool:
    """Whether the code running now may read from a replica."""
    return _replica_reads.get()


def _replica_used() -> str | None:
    """The replica the router last gave a read of the code running now, if any."""
    return _last_replica.get()


def run_on_primary_if_replica_fails(call: Callable, *args, **kwargs):
    """``call(*args, **kwargs)``; when it fails on a replica (the replica went away between
    its check and the query), the replica is believed down and the call runs again with every
    read on the primary."""
    try:
        return call(*args, **kwargs)
    except DatabaseError as exc:
        failed = _replica_used()
        if failed is None or not _replica_reads.get():
            raise
        logger.warning("replica %s failed a read, run again on the primary: %s", failed, exc)
        mark_down(failed)
        token = _replica_reads.set(False)
        try:
            return call(*args, **kwargs)
        finally:
            _replica_reads.reset(token)


def read_connection(model=None):
    """The connection a raw SQL read of the code running now goes to, as the router would
    send an ORM read of ``model`` (raw cursors do not pass the router)."""
    return connections[ReplicaRouter().db_for_read(model)]


class ReplicaRouter:
    """Django's database router: reads to a healthy replica inside the views that may read
    from one (``reading_from_replicas``) and outside any transaction of the primary; every
    other read and every write to the primary; migrations on the primary only."""

    def db_for_read(self, model, **hints):
        if not _replica_reads.get() or connections[PRIMARY].in_atomic_block:
            return PRIMARY
        alias = usable_replica()
        if alias is None:
            return PRIMARY
        _last_replica.set(alias)
        return alias

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


class ReplicaReadsMixin:
    """For DRF views whose reads may come from a replica (the public query, gating, the app
    check, certificate verification): set once the caller is authenticated, so that a
    person or token that wrote lately reads the primary; a read failing on a replica runs
    again on the primary."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._replica_token = begin_replica_reads(request.user)

    def finalize_response(self, request, response, *args, **kwargs):
        end_replica_reads(getattr(self, "_replica_token", None))
        self._replica_token = None
        return super().finalize_response(request, response, *args, **kwargs)

    def handle_exception(self, exc):
        if isinstance(exc, DatabaseError) and reading_from_replicas():
            failed = _replica_used()
            if failed is not None:
                logger.warning(
                    "replica %s failed a read, run again on the primary: %s", failed, exc
                )
                mark_down(failed)
                end_replica_reads(getattr(self, "_replica_token", None))
                self._replica_token = None
                handler = getattr(self, self.request.method.lower())
                return handler(self.request, *self.args, **self.kwargs)
        return super().handle_exception(exc)


def replica_reads_view(view):
    """Decorator for Django views whose reads may come from a replica (see
    ``ReplicaReadsMixin``)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        token = begin_replica_reads(getattr(request, "user", None))
        try:
            return run_on_primary_if_replica_fails(view, request, *args, **kwargs)
        finally:
            end_replica_reads(token)

    return wrapped


# Tables written as bookkeeping of a request, which nobody reads back from a replica: a
# token's last use (once a minute, on the call that authenticates it), the session, and the
# rate counters kept in the database while Redis is away.
BOOKKEEPING_TABLES = frozenset({"providers_apitoken", "django_session", "beian_ratecounter"})
_WRITTEN_TABLE = re.compile(
    r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([A-Za-z0-9_]+)"?', re.IGNORECASE
)


def is_data_write(sql: str) -> bool:
    """Whether ``sql`` writes data whose writer must read it back (``ReadYourWritesMiddleware``):
    an INSERT, UPDATE or DELETE of a table other than ``BOOKKEEPING_TABLES``."""
    if sql.lstrip()[:6].upper() not in ("INSERT", "UPDATE", "DELETE"):
        return False
    match = _WRITTEN_TABLE.match(sql)
    return not (match and match.group(1).lower() in BOOKKEEPING_TABLES)


class ReadYourWritesMiddleware:
    """With replicas configured: a request that wrote to the primary keeps its person's (or
    token's) reads on the primary for ``READ_YOUR_WRITES_SECONDS`` (``remember_write``).
    Without replicas it does nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_aliases():
            return self.get_response(request)
        wrote = False

        def watch(execute, sql, params, many, context):
            nonlocal wrote
            if not wrote and is_data_write(sql):
                wrote = True
            return execute(sql, params, many, context)

        with connections[PRIMARY].execute_wrapper(watch):
            response = self.get_response(request)
        if wrote:
            remember_write(getattr(request, "user", None))
        return response
