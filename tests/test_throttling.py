"""The API rate limits count requests with one round trip (beian/limits.py)."""

import re
import time

import pytest

from beian import cache as resilient_cache
from beian import limits
from beian.limits import CountingScopedRateThrottle, count
from public.api import PublicQueryThrottle

pytestmark = pytest.mark.django_db

API = "/api/v1/public/filings/"


def test_a_counter_counts_within_its_window_and_starts_again_after_it():
    key = f"test:hits:{time.monotonic_ns()}"
    assert count(key, 1) == (1, 1)
    found, left = count(key, 1)
    assert found == 2 and 0 <= left <= 1
    assert count(f"{key}:other", 1)[0] == 1
    time.sleep(1.1)
    assert count(key, 1)[0] == 1


def test_the_window_opens_at_the_first_request_and_later_hits_do_not_extend_it():
    key = f"test:window:{time.monotonic_ns()}"
    count(key, 60)
    time.sleep(1.05)
    found, left = count(key, 60)
    assert found == 2
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
    assert limits.current(PublicQueryThrottle.cache_format % {"ident": address}) == 3


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


def test_limits_are_counted_on_the_database_while_redis_is_away(settings):
    from beian.models import RateCounter

    if not isinstance(limits.caches["default"], resilient_cache.ResilientRedisCache):
        pytest.skip("the Redis cache is not configured")
    key = f"test:outage:{time.monotonic_ns()}"
    resilient_cache.trip(60, ConnectionError("test outage"))
    try:
        assert count(key, 60) == (1, 60)
        assert count(key, 60)[0] == 2
        assert RateCounter.objects.get(key=f"rl:{key}").count == 2
    finally:
        resilient_cache.reset()


def test_a_take_counts_every_window_or_none(settings):
    settings.ACCOUNTS_EMAIL_CHANGE_RATE = "2/min,3/hour"
    ident = f"take-{time.monotonic_ns()}"
    charge = limits.Charge("email-change", ident)
    limits.take(charge)
    limits.take(charge)
    with pytest.raises(limits.RateLimited) as refused:
        limits.take(charge)
    assert 0 < refused.value.retry_after <= 60
    # Another ident has its own windows.
    limits.take(limits.Charge("email-change", f"{ident}-other"))


@pytest.mark.parametrize("where", ["redis", "database"])
def test_a_take_given_back_frees_its_place_in_every_window(settings, where):
    settings.ACCOUNTS_EMAIL_CHANGE_RATE = "1/min,2/hour"
    if where == "database":
        if not isinstance(limits.caches["default"], resilient_cache.ResilientRedisCache):
            pytest.skip("the Redis cache is not configured")
        resilient_cache.trip(60, ConnectionError("test outage"))
    try:
        charge = limits.Charge("email-change", f"back-{where}-{time.monotonic_ns()}")
        limits.take(charge)
        limits.give_back(charge)
        limits.take(charge)
        with pytest.raises(limits.RateLimited):
            limits.take(charge)
        limits.give_back(charge)
        limits.give_back(charge)  # never below nothing
        limits.take(charge)
        with pytest.raises(limits.RateLimited):
            limits.take(charge)
    finally:
        resilient_cache.reset()


def test_a_refused_take_counts_nowhere_on_the_database(settings):
    settings.ACCOUNTS_EMAIL_CHANGE_RATE = "1/min,5/hour"
    settings.ACCOUNTS_CODE_RATE_PER_RECIPIENT = "2/min"
    ident = f"db-{time.monotonic_ns()}"
    windows = limits._windows(
        [limits.Charge("email-change", ident), limits.Charge("code-to", ident)]
    )
    assert limits._db_take(windows)[0] == 0
    wait, _answers = limits._db_take(windows)
    assert 0 < wait <= 60
    # code-to (2/min) had room, but the refusal of email-change left it untouched.
    code_windows = limits._windows([limits.Charge("code-to", ident)])
    assert limits._db_take(code_windows)[0] == 0
    assert limits._db_take(code_windows)[0] > 0


def test_closed_windows_on_the_database_are_forgotten_by_the_hourly_task(settings):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    from beian.models import RateCounter
    from beian.tasks import forget_expired_rate_counters

    settings.ACCOUNTS_CODE_RATE_PER_RECIPIENT = "1/min"
    windows = limits._windows([limits.Charge("code-to", "13900002222")])
    limits._db_take(windows)
    assert forget_expired_rate_counters() == 0
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2)):
        assert forget_expired_rate_counters() == 1
    assert not RateCounter.objects.exists()


def test_idents_from_anyone_make_safe_bounded_keys():
    assert limits.key_part(" Owner-1 ") == "owner-1"
    for odd in ("用户名", "a b", "x" * 300, "tab\there"):
        part = limits.key_part(odd)
        assert part.startswith("h:") and len(part) == 42
    assert limits.key_part("用户名") != limits.key_part("用户")


# Every 429 of the API says how long to wait once -----------------------------------------------


def _one_sentence(detail: str) -> None:
    """The wait is said once: no "Expected available in N seconds" after the message."""
    assert "Expected available" not in detail and "预计" not in detail
    assert len(re.findall(r"\d+", detail)) == 1, detail


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_throttles_refusal_says_the_wait_in_one_sentence(client, monkeypatch, language):
    monkeypatch.setattr(PublicQueryThrottle, "THROTTLE_RATES", {"public": "1/hour"})
    address = "198.51.100.78"
    client.get(API, {"q": "nothing-here.cn"}, REMOTE_ADDR=address)

    limited = client.get(
        API, {"q": "nothing-here.cn"}, REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=language
    )

    assert limited.status_code == 429
    assert 3590 <= int(limited.headers["Retry-After"]) <= 3600
    detail = limited.json()["detail"]
    _one_sentence(detail)
    if language == "en":
        assert detail == "Too many requests: try again in 60 minutes."
    else:
        assert detail == "请求过于频繁，请60分钟后再试。"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_verifications_429_says_the_wait_once(client, settings, language):
    settings.FILING_VERIFICATION_TRIES_PER_IP = "1/hour"
    body = {"mobile": "13700000001", "code": "123456", "id_last6": "31002X"}
    url = "/api/v1/verification/"
    client.post(url, body, content_type="application/json")

    limited = client.post(url, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE=language)

    assert limited.status_code == 429
    assert limited.headers["Retry-After"]
    detail = limited.json()["detail"]
    _one_sentence(detail)
    assert ("60 minutes" in detail) if language == "en" else ("60分钟" in detail)


def test_a_wait_under_a_minute_is_said_in_seconds():
    from django.utils import translation

    from beian.api_errors import wait_message

    with translation.override("en"):
        assert wait_message(0.2) == "Too many requests: try again in 1 second."
        assert wait_message(59) == "Too many requests: try again in 59 seconds."
        assert wait_message(61) == "Too many requests: try again in 2 minutes."
        assert wait_message(None) == "Too many requests: try again later."
