"""Rate limits that hold under parallel requests: every limit that guards a sender counts and
decides in one atomic step, so requests fired at once send exactly the limit, never more, and
one purpose leaves one live code (PostgreSQL and Redis under CI; the database limiter
elsewhere)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User, VerificationCode
from beian.models import Message
from tests.factories import BureauFactory, UserFactory
from tests.test_faults import run_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="parallel requests need PostgreSQL"
    ),
]
ADDRESS = "198.51.100.200"


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


def unconfirmed_owner(n: int) -> User:
    return UserFactory(
        username=f"race-owner-{n}",
        mobile=f"1390000{n:04d}",
        mobile_verified_at=None,
        email_verified_at=None,
    )


def resend(username: str, address: str = ADDRESS):
    return lambda: Client(REMOTE_ADDR=address).post(
        reverse("api-resend-code"),
        {"username": username, "channel": "sms"},
        content_type="application/json",
    )


def test_twenty_parallel_resends_for_one_account_send_one_sms_and_leave_one_live_code():
    owner = unconfirmed_owner(1)
    answers = run_at_once(*(resend(owner.username, f"198.51.100.{i}") for i in range(20)))
    assert all(not isinstance(a, Exception) for a in answers), answers
    assert Message.objects.filter(to=owner.mobile, channel="sms").count() == 1
    live = VerificationCode.objects.filter(user=owner, channel="sms", used_at__isnull=True)
    assert live.count() == 1
    assert sorted({a.status_code for a in answers}) == [202, 429]


def test_thirty_parallel_resends_from_one_address_send_exactly_the_address_limit(settings):
    settings.ACCOUNTS_CODE_RATE_PER_IP = "10/min"
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "auth": "1000/min",
        },
    }
    owners = [unconfirmed_owner(n) for n in range(30)]
    run_at_once(*(resend(o.username) for o in owners))
    assert Message.objects.filter(channel="sms").count() == 10


def test_parallel_password_reset_requests_send_one_pair_of_codes():
    from accounts import services

    owner = UserFactory(username="race-reset", mobile="13900009901")
    run_at_once(
        *(
            (lambda i=i: services.password_reset_request(username=owner.username, ip=f"10.0.0.{i}"))
            for i in range(12)
        )
    )
    assert Message.objects.filter(to=owner.mobile).count() == 1
    assert Message.objects.filter(to=owner.email).count() == 1
    assert (
        VerificationCode.objects.filter(user=owner, purpose="reset", used_at__isnull=True).count()
        == 2
    )


def test_parallel_forgotten_username_requests_send_exactly_the_limit(settings, monkeypatch):
    from captcha.conf import settings as captcha_settings

    from tests.public_support import approved_filing

    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)
    settings.USERNAME_REMINDER_RATE = "2/hour"
    filing = approved_filing()
    owner = filing.submitted_by
    form = {"number": filing.number, "captcha_0": "x", "captcha_1": "PASSED"}

    def ask(i):
        return lambda: Client(REMOTE_ADDR=f"203.0.113.{i}").post(
            reverse("filings:forgot-username"), form
        )

    answers = run_at_once(*(ask(i) for i in range(10)))
    assert all(a.status_code == 200 for a in answers), answers
    assert Message.objects.filter(to=owner.mobile).count() == 2


def test_parallel_temporary_passwords_from_the_bureau_send_one_sms():
    from review.services import bureau_password_reset
    from tests.test_certificates_support import approved_filing

    filing = approved_filing(domains=("race-temp.cn",))
    owner = filing.submitted_by
    bureau = BureauFactory()
    results = run_at_once(
        *((lambda: bureau_password_reset(account=owner, by=bureau)) for _ in range(10))
    )
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1
    assert (
        Message.objects.filter(to=owner.mobile, template="review_temporary_password").count() == 1
    )


def test_parallel_check_now_clicks_queue_one_check(monkeypatch, settings):
    from certificates import services as certificate_services
    from tests.test_certificates_support import approved_filing

    settings.COMPLIANCE_ON_DEMAND_COOLDOWN_SECONDS = 60
    filing = approved_filing(domains=("race-check.cn",))
    queued = []
    monkeypatch.setattr(certificate_services, "enqueue", lambda task, *a: queued.append(a) or True)
    results = run_at_once(
        *(
            (
                lambda: certificate_services.compliance_request_check(
                    filing=filing, by=filing.submitted_by
                )
            )
            for _ in range(10)
        )
    )
    assert len(queued) == 1
    assert sum(1 for r in results if isinstance(r, certificate_services.CheckTooSoon)) == 9


def test_the_limits_hold_on_the_database_while_redis_is_away(settings):
    from beian import cache as resilient_cache

    resilient_cache.trip(60, ConnectionError("test outage"))
    try:
        owner = unconfirmed_owner(2)
        run_at_once(*(resend(owner.username, f"198.51.100.{i}") for i in range(10)))
        assert Message.objects.filter(to=owner.mobile, channel="sms").count() == 1
    finally:
        resilient_cache.reset()


def test_codes_counted_on_the_database_start_again_after_their_window(settings):
    import datetime as dt

    import time_machine

    from beian import limits

    settings.ACCOUNTS_CODE_RATE_PER_RECIPIENT = "1/min"
    windows = limits._windows([limits.Charge("code-to", "13900001111")])
    assert limits._db_take(windows)[0] == 0
    assert limits._db_take(windows)[0] > 0
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61)):
        assert limits._db_take(windows)[0] == 0
    assert connection.vendor == "postgresql"
