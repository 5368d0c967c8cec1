"""Registration and confirming both codes (SPEC §2, Q16, Q18), in the browser and the API."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from accounts.models import User, VerificationCode
from beian.delivery import outbox
from tests.accounts_support import PASSWORD, last_code, wrong
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

MOBILE = "13912345678"
EMAIL = "li.lei@example.cn"


def register(client, **overrides):
    data = {"username": "lilei", "password": PASSWORD, "email": EMAIL, "mobile": MOBILE}
    data.update(overrides)
    return client.post("/api/v1/accounts/register/", data, content_type="application/json")


def verify(client, **data):
    return client.post("/api/v1/accounts/verify/", data, content_type="application/json")


def resend(client, **data):
    return client.post("/api/v1/accounts/resend-code/", data, content_type="application/json")


# The API ----------------------------------------------------------------------------------------


def test_registering_sends_a_6_digit_code_by_sms_and_another_by_email(client):
    response = register(client)
    assert response.status_code == 201, response.content
    assert response.json()["mobile_verified"] is False
    sms, email = outbox(to=MOBILE), outbox(to=EMAIL)
    assert [m["channel"] for m in sms + email] == ["sms", "email"]
    assert last_code(MOBILE) != last_code(EMAIL)
    user = User.objects.get(username="lilei")
    assert (user.role, user.origin, user.identity_verified) == ("owner", "self", False)
    assert user.password.startswith("argon2")


def test_codes_are_stored_only_as_keyed_hashes(client):
    register(client)
    code = last_code(MOBILE)
    stored = VerificationCode.objects.get(channel="sms")
    assert code not in stored.code_hash
    assert len(stored.code_hash) == 64


def test_both_codes_confirm_the_account(client):
    register(client)
    response = verify(
        client, username="lilei", sms_code=last_code(MOBILE), email_code=last_code(EMAIL)
    )
    assert response.status_code == 200
    assert response.json() == {"username": "lilei", "verified": True}
    assert User.objects.get(username="lilei").identity_verified


def test_a_wrong_code_is_refused_and_the_right_code_of_the_other_channel_stands(client):
    register(client)
    response = verify(
        client, username="lilei", sms_code=wrong(last_code(MOBILE)), email_code=last_code(EMAIL)
    )
    assert response.status_code == 400
    assert response.json()["sms_code"][0] in ("The code is not correct.", "验证码不正确。")
    user = User.objects.get(username="lilei")
    assert user.email_verified_at and not user.mobile_verified_at


def test_a_code_works_once(client):
    register(client)
    sms, email = last_code(MOBILE), last_code(EMAIL)
    assert (
        verify(client, username="lilei", sms_code=sms, email_code=wrong(email)).status_code == 400
    )
    User.objects.filter(username="lilei").update(mobile_verified_at=None)
    response = verify(client, username="lilei", sms_code=sms, email_code=email)
    assert response.status_code == 400
    assert "sms_code" in response.json()


def test_wrong_tries_on_the_anonymous_call_do_not_use_up_the_code(client):
    """Anyone may call it with the username: their tries count against their address
    (tests/test_security_verify.py), never against the new user's code."""
    register(client)
    sms = last_code(MOBILE)
    for _ in range(5):
        verify(client, username="lilei", sms_code=wrong(sms), email_code="000000")
    response = client.post(
        "/api/v1/accounts/verify/",
        {"username": "lilei", "sms_code": sms},
        content_type="application/json",
        REMOTE_ADDR="198.51.100.99",
    )
    assert response.status_code == 400  # the email is still to confirm
    assert User.objects.get(username="lilei").mobile_verified_at


def test_the_sms_code_expires_after_10_minutes_the_registration_email_code_after_48_hours(client):
    register(client)
    sms, email = last_code(MOBILE), last_code(EMAIL)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        response = verify(client, username="lilei", sms_code=sms, email_code=email)
    assert response.status_code == 400
    assert set(response.json()) == {"sms_code"}  # the email code was still good
    with time_machine.travel(timezone.now() + dt.timedelta(hours=49)):
        resend(client, username="lilei", channel="sms")
        response = verify(client, username="lilei", sms_code=last_code(MOBILE))
    assert response.status_code == 200


def test_an_email_code_older_than_48_hours_has_expired(client):
    register(client)
    email = last_code(EMAIL)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=48, minutes=1)):
        response = verify(client, username="lilei", sms_code=last_code(MOBILE), email_code=email)
    assert response.status_code == 400
    assert "email_code" in response.json()


def test_a_code_is_bound_to_its_account(client):
    register(client)
    register(client, username="hanmeimei", email="han@example.cn", mobile="13912340000")
    response = verify(client, username="hanmeimei", sms_code=last_code(MOBILE), email_code="1")
    assert response.status_code == 400


def test_unknown_usernames_get_the_same_answer_as_missing_codes(client):
    response = verify(client, username="nobody", sms_code="123456", email_code="123456")
    assert response.status_code == 400
    assert set(response.json()) == {"sms_code", "email_code"}


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("username", "ab", "4 to 32"),
        ("mobile", "12345", "13800138000"),
        ("email", "me@localhost", "receive mail"),
        ("password", "12345678", "numeric"),
    ],
)
def test_bad_registration_input_is_a_field_error_not_a_500(client, settings, field, value, message):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = register(client, **{field: value})
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "field,value",
    [("username", "LiLei"), ("email", "LI.LEI@example.cn"), ("mobile", "+86 139 1234 5678")],
)
def test_taken_usernames_emails_and_mobiles_are_named(client, field, value):
    register(client)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    other = {"username": "other1", "email": "other@example.cn", "mobile": "13700001111"}
    other[field] = value
    response = register(client, **other)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert "taken" in response.json()[field][0] or "another account" in response.json()[field][0]


def test_garbage_bodies_are_400s(client):
    for body in ("not json", "[]", '{"username": 5}'):
        response = client.post("/api/v1/accounts/register/", body, content_type="application/json")
        assert response.status_code == 400


def test_resending_too_soon_is_refused_with_429(client):
    register(client)
    response = resend(client, username="lilei", channel="sms")
    assert response.status_code == 429
    assert "Retry-After" in response


def test_resend_after_a_minute_sends_a_new_code_and_the_old_one_stops_working(client):
    register(client)
    old = last_code(MOBILE)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61)):
        assert resend(client, username="lilei", channel="sms").status_code == 202
        new = last_code(MOBILE)
        assert verify(client, username="lilei", sms_code=old).status_code == 400
        response = verify(client, username="lilei", sms_code=new, email_code=last_code(EMAIL))
    assert response.status_code == 200


def test_per_recipient_limit_of_5_an_hour(client, settings):
    settings.ACCOUNTS_CODE_RATE_PER_IP = "100/min"
    register(client)
    start = timezone.now()
    answers = []
    for minute in range(1, 7):
        with time_machine.travel(start + dt.timedelta(minutes=2 * minute)):
            answers.append(resend(client, username="lilei", channel="sms").status_code)
    # registration sent the first; four more fit in the hour, the fifth resend does not
    assert answers[:4] == [202] * 4
    assert 429 in answers[4:]
    assert len(outbox(to=MOBILE)) == 5


def test_per_ip_limit(client, settings):
    settings.ACCOUNTS_CODE_RATE_PER_IP = "3/hour"
    assert register(client).status_code == 201  # two codes
    response = register(client, username="second", email="s@example.cn", mobile="13700002222")
    assert response.status_code == 429
    assert not User.objects.filter(username="second").exists()
    other_ip = client.post(
        "/api/v1/accounts/register/",
        {
            "username": "third",
            "password": PASSWORD,
            "email": "t@example.cn",
            "mobile": "13700003333",
        },
        content_type="application/json",
        REMOTE_ADDR="10.1.2.3",
    )
    assert other_ip.status_code == 201


def test_resend_for_an_unknown_or_confirmed_account_answers_the_same_and_sends_nothing(client):
    UserFactory(username="done")
    for username in ("nobody", "done"):
        assert resend(client, username=username, channel="sms").status_code == 202
    assert outbox() == []


def test_q16_after_the_mobile_is_confirmed_the_unverified_email_can_be_changed(client):
    register(client)
    response = verify(client, username="lilei", sms_code=last_code(MOBILE), email_code="000000")
    assert response.status_code == 400
    response = resend(client, username="lilei", channel="email", new_email="lilei@mail.example.com")
    assert response.status_code == 202
    user = User.objects.get(username="lilei")
    assert user.email == "lilei@mail.example.com"
    # the mobile's owner is told
    assert "lilei@mail.example.com" in outbox(to=MOBILE)[0]["body"]
    response = verify(client, username="lilei", email_code=last_code("lilei@mail.example.com"))
    assert response.status_code == 200


def test_q16_the_email_cannot_be_changed_before_the_mobile_is_confirmed(client):
    register(client)
    response = resend(client, username="lilei", channel="email", new_email="x@example.com")
    assert response.status_code == 400
    assert "new_email" in response.json()
    assert User.objects.get(username="lilei").email == EMAIL


def test_q16_the_new_email_must_not_belong_to_another_account(client):
    UserFactory(email="taken@example.cn")
    register(client)
    verify(client, username="lilei", sms_code=last_code(MOBILE))
    response = resend(client, username="lilei", channel="email", new_email="TAKEN@example.cn")
    assert response.status_code == 400


def test_registration_endpoints_are_throttled(client, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK}
    from rest_framework.settings import api_settings

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "auth": "3/min"}
    from rest_framework.throttling import ScopedRateThrottle

    original = ScopedRateThrottle.THROTTLE_RATES
    ScopedRateThrottle.THROTTLE_RATES = rates
    try:
        codes = [verify(client, username="x", sms_code="1").status_code for _ in range(4)]
    finally:
        ScopedRateThrottle.THROTTLE_RATES = original
    assert codes[-1] == 429


# The browser ------------------------------------------------------------------------------------


def test_registering_in_the_browser_then_confirming_signs_the_user_in(client):
    response = client.post(
        "/accounts/register/",
        {
            "username": "lilei",
            "password": PASSWORD,
            "password2": PASSWORD,
            "email": EMAIL,
            "mobile": MOBILE,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/verify/"
    page = client.get("/accounts/verify/")
    assert MOBILE in page.content.decode()
    response = client.post(
        "/accounts/verify/", {"sms_code": last_code(MOBILE), "email_code": last_code(EMAIL)}
    )
    assert response.status_code == 302
    assert client.get("/accounts/").status_code == 200


def test_a_failed_registration_keeps_what_was_typed_except_passwords(client):
    UserFactory(mobile=MOBILE)
    response = client.post(
        "/accounts/register/",
        {
            "username": "lilei",
            "password": PASSWORD,
            "password2": PASSWORD,
            "email": EMAIL,
            "mobile": MOBILE,
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert 'class="error-summary"' in body
    assert 'href="#id_mobile"' in body
    assert 'value="lilei"' in body and f'value="{EMAIL}"' in body
    assert PASSWORD not in body
    assert "该手机号码已被其他账户使用" in body or "another account" in body


def test_registration_page_in_english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/accounts/register/").content.decode()
    assert "Register an account" in body
    response = client.post("/accounts/register/", {"username": "x"})
    assert "There is a problem" in response.content.decode()
    assert "Enter your mobile number." in response.content.decode()


def test_q16_in_the_browser(client):
    client.post(
        "/accounts/register/",
        {
            "username": "lilei",
            "password": PASSWORD,
            "password2": PASSWORD,
            "email": EMAIL,
            "mobile": MOBILE,
        },
    )
    assert client.get("/accounts/verify/email/").status_code == 302  # mobile not confirmed yet
    response = client.post("/accounts/verify/", {"sms_code": last_code(MOBILE)}, follow=True)
    # A partial success reads as one, with the next step (change the email, or resend).
    assert response.status_code == 200
    assert "/accounts/verify/email/" in response.content.decode()
    response = client.post("/accounts/verify/email/", {"new_email": "new@example.com"})
    assert response.status_code == 302
    response = client.post("/accounts/verify/", {"email_code": last_code("new@example.com")})
    assert response.status_code == 302
    assert User.objects.get(username="lilei").identity_verified


def test_the_verify_page_needs_a_pending_registration_or_sign_in(client):
    response = client.get("/accounts/verify/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_per_minute_limit_slides_rather_than_resetting_on_the_minute(client):
    register(client)
    start = timezone.now()
    with time_machine.travel(start + dt.timedelta(seconds=59)):
        assert resend(client, username="lilei", channel="sms").status_code == 429
    with time_machine.travel(start + dt.timedelta(seconds=61)):
        assert resend(client, username="lilei", channel="sms").status_code == 202


def test_ten_codes_a_day_per_recipient(client, settings):
    settings.ACCOUNTS_CODE_RATE_PER_IP = "100/min"
    register(client)
    start = timezone.now()
    answers = []
    for hour in range(1, 11):
        with time_machine.travel(start + dt.timedelta(hours=hour, minutes=1)):
            answers.append(resend(client, username="lilei", channel="sms").status_code)
    assert answers[:9] == [202] * 9
    assert answers[9] == 429
