"""Sliding-window rate limits kept in the Django cache (Redis in production, so shared by
every process). Each key holds the times of its recent events."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

_PERIODS = {"s": 1, "sec": 1, "min": 60, "m": 60, "hour": 3600, "h": 3600, "day": 86400, "d": 86400}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def parse_rates(text: str) -> list[Rate]:
    """``"1/min,5/hour,10/day"`` → three rates, each of which applies."""
    rates = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        count, _slash, period = part.partition("/")
        if not count.strip().isdigit() or period.strip() not in _PERIODS:
            raise ImproperlyConfigured(f"not a rate: {part!r} (expected like 5/hour)")
        rates.append(Rate(int(count), _PERIODS[period.strip()]))
    return rates


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after


def _key(scope: str, ident: str) -> str:
    return f"rl:{scope}:{ident}"


def _recent(key: str, longest: int, now: float) -> list[float]:
    return [t for t in (cache.get(key) or []) if t > now - longest]


def check(scope: str, ident: str, rates: list[Rate], cost: int = 1) -> None:
    """Raise ``RateLimited`` if ``cost`` more events now would exceed any of the rates.

    The windows slide: "1/min" means no two events less than a minute apart.
    """
    if not rates:
        return
    now = time.time()
    times = sorted(_recent(_key(scope, ident), max(r.seconds for r in rates), now))
    waits = []
    for rate in rates:
        in_window = [t for t in times if t > now - rate.seconds]
        excess = len(in_window) + cost - rate.count
        if excess > 0:
            # Wait until enough of the events in this window have aged out of it.
            release = in_window[min(excess, len(in_window)) - 1] if in_window else now
            waits.append(int(release + rate.seconds - now) + 1)
    if waits:
        raise RateLimited(max(waits))


def hit(scope: str, ident: str, rates: list[Rate]) -> None:
    """Count one event now."""
    if not rates:
        return
    now = time.time()
    longest = max(r.seconds for r in rates)
    key = _key(scope, ident)
    times = _recent(key, longest, now)
    times.append(now)
    keep = max(r.count for r in rates) + 1
    cache.set(key, times[-keep:], timeout=longest + 5)
