"""API rate limits that cost one cache round trip, whatever the rate.

DRF's ``SimpleRateThrottle`` keeps the time of every request of the last period in one cache
entry and reads and rewrites the whole list on each request: at the rates a provider's
gating calls reach (thousands a minute on one token) that list is thousands of entries long.
These throttles keep a counter instead: a window opens at a caller's first request and lasts
the rate's period; requests beyond the rate in that window are refused with the seconds left
as ``Retry-After``. The rates and the cache keys are DRF's, so settings and scopes are the same.
"""

from __future__ import annotations

from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

from .cache import count_hit


class CountingRateThrottle(SimpleRateThrottle):
    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        count, self.seconds_left = self.count(self.key)
        return count <= self.num_requests

    def count(self, key: str) -> tuple[int, int]:
        """(requests in the caller's window, seconds left in it)."""
        return count_hit(key, self.duration)

    def wait(self) -> float:
        return max(getattr(self, "seconds_left", self.duration), 1)


class CountingScopedRateThrottle(ScopedRateThrottle, CountingRateThrottle):
    """``ScopedRateThrottle`` (the view's ``throttle_scope``) with the counter above."""
