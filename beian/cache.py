"""The Django cache on Redis, kept answering while Redis is away.

Django's ``RedisCache`` raises on a connection error, so an outage of Redis would turn every
page that counts a rate limit or reads a cached answer into a server error. This backend
answers from a memory cache of its own process instead, for as long as Redis is unreachable:
rate limits keep being counted (per process rather than shared), cached answers are computed
again, and nothing a request needs is lost. After a failure Redis is not asked again for
``FALLBACK_RETRY_SECONDS`` (an OPTIONS key, default 5), so a request during the outage does
not wait for one connection timeout per cache call. See docs/decisions.md.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache as default_cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)

# One breaker per process: Django makes a backend instance per thread.
_state_lock = threading.Lock()
_down_until = 0.0


def redis_is_down() -> bool:
    """True while this process answers from its memory cache."""
    return time.monotonic() < _down_until


def _trip(retry_after: float, exc: Exception) -> None:
    global _down_until
    with _state_lock:
        was_up = not redis_is_down()
        _down_until = time.monotonic() + retry_after
    if was_up:
        logger.warning(
            "Redis cache unreachable (%s); answering from process memory for %ss",
            exc,
            retry_after,
        )


def reset() -> None:
    """Ask Redis again at the next call (tests, and after a planned restart)."""
    global _down_until
    with _state_lock:
        _down_until = 0.0


# The counter of ``hit`` (the window opens at the first hit), then a stamp and the value whose
# key is built from it; a missing stamp is set to the fresh one given (nothing can be cached
# under it yet). Keys made from a value cannot be declared to Redis Cluster; the cache is one
# Redis server.
_HIT_AND_GET_STAMPED = """
local count = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
local stamp = redis.call('GET', KEYS[2])
local value = false
if stamp then
  value = redis.call('GET', ARGV[2] .. stamp .. ARGV[3])
else
  stamp = ARGV[4]
  if tonumber(ARGV[5]) > 0 then
    redis.call('SET', KEYS[2], stamp, 'EX', ARGV[5])
  else
    redis.call('SET', KEYS[2], stamp)
  end
end
return {count, ttl, stamp, value}
"""


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's client builds a new ``redis.Redis`` for every cache call, and redis-py's
    constructor fills a table of some 200 response callbacks each time: a tenth of a
    millisecond of Python per call. A ``redis.Redis`` is safe to share (connections come
    from its pool), so one per pool is kept."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        self.retry_after = float(options.pop("FALLBACK_RETRY_SECONDS", 5))
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = ReusedClientRedisCacheClient
        self._scripts: dict[int, Any] = {}
        self.fallback = LocMemCache(
            "beian-redis-fallback",
            {"TIMEOUT": params.get("TIMEOUT", 300), "OPTIONS": {"MAX_ENTRIES": 10000}},
        )

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if not redis_is_down():
            try:
                return getattr(super(), name)(*args, **kwargs)
            except UNREACHABLE as exc:
                _trip(self.retry_after, exc)
        return getattr(self.fallback, name)(*args, **kwargs)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout, version)

    def hit(self, key: str, window: int) -> tuple[int, int]:
        """Count one hit on ``key`` in one round trip: (hits so far, seconds until the count
        starts again). The window opens at the first hit and lasts ``window`` seconds."""
        if not redis_is_down():
            try:
                name = self.make_and_validate_key(key)
                pipe = self._cache.get_client(name, write=True).pipeline(transaction=False)
                pipe.incr(name)
                pipe.expire(name, window, nx=True)
                pipe.ttl(name)
                count, _set, ttl = pipe.execute()
                return int(count), max(int(ttl), 0)
            except UNREACHABLE as exc:
                _trip(self.retry_after, exc)
        return _count_hit(self.fallback, key, window)

    def hit_and_get_stamped(
        self, key: str, window: int, stamp: Stamp, prefix: str, suffix: str
    ) -> tuple[int, int, Any, Any]:
        """``hit(key, window)``, the stamp at ``stamp.key`` (set to ``stamp.fresh`` when
        missing) and the value at ``prefix + stamp + suffix``, in one round trip (a Lua
        script): (hits, seconds left, stamp or None, value or None). Stamps are integers,
        which the cache stores as text."""
        if not redis_is_down():
            try:
                name = self.make_and_validate_key(key)
                client = self._cache.get_client(name, write=True)
                script = self._scripts.get(id(client))
                if script is None:
                    script = self._scripts.setdefault(
                        id(client), client.register_script(_HIT_AND_GET_STAMPED)
                    )
                count, ttl, found, value = script(
                    keys=[name, self.make_and_validate_key(stamp.key)],
                    args=[
                        window,
                        self.make_and_validate_key(prefix),
                        suffix,
                        stamp.fresh,
                        stamp.lifetime or 0,
                    ],
                )
                found = int(found) if found and found.isdigit() else None
                if value:
                    value = self._cache._serializer.loads(value)
                return int(count), max(int(ttl), 0), found, value or None
            except UNREACHABLE as exc:
                _trip(self.retry_after, exc)
        return _hit_and_get_stamped(self.fallback, key, window, stamp, prefix, suffix)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version)

    def clear(self):
        self.fallback.clear()
        return self._call("clear")


def _count_hit(cache, key: str, window: int) -> tuple[int, int]:
    """``hit`` for any cache: a counter, and the time its window opened beside it."""
    now = time.time()
    if cache.add(key, 1, timeout=window):
        cache.set(f"{key}:opened", now, timeout=window)
        return 1, window
    try:
        count = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=window)
        cache.set(f"{key}:opened", now, timeout=window)
        return 1, window
    opened = cache.get(f"{key}:opened", now)
    return count, max(int(round(window - (now - opened))), 0)


def count_hit(key: str, window: int) -> tuple[int, int]:
    """(hits on ``key`` in its current window, seconds left in the window, at most
    ``window``): the counter behind the rate limits, one Redis round trip a call."""
    hit = getattr(default_cache, "hit", None)
    if hit is not None:
        return hit(key, window)
    return _count_hit(default_cache, key, window)


@dataclass(frozen=True)
class Stamp:
    """Where a stamp is kept, the value to start it with, and how long it lives (None: for
    ever)."""

    key: str
    fresh: int
    lifetime: int | None = None


def _hit_and_get_stamped(cache, key, window, stamp: Stamp, prefix, suffix):
    count, left = _count_hit(cache, key, window)
    found = cache.get(stamp.key)
    if found is None:
        cache.add(stamp.key, stamp.fresh, timeout=stamp.lifetime)
        return count, left, cache.get(stamp.key), None
    if not isinstance(found, int):
        return count, left, None, None
    return count, left, found, cache.get(f"{prefix}{found}{suffix}")


def count_hit_and_get_stamped(
    key: str, window: int, stamp: Stamp, prefix: str, suffix: str
) -> tuple[int, int, Any, Any]:
    """``count_hit(key, window)``, the integer stamp at ``stamp.key`` (started when missing)
    and the cached value at ``prefix + stamp + suffix``, in one Redis round trip."""
    both = getattr(default_cache, "hit_and_get_stamped", None)
    if both is not None:
        return both(key, window, stamp, prefix, suffix)
    return _hit_and_get_stamped(default_cache, key, window, stamp, prefix, suffix)
