"""One limiter with named limits (healthchecks' ``TokenBucket`` idea), for every rate limit of
the portal: how often codes, temporary passwords and reminders are sent, how often an address
may guess, query or ask for a check, and the API throttles.

A limit is a name and the setting that holds its rates (``"1/min,5/hour,10/day"``: every
period of the list applies). ``take`` counts an event and decides in one atomic step for every
window of every limit it is given, all or nothing: on Redis one Lua script; where Redis is
away (or not configured) one transaction on the database, whose rows are locked in key order.
So twenty parallel requests for a limit of one send one message, never two, and a refused
request counts nowhere.

A window opens at its first event and lasts its period; "1/min" thus also means no two events
less than a minute apart. A refused caller is told how long its fullest window has left.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

from .cache import UNREACHABLE, ResilientRedisCache, Stamp, get_stamped, redis_is_down, trip
from .clientaddress import client_address
from .models import RateCounter

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "sec": 1, "min": 60, "m": 60, "hour": 3600, "h": 3600, "day": 86400, "d": 86400}

# Every limit that is not a DRF throttle: its name and the setting holding its rates.
LIMITS: dict[str, str] = {
    # Verification codes (SPEC §2), per recipient and per client address.
    "code-to": "ACCOUNTS_CODE_RATE_PER_RECIPIENT",
    "code-from": "ACCOUNTS_CODE_RATE_PER_IP",
    # Q16: how often one unconfirmed account may move its email (each move is an SMS).
    "email-change": "ACCOUNTS_EMAIL_CHANGE_RATE",
    # A bureau's temporary password is sent like a code, so no more often.
    "temporary-password": "ACCOUNTS_CODE_RATE_PER_RECIPIENT",
    # Forgotten username (Q11): per client address and per filing number.
    "username-reminder-from": "USERNAME_REMINDER_RATE",
    "username-reminder-number": "USERNAME_REMINDER_RATE",
    # Wrong codes on the anonymous confirmation API, per client address and per code.
    "verify-wrong-from": "ACCOUNTS_VERIFY_FAILURES_PER_IP",
    "verify-wrong-code": "ACCOUNTS_VERIFY_FAILURES_PER_CODE",
    # The public SMS verification of applications (SPEC §12), per client address.
    "verification-from": "FILING_VERIFICATION_TRIES_PER_IP",
    # Failed sign-ins per username over every address (the address pair is django-axes').
    "sign-in-failures": "ACCOUNTS_USERNAME_FAILURE_RATE",
    # After that many failures: one try per username in this period, whoever asks.
    "sign-in-slow": "ACCOUNTS_USERNAME_SLOW_RATE",
    # The certificate checker on demand: per filing (owner, provider, bureau) and per address
    # for the public "check a domain" page.
    "compliance-on-demand": "COMPLIANCE_ON_DEMAND_COOLDOWN_SECONDS",
    "cert-domain-check": "CERT_DOMAIN_CHECK_RATE",
}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def parse_rates(text: str) -> list[Rate]:
    """``"1/min,5/hour,10/day"`` → three rates, each of which applies; ``"1/30s"`` is one a
    30-second window. Raises ``ImproperlyConfigured`` for anything else."""
    rates = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        count, _slash, period = part.partition("/")
        period = period.strip()
        multiple = ""
        while period[:1].isdigit():
            multiple, period = multiple + period[0], period[1:]
        if not count.strip().isdigit() or period not in _PERIODS:
            raise ImproperlyConfigured(f"not a rate: {part!r} (expected like 5/hour)")
        rates.append(Rate(int(count), _PERIODS[period] * int(multiple or 1)))
    return rates


def rates_of(limit: str) -> list[Rate]:
    """The rates of a named limit, read from its setting now (tests override settings). A
    setting in seconds is a cooldown: one event per that many seconds (none when 0)."""
    try:
        setting = LIMITS[limit]
    except KeyError as exc:
        raise ImproperlyConfigured(f"no limit named {limit!r}") from exc
    value = getattr(settings, setting)
    if isinstance(value, int | float):
        return [Rate(1, math.ceil(value))] if value > 0 else []
    return parse_rates(value)


class RateLimited(Exception):
    """Refused: ``retry_after`` seconds until the fullest window has room again."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Charge:
    """``cost`` events for ``ident`` (an address, a recipient, an account id) under ``limit``."""

    limit: str
    ident: str
    cost: int = 1


@dataclass(frozen=True)
class _Window:
    key: str
    limit: int
    seconds: int
    cost: int


def key_part(ident: str) -> str:
    """``ident`` as part of a counter's key: lower case, and a SHA-256 digest instead when it
    is long or holds anything but printable ASCII (usernames and addresses come from anyone)."""
    text = (ident or "").strip().lower()
    if len(text) <= 80 and text.isascii() and text.isprintable() and " " not in text:
        return text
    return "h:" + hashlib.sha256(text.encode()).hexdigest()[:40]


def _windows(charges: list[Charge]) -> list[_Window]:
    windows = []
    for charge in charges:
        for rate in rates_of(charge.limit):
            key = f"rl:{charge.limit}:{rate.seconds}:{key_part(charge.ident)}"
            windows.append(_Window(key, rate.count, rate.seconds, charge.cost))
    return windows


# Every window is checked before any is counted, so a refusal counts nowhere. A window is a
# hash (count, closing time); the closing time is the portal's clock, not Redis's, so that
# the database and Redis agree on when a window ends. ARGV: now, then limit, seconds, cost
# per key.
_TAKE = """
local now = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[3 * i - 1])
  local seconds = tonumber(ARGV[3 * i])
  local cost = tonumber(ARGV[3 * i + 1])
  local held = redis.call('HMGET', key, 'n', 'until')
  local n = tonumber(held[1] or '0')
  local closes = tonumber(held[2] or '0')
  if closes <= now then n = 0 end
  if n + cost > limit then
    local left = seconds
    if n > 0 then left = closes - now end
    if left < 1 then left = 1 end
    if left > wait then wait = left end
  end
end
if wait > 0 then return math.ceil(wait) end
for i, key in ipairs(KEYS) do
  local seconds = tonumber(ARGV[3 * i])
  local cost = tonumber(ARGV[3 * i + 1])
  local closes = tonumber(redis.call('HGET', key, 'until') or '0')
  if closes <= now then
    redis.call('HSET', key, 'n', cost, 'until', now + seconds)
    redis.call('EXPIRE', key, math.ceil(seconds) + 60)
  else
    redis.call('HINCRBY', key, 'n', cost)
  end
end
return 0
"""

# Undo a take: each window (a hash as _TAKE writes it) loses ``cost`` events while it holds
# them. ARGV: the cost per key.
_GIVE_BACK = """
for i, key in ipairs(KEYS) do
  local cost = tonumber(ARGV[i])
  local n = tonumber(redis.call('HGET', key, 'n') or '0')
  if n >= cost then redis.call('HINCRBY', key, 'n', -cost) end
end
return 0
"""

# One counter: the count after this event and the seconds left in its window.
_COUNT = """
local count = redis.call('INCRBY', KEYS[1], tonumber(ARGV[2]))
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1])) end
return {count, redis.call('TTL', KEYS[1])}
"""


def _redis() -> ResilientRedisCache | None:
    """The cache on Redis, or None where Redis is away or not configured."""
    backend = caches["default"]
    if not isinstance(backend, ResilientRedisCache) or redis_is_down():
        return None
    return backend


_scripts: dict[tuple[int, str], object] = {}


def _script(backend: ResilientRedisCache, name: str, source: str):
    client = backend._cache.get_client(None, write=True)
    script = _scripts.get((id(client), name))
    if script is None:
        script = _scripts.setdefault((id(client), name), client.register_script(source))
    return script


def _redis_take(backend: ResilientRedisCache, windows: list[_Window]) -> int | None:
    try:
        wait = _script(backend, "take", _TAKE)(
            keys=[backend.make_and_validate_key(w.key) for w in windows],
            args=[time.time(), *(v for w in windows for v in (w.limit, w.seconds, w.cost))],
        )
        return int(wait)
    except UNREACHABLE as exc:
        trip(backend.retry_after, exc)
        return None


def _db_take(windows: list[_Window], *, refuse: bool = True) -> tuple[int, list[tuple[int, int]]]:
    """The database's take: (seconds to wait or 0, [(count, seconds left)] per window)."""
    now = timezone.now()
    keys = sorted({w.key for w in windows})
    with transaction.atomic():
        RateCounter.objects.bulk_create(
            [RateCounter(key=k, count=0, expires_at=now) for k in keys], ignore_conflicts=True
        )
        rows = {
            row.key: row
            for row in RateCounter.objects.select_for_update().filter(key__in=keys).order_by("key")
        }
        wait = 0
        for w in windows:
            row = rows[w.key]
            current = row.count if row.expires_at > now else 0
            if refuse and current + w.cost > w.limit:
                left = (row.expires_at - now).total_seconds() if current else w.seconds
                wait = max(wait, max(1, math.ceil(left)))
        if wait:
            return wait, []
        answers = []
        for w in windows:
            row = rows[w.key]
            if row.expires_at <= now:
                row.count = 0
                row.expires_at = now + dt.timedelta(seconds=w.seconds)
            row.count += w.cost
            row.save(update_fields=["count", "expires_at"])
            answers.append((row.count, max(0, math.ceil((row.expires_at - now).total_seconds()))))
        return 0, answers


def take(*charges: Charge) -> None:
    """Count each charge under every window of its limit, or none of them.

    Raises ``RateLimited`` (the longest wait of the windows that are full) when any window
    would go over its count; nothing is counted then. Atomic across processes: one Redis
    script, or one database transaction where Redis is away.
    """
    windows = _windows(list(charges))
    if not windows:
        return
    backend = _redis()
    wait = _redis_take(backend, windows) if backend is not None else None
    if wait is None:
        wait, _answers = _db_take(windows)
    if wait:
        raise RateLimited(wait)


def give_back(*charges: Charge) -> None:
    """Undo a ``take`` whose event did not happen after all (the work could not be queued)."""
    windows = _windows(list(charges))
    if not windows:
        return
    backend = _redis()
    if backend is not None:
        try:
            _script(backend, "give_back", _GIVE_BACK)(
                keys=[backend.make_and_validate_key(w.key) for w in windows],
                args=[w.cost for w in windows],
            )
            return
        except UNREACHABLE as exc:
            trip(backend.retry_after, exc)

    for w in windows:
        RateCounter.objects.filter(key=w.key, count__gte=w.cost).update(count=F("count") - w.cost)


def count(key: str, window: int, cost: int = 1) -> tuple[int, int]:
    """Count on a single counter without refusing: (count in the window after this event,
    seconds left in it). The caller allows the first N: the count is taken atomically, so
    exactly N callers see a count of N or less, however many ask at once. One Redis round
    trip (the API throttles), or the database where Redis is away."""
    backend = _redis()
    if backend is not None:
        try:
            found, left = _script(backend, "count", _COUNT)(
                keys=[backend.make_and_validate_key(f"rl:{key}")], args=[window, cost]
            )
            return int(found), max(int(left), 0)
        except UNREACHABLE as exc:
            trip(backend.retry_after, exc)
    _wait, answers = _db_take([_Window(f"rl:{key}", 0, window, cost)], refuse=False)
    return answers[0]


def count_and_get_stamped(
    key: str, window: int, stamp: Stamp, prefix: str, suffix: str
) -> tuple[int, int, object, object]:
    """``count(key, window)``, the integer stamp at ``stamp.key`` (started when missing) and
    the cached value at ``prefix + stamp + suffix``: one Redis round trip (the public query's
    fast path), or the database's count and the cache where Redis is away."""
    backend = _redis()
    if backend is not None:
        answer = backend.hit_and_get_stamped(f"rl:{key}", window, stamp, prefix, suffix)
        if answer is not None:
            return answer
    _wait, answers = _db_take([_Window(f"rl:{key}", 0, window, 1)], refuse=False)
    found, value = get_stamped(stamp, prefix, suffix)
    return (*answers[0], found, value)


_COUNT_FOR_HOLDER = """
local entry = redis.call('GET', KEYS[1])
if not entry then return false end
local holder, person = string.match(entry, '^(%S+) (%S+)')
if not holder then return false end
local key = ARGV[1] .. holder
local count = redis.call('INCR', key)
if redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, tonumber(ARGV[2])) end
local wrote = 0
if ARGV[3] ~= '' then wrote = redis.call('EXISTS', ARGV[3] .. person) end
return {entry, count, redis.call('TTL', key), wrote}
"""


@dataclass(frozen=True)
class HolderCount:
    """What ``count_for_holder`` read: the credential's cached entry (its words), the count
    in the holder's window after this event, the seconds left in it, and whether the person
    named second in the entry wrote lately (``beian.replicas``)."""

    entry: list[str]
    count: int
    seconds_left: int
    wrote: bool


def count_for_holder(
    credential_key: str, counter_prefix: str, window: int, wrote_prefix: str = ""
) -> HolderCount | None:
    """One Redis round trip for a call made with a remembered credential: the entry cached
    at ``credential_key`` (``"<holder> <person> …"``, plain words), and, when it is there,
    ``count(counter_prefix + holder, window)`` and whether ``wrote_prefix + person`` exists.

    None when the entry is missing (forgotten, revoked, expired) or Redis is away: the caller
    then authenticates and counts the ordinary way. Keys are the cache's keys (its prefix and
    version are added here)."""
    backend = _redis()
    if backend is None:
        return None
    try:
        answer = _script(backend, "count-for-holder", _COUNT_FOR_HOLDER)(
            keys=[backend.make_and_validate_key(credential_key)],
            args=[
                backend.make_key(f"rl:{counter_prefix}"),
                window,
                backend.make_key(wrote_prefix) if wrote_prefix else "",
            ],
        )
    except UNREACHABLE as exc:
        trip(backend.retry_after, exc)
        return None
    if not answer:
        return None
    entry, found, left, wrote = answer
    return HolderCount(entry.decode().split(), int(found), max(int(left), 0), bool(wrote))


_REMEMBER_UNLESS = """
if ARGV[3] ~= '' and redis.call('EXISTS', ARGV[3]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return 1
"""

_FORGET = """
for i, key in ipairs(KEYS) do redis.call('DEL', key) end
for i, mark in ipairs(ARGV) do
  if i > 1 then redis.call('SET', mark, '1', 'EX', tonumber(ARGV[1])) end
end
return 1
"""


def remember_holder(
    credential_key: str, words: list[str], seconds: int, *, unless: str = ""
) -> bool:
    """Cache a credential's entry for ``count_for_holder`` for ``seconds`` (plain words, so
    the script can read them), unless the mark at ``unless`` exists (``forget_holders``
    left it): one atomic step. Whether it was cached; nothing happens where Redis is away."""
    backend = _redis()
    if backend is None or seconds <= 0:
        return False
    try:
        done = _script(backend, "remember-unless", _REMEMBER_UNLESS)(
            keys=[backend.make_and_validate_key(credential_key)],
            args=[
                " ".join(words),
                seconds,
                backend.make_and_validate_key(unless) if unless else "",
            ],
        )
    except UNREACHABLE as exc:
        trip(backend.retry_after, exc)
        return False
    return bool(done)


def forget_holders(
    credential_keys: list[str], *, marks: list[str] = (), mark_seconds: int = 60
) -> None:
    """Delete remembered credentials (a revocation's signal: the next call authenticates
    the ordinary way) and set ``marks`` for ``mark_seconds`` (which ``remember_holder``
    honours), in one step, even while this process believes Redis away. Where Redis cannot
    be reached, what was cached there expires by itself (``remember_holder``'s seconds)."""
    backend = caches["default"]
    if not isinstance(backend, ResilientRedisCache) or not credential_keys:
        return
    try:
        _script(backend, "forget", _FORGET)(
            keys=[backend.make_and_validate_key(k) for k in credential_keys],
            args=[mark_seconds, *(backend.make_and_validate_key(m) for m in marks)],
        )
    except UNREACHABLE as exc:
        trip(backend.retry_after, exc)


def current(key: str) -> int:
    """The count so far on a ``count`` counter (0 when its window is closed)."""
    backend = _redis()
    if backend is not None:
        try:
            client = backend._cache.get_client(None)
            return int(client.get(backend.make_and_validate_key(f"rl:{key}")) or 0)
        except UNREACHABLE as exc:
            trip(backend.retry_after, exc)

    row = RateCounter.objects.filter(key=f"rl:{key}", expires_at__gt=timezone.now()).first()
    return row.count if row else 0


def forget_expired() -> int:
    """Delete the database's expired counters (beat, hourly); the number deleted."""
    deleted, _ = RateCounter.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


class CountingRateThrottle(SimpleRateThrottle):
    """A DRF throttle on ``count``: one counter per caller instead of DRF's list of request
    times (which costs more the higher the rate). The rates and scopes are DRF's settings
    (``THROTTLE_AUTH``, ``THROTTLE_PUBLIC``, ``THROTTLE_GATING``); a refused call's
    ``Retry-After`` is what is left of the caller's window."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        found, self.seconds_left = self.count(self.key)
        return found <= self.num_requests

    def get_ident(self, request) -> str:
        """The client's address behind the trusted proxies (``beian.clientaddress``), not
        DRF's own reading of ``X-Forwarded-For``."""
        return client_address(request)

    def count(self, key: str) -> tuple[int, int]:
        """(requests in the caller's window, seconds left in it)."""
        return count(key, self.duration)

    def wait(self) -> float:
        return max(getattr(self, "seconds_left", self.duration), 1)


class CountingScopedRateThrottle(ScopedRateThrottle, CountingRateThrottle):
    """``ScopedRateThrottle`` (the view's ``throttle_scope``) with the counter above."""
