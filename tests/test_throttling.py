"""The API rate limits count requests with one cache round trip (beian/throttling.py)."""

import time

import pytest
from django.core.cache import cache

from beian import cache as resilient_cache
from beian.cache import count_hit
from beian.throttling import CountingScopedRateThrottle
from public.throttling import PublicQueryThrottle

pytestmark = pytest.mark.django_db

API = "/api/v1/public/filings/"


def test_a_counter_counts_within_its_window_and_starts_again_after_it():
    key = f"test:hits:{time.monotonic_ns()}"
    assert count_hit(key, 1) == (1, 1)
    count, left = count_hit(key, 1)
    assert count == 2 and 0 <= left <= 1
    assert count_hit(f"{key}:other", 1)[0] == 1
    time.sleep(1.1)
    assert count_hit(key, 1)[0] == 1


def test_the_window_opens_at_the_first_request_and_later_hits_do_not_extend_it():
    key = f"test:window:{time.monotonic_ns()}"
    count_hit(key, 60)
    time.sleep(1.05)
    count, left = count_hit(key, 60)
    assert count == 2
    assert left <= 59


def test_a_refused_call_says_how_long_to_wait_and_the_allowance_is_one_number(client, monkeypatch):
    monkeypatch.setattr(PublicQueryThrottle, "THROTTLE_RATES", {"public": "2/hour"})
    address = "198.51.100.77"
    for _ in range(2):
        assert client.get(API, {"q": "nothing-here.cn"}, REMOTE_ADDR=address).status_code == 200
    limited = client.get(API, {"q": "nothing-here.cn"}, REMOTE_ADDR=address)

    assert limited.status_code == 429
    assert 3590 <= int(limited.headers["Retry-After"]) <= 3600
    # The whole allowance of an address is a counter, however high the rate.
    assert cache.get(PublicQueryThrottle.cache_format % {"ident": address}) == 3


def test_scoped_limits_count_each_scope_apart(rf):
    class View:
        throttle_scope = "auth"

    class OtherView:
        throttle_scope = "public"

    request = rf.get("/", REMOTE_ADDR="198.51.100.78")
    request.user = type("Anonymous", (), {"is_authenticated": False})()
    throttle = CountingScopedRateThrottle()
    throttle.THROTTLE_RATES = {"auth": "1/min", "public": "1/min"}
    assert throttle.allow_request(request, View())
    assert not throttle.allow_request(request, View())
    assert 0 < throttle.wait() <= 60
    other = CountingScopedRateThrottle()
    other.THROTTLE_RATES = {"auth": "1/min", "public": "1/min"}
    assert other.allow_request(request, OtherView())


def test_limits_keep_counting_in_process_memory_while_redis_is_away(settings):
    if not hasattr(cache, "hit"):
        pytest.skip("the Redis cache is not configured")
    key = f"test:outage:{time.monotonic_ns()}"
    resilient_cache._trip(60, ConnectionError("test outage"))
    try:
        assert count_hit(key, 60) == (1, 60)
        assert count_hit(key, 60)[0] == 2
    finally:
        resilient_cache.reset()
