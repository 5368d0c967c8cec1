"""Signing in (Q22): captcha, lockout, the steps for unverified and initial-password accounts,
forgotten password (Q11, Q12), the account page, and the token API."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from accounts.models import SignIn
from accounts.views import home_url_for
from beian.delivery import outbox
from tests.accounts_support import PASSWORD, captcha_test_mode, last_code, login_form, wrong
from tests.factories import AccessProviderFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("captcha_test_mode")]
__all__ = ["captcha_test_mode"]


def sign_in(client, username, password=PASSWORD, captcha="PASSED", data=None, **extra):
    return client.post(
        "/accounts/login/", {**login_form(username, password, captcha), **(data or {})}, **extra
    )


def test_a_verified_owner_signs_in_and_lands_on_the_home_page(client):
    owner = UserFactory()
    response = sign_in(client, owner.username)
    assert response.status_code == 302
    assert response["Location"] == home_url_for(owner)
    assert SignIn.objects.filter(user=owner, method="password").count() == 1


def test_the_login_page_shows_an_image_captcha(client):
    body = client.get("/accounts/login/").content.decode()
    assert '<img src="/captcha/image/' in body
    assert 'name="captcha_1"' in body


def test_a_wrong_captcha_is_refused_before_the_password_is_checked(client):
    owner = UserFactory()
    response = sign_in(client, owner.username, captcha="WRONG")
    assert response.status_code == 400
    assert 'href="#id_captcha_1"' in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert f'value="{owner.username}"' in response.content.decode()


def test_a_wrong_password_says_so_without_naming_which_part(client):
    owner = UserFactory()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = sign_in(client, owner.username, password="nope-nope-1")
    assert response.status_code == 400
    assert "The username or password is not correct." in response.content.decode()
    unknown = sign_in(client, "nobody-here", password="nope-nope-1")
    assert "The username or password is not correct." in unknown.content.decode()


def test_five_failures_lock_the_username_and_address_even_for_the_right_password(client, settings):
    owner = UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, owner.username, password="wrong-password-1")
    response = sign_in(client, owner.username)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "30" in response.content.decode()
    # another address is not locked out
    other = sign_in(client, owner.username, REMOTE_ADDR="10.9.9.9")
    assert other.status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, settings):
    owner = UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, owner.username, password="wrong-password-1")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=31)):
        assert sign_in(client, owner.username).status_code == 302


def test_an_unverified_account_must_confirm_both_codes_before_anything_opens(client):
    owner = UserFactory(mobile_verified_at=None, email_verified_at=None, origin="import")
    response = sign_in(client, owner.username)
    assert response["Location"] == "/accounts/verify/"
    assert "_auth_user_id" not in client.session
    assert client.get("/accounts/").status_code == 302  # not signed in yet
    sms, email = last_code(owner.mobile), last_code(owner.email)
    response = client.post("/accounts/verify/", {"sms_code": wrong(sms), "email_code": email})
    assert response.status_code == 400
    response = client.post("/accounts/verify/", {"sms_code": sms})
    assert response["Location"] == home_url_for(owner)
    assert client.session.get("_auth_user_id") == str(owner.pk)


def test_signing_in_again_does_not_resend_codes_that_are_still_valid(client):
    owner = UserFactory(mobile_verified_at=None, email_verified_at=None)
    sign_in(client, owner.username)
    sign_in(client, owner.username)
    assert len(outbox(to=owner.mobile)) == 1


def test_an_initial_password_must_be_replaced_after_the_codes(client):
    provider = AccessProviderFactory()
    owner = UserFactory(
        mobile_verified_at=None,
        email_verified_at=None,
        origin="import",
        imported_by=provider,
        password_is_initial=True,
    )
    sign_in(client, owner.username)
    response = client.post(
        "/accounts/verify/",
        {"sms_code": last_code(owner.mobile), "email_code": last_code(owner.email)},
    )
    assert response["Location"] == "/accounts/password/initial/"
    assert "_auth_user_id" not in client.session
    response = client.post(
        "/accounts/password/initial/", {"new_password1": "short", "new_password2": "short"}
    )
    assert response.status_code == 400
    response = client.post(
        "/accounts/password/initial/",
        {"new_password1": "Brand-New-Pass-42", "new_password2": "Brand-New-Pass-42"},
    )
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(owner.pk)
    owner.refresh_from_db()
    assert not owner.password_is_initial and owner.check_password("Brand-New-Pass-42")


def test_a_verified_account_on_an_initial_password_goes_straight_to_the_password_step(client):
    owner = UserFactory(password_is_initial=True)
    assert sign_in(client, owner.username)["Location"] == "/accounts/password/initial/"


def test_the_pending_sign_in_expires(client, settings):
    owner = UserFactory(password_is_initial=True)
    sign_in(client, owner.username)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        response = client.get("/accounts/password/initial/")
    assert response["Location"] == "/accounts/login/"


def test_next_is_followed_only_when_it_stays_on_the_site(client):
    owner = UserFactory()
    assert sign_in(client, owner.username, data={"next": "/accounts/"})["Location"] == "/accounts/"
    client.post("/accounts/logout/")
    assert sign_in(client, owner.username, data={"next": "https://evil.example/"})["Location"] != (
        "https://evil.example/"
    )


def test_logout_needs_a_post(client):
    owner = UserFactory()
    client.force_login(owner)
    assert client.get("/accounts/logout/").status_code == 200
    assert "_auth_user_id" in client.session
    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session


# Forgotten password -----------------------------------------------------------------------------


def test_forgotten_password_with_both_codes(client):
    owner = UserFactory()
    response = client.post(
        "/accounts/password/forgot/", {**login_form("x"), "username": owner.username}
    )
    assert response["Location"] == "/accounts/password/reset/"
    sms, email = last_code(owner.mobile), last_code(owner.email)
    response = client.post(
        "/accounts/password/reset/",
        {
            "sms_code": sms,
            "email_code": wrong(email),
            "new_password1": "Fresh-Pass-2026",
            "new_password2": "Fresh-Pass-2026",
        },
    )
    assert response.status_code == 400
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    response = client.post(
        "/accounts/password/reset/",
        {
            "sms_code": sms,
            "email_code": email,
            "new_password1": "Fresh-Pass-2026",
            "new_password2": "Fresh-Pass-2026",
        },
    )
    assert response["Location"] == "/accounts/login/"
    owner.refresh_from_db()
    assert owner.check_password("Fresh-Pass-2026")
    assert (
        "password" in outbox(to=owner.mobile)[0]["body"]
        or "密码" in outbox(to=owner.mobile)[0]["body"]
    )


def test_forgotten_password_answers_the_same_for_unknown_and_unverified_accounts(client):
    UserFactory(username="halfway", email_verified_at=None)
    answers = []
    for username in ("nobody1", "halfway"):
        response = client.post(
            "/accounts/password/forgot/", {**login_form("x"), "username": username}
        )
        answers.append(response["Location"])
        page = client.get("/accounts/password/reset/")
        assert page.status_code == 200
    assert answers == ["/accounts/password/reset/"] * 2
    assert outbox() == []


def test_forgotten_password_of_an_imported_account_names_its_provider(client):
    provider = AccessProviderFactory(name="示例云", phone="010-88886666")
    UserFactory(username="client1", origin="import", imported_by=provider, password_is_initial=True)
    response = client.post("/accounts/password/forgot/", {**login_form("x"), "username": "client1"})
    body = response.content.decode()
    assert "示例云" in body and "010-88886666" in body
    assert outbox() == []


def test_forgotten_password_needs_the_captcha(client):
    owner = UserFactory()
    response = client.post(
        "/accounts/password/forgot/", {**login_form("x", captcha="NO"), "username": owner.username}
    )
    assert response.status_code == 400
    assert outbox() == []


# The account page -------------------------------------------------------------------------------


def test_account_page_lists_recent_sign_ins(client):
    owner = UserFactory()
    sign_in(client, owner.username, HTTP_USER_AGENT="TestBrowser/1.0")
    body = client.get("/accounts/").content.decode()
    assert owner.mobile in body
    assert "127.0.0.1" in body


def test_changing_the_password_needs_the_current_one(client):
    owner = UserFactory()
    client.force_login(owner)
    response = client.post(
        "/accounts/password/change/",
        {"old_password": "wrong", "new_password1": "Next-Pass-77", "new_password2": "Next-Pass-77"},
    )
    assert response.status_code == 400
    response = client.post(
        "/accounts/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "Next-Pass-77",
            "new_password2": "Next-Pass-77",
        },
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("Next-Pass-77")
    assert client.get("/accounts/").status_code == 200  # still signed in


@pytest.mark.parametrize(
    "kind,new_value,attr",
    [("mobile", "13611112222", "mobile"), ("email", "new@example.com", "email")],
)
def test_changing_mobile_or_email_is_confirmed_by_a_code_to_the_new_address(
    client, kind, new_value, attr
):
    owner = UserFactory()
    old_mobile = owner.mobile
    client.force_login(owner)
    response = client.post(f"/accounts/contact/{kind}/", {"value": new_value})
    assert response["Location"] == f"/accounts/contact/{kind}/confirm/"
    owner.refresh_from_db()
    assert getattr(owner, attr) != new_value
    code = last_code(new_value)
    assert (
        client.post(f"/accounts/contact/{kind}/confirm/", {"code": wrong(code)}).status_code == 400
    )
    response = client.post(f"/accounts/contact/{kind}/confirm/", {"code": code})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert getattr(owner, attr) == new_value
    assert outbox(to=old_mobile)  # the old mobile is told


def test_changing_to_an_address_of_another_account_is_refused(client):
    other = UserFactory()
    owner = UserFactory()
    client.force_login(owner)
    response = client.post("/accounts/contact/mobile/", {"value": other.mobile})
    assert response.status_code == 400
    assert 'href="#id_value"' in response.content.decode()


# The token API ----------------------------------------------------------------------------------


def token(client, **data):
    return client.post("/api/v1/auth/token/", data, content_type="application/json")


def test_a_verified_owner_gets_a_token_that_authenticates(client):
    owner = UserFactory()
    response = token(client, username=owner.username, password=PASSWORD)
    assert response.status_code == 200
    key = response.json()["token"]
    assert SignIn.objects.filter(user=owner, method="token").exists()
    assert token(client, username=owner.username, password=PASSWORD).json()["token"] == key


def test_wrong_credentials_get_a_clear_400(client):
    owner = UserFactory()
    response = token(client, username=owner.username, password="bad-password")
    assert response.status_code == 400
    assert response.json()["non_field_errors"]


def test_the_token_api_shares_the_lockout(client, settings):
    owner = UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token(client, username=owner.username, password="bad-password")
    response = token(client, username=owner.username, password=PASSWORD)
    assert response.status_code == 429
    assert response.json()["detail"]
    assert sign_in(client, owner.username).status_code == 429


def test_an_unverified_or_inactive_account_gets_no_token(client):
    unverified = UserFactory(email_verified_at=None)
    assert token(client, username=unverified.username, password=PASSWORD).status_code == 403
    inactive = UserFactory(is_active=False)
    assert token(client, username=inactive.username, password=PASSWORD).status_code == 400
    initial = UserFactory(password_is_initial=True)
    assert token(client, username=initial.username, password=PASSWORD).status_code == 403


def test_token_api_bad_input_is_400(client):
    assert token(client).status_code == 400
    response = client.post("/api/v1/auth/token/", "{", content_type="application/json")
    assert response.status_code == 400
