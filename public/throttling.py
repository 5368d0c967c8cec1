"""How often one address may query: a captcha on the page, a rate limit on the API."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.settings import api_settings

from beian.cache import count_hit, count_hit_and_get_stamped
from beian.throttling import CountingRateThrottle

_HOUR = 3600


def client_address(request) -> str:
    """The caller's address. X-Forwarded-For counts only when NUM_PROXIES says how many
    proxies to trust; otherwise anyone could claim a fresh address with every request."""
    if api_settings.NUM_PROXIES:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(api_settings.NUM_PROXIES, len(hops))]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _count_key(address: str) -> str:
    return f"public:query-count:{int(time.time() // _HOUR)}:{address}"


def queries_this_hour(address: str) -> int:
    return cache.get(_count_key(address)) or 0


def count_query(address: str) -> int:
    """Count one page query from ``address`` in this hour's window; the new count."""
    return count_hit(_count_key(address), _HOUR + 60)[0]


def captcha_needed(address: str) -> bool:
    return queries_this_hour(address) >= settings.PUBLIC_QUERY_CAPTCHA_AFTER


class PublicQueryThrottle(CountingRateThrottle):
    """The ``public`` rate of REST_FRAMEWORK settings, per address, for the query API."""

    scope = "public"
    cache_format = "throttle_public_query_%(ident)s"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"ident": client_address(request)}

    def count(self, key: str) -> tuple[int, int]:
        # The same round trip reads the stamp of the published data and the cached answer to
        # the query the view is about to search for (see public.selectors.cached_search).
        from .selectors import ANSWER_PREFIX, ParsedQuery, answer_suffix, stamp_for

        query = self.query
        count, seconds_left, self.stamp, self.answer = count_hit_and_get_stamped(
            key,
            self.duration,
            stamp_for(query if query is not None else ParsedQuery("name", "")),
            ANSWER_PREFIX,
            answer_suffix(query) if query is not None else ":",
        )
        if query is None:
            self.answer = None
        return count, seconds_left

    def allow_request(self, request, view) -> bool:
        # The view may have counted this request already, before DRF took it up.
        counted = getattr(request, "public_throttle", None)
        if counted is not None:
            allowed, self.seconds_left = counted
            return allowed

        from .selectors import QueryInvalid, parse_query

        params = getattr(request, "query_params", None) or request.GET
        try:
            self.query = parse_query(params.get("q"))
        except QueryInvalid:
            self.query = None
        allowed = super().allow_request(request, view)
        request.public_query = (
            self.query,
            getattr(self, "stamp", None),
            getattr(self, "answer", None),
        )
        request.public_throttle = (allowed, getattr(self, "seconds_left", self.duration))
        return allowed
