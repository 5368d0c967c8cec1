"""The Django cache on Redis, kept answering while Redis is away.

Django's ``RedisCache`` raises on a connection error, so an outage of Redis would turn every
page that counts a rate limit or reads a cached answer into a server error. This backend
answers from a memory cache of its own process instead, for as long as Redis is unreachable:
cached answers are computed again, and nothing a request needs is lost (rate limits are
counted on the database meanwhile, ``beian/limits.py``). After a failure Redis is not asked again for
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


def trip(retry_after: float, exc: Exception) -> None:
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
                trip(self.retry_after, exc)
        return getattr(self.fallback, name)(*args, **kwargs)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout, version)

    def hit_and_get_stamped(
        self, key: str, window: int, stamp: Stamp, prefix: str, suffix: str
    ) -> tuple[int, int, Any, Any] | None:
        """A counter on ``key`` (the window opens at the first hit and lasts ``window``
        seconds), the stamp at ``stamp.key`` (set to ``stamp.fresh`` when missing) and the
        value at ``prefix + stamp + suffix``, in one round trip (a Lua script): (hits, seconds
        left, stamp or None, value or None). Stamps are integers, which the cache stores as
        text. None while Redis is away: ``beian.limits.count_and_get_stamped`` then counts on
        the database."""
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
                trip(self.retry_after, exc)
        return None

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


@dataclass(frozen=True)
class Stamp:
    """Where a stamp is kept, the value to start it with, and how long it lives (None: for
    ever)."""

    key: str
    fresh: int
    lifetime: int | None = None


def get_stamped(stamp: Stamp, prefix: str, suffix: str) -> tuple[Any, Any]:
    """The integer stamp at ``stamp.key`` (started when missing) and the cached value at
    ``prefix + stamp + suffix``, read with ordinary cache calls (where Redis is away)."""
    found = default_cache.get(stamp.key)
    if found is None:
        default_cache.add(stamp.key, stamp.fresh, timeout=stamp.lifetime)
        return default_cache.get(stamp.key), None
    if not isinstance(found, int):
        return None, None
    return found, default_cache.get(f"{prefix}{found}{suffix}")
