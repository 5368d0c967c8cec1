"""The anonymous confirmation call (``POST /api/v1/accounts/verify/``): it answers alike for a
confirmed and an unknown account, and a stranger's wrong tries lock out the stranger's address,
never the new user's code."""

import pytest
from django.urls import reverse

from accounts.models import User
from tests.accounts_support import PASSWORD, last_code, wrong
from tests.factories import BureauFactory, UserFactory

pytestmark = pytest.mark.django_db

MOBILE, EMAIL = "13811112222", "newcomer@example.cn"


def verify(client, address="203.0.113.50", **data):
    return client.post(
        reverse("api-verify"), data, content_type="application/json", REMOTE_ADDR=address
    )


@pytest.fixture
def newcomer(client):
    answer = client.post(
        reverse("api-register"),
        {"username": "newcomer", "password": PASSWORD, "email": EMAIL, "mobile": MOBILE},
        content_type="application/json",
        REMOTE_ADDR="198.51.100.10",
    )
    assert answer.status_code == 201
    return User.objects.get(username="newcomer")


def test_a_confirmed_account_answers_like_an_unknown_one(client):
    UserFactory(username="confirmed-owner")
    BureauFactory(username="confirmed-staff")
    answers = [
        verify(client, username=name, sms_code="123456", email_code="654321")
        for name in ("confirmed-owner", "confirmed-staff", "nobody-at-all")
    ]
    assert {a.status_code for a in answers} == {400}
    assert answers[0].json() == answers[1].json() == answers[2].json()


def test_a_strangers_wrong_tries_lock_out_the_strangers_address_not_the_code(
    client, settings, newcomer
):
    settings.ACCOUNTS_VERIFY_FAILURES_PER_IP = "10/hour"
    sms, email = last_code(MOBILE), last_code(EMAIL)
    answers = [
        verify(client, username="newcomer", sms_code=wrong(sms), email_code=wrong(email))
        for _ in range(12)
    ]
    assert [a.status_code for a in answers[:10]] == [400] * 10
    assert {a.status_code for a in answers[10:]} == {429}
    # Even the right codes from that address wait...
    refused = verify(client, username="newcomer", sms_code=sms, email_code=email)
    assert refused.status_code == 429
    # ...while the new user, elsewhere, confirms with the codes they were sent.
    mine = verify(client, "198.51.100.10", username="newcomer", sms_code=sms, email_code=email)
    assert mine.status_code == 200 and mine.json() == {"username": "newcomer", "verified": True}


def test_guesses_at_one_code_from_many_addresses_stop_at_the_per_code_limit(
    client, settings, newcomer
):
    settings.ACCOUNTS_VERIFY_FAILURES_PER_CODE = "5/hour"
    sms = last_code(MOBILE)
    answers = [
        verify(client, f"203.0.113.{n + 60}", username="newcomer", sms_code=wrong(sms))
        for n in range(6)
    ]
    assert [a.status_code for a in answers] == [400] * 5 + [429]
    # The code itself kept every one of its tries for its holder on the sign-in page.
    code = newcomer.codes.get(channel="sms", used_at__isnull=True)
    assert code.attempts == 0
