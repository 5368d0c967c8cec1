"""An owner whose account closed with its revoked filing registers again with the same mobile
and email (Q21); sign-in finds a username in any case; codes typed full-width or with invisible
characters count; a reused authenticator code and a refused API call say what happened."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.permissions import IsProviderStaff, IsVerifiedOwner, IsVerifiedStaff
from beian.delivery import outbox
from providers.permissions import IsActiveProviderStaff
from tests import filings_support as fs
from tests.accounts_support import (
    PASSWORD,
    captcha_test_mode,
    current_totp,
    last_code,
    login_form,
)
from tests.factories import BureauFactory, MinistryFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("captcha_test_mode")]
__all__ = ["captcha_test_mode"]

CLOSED = "This account was closed when its filing was revoked."
NOT_CORRECT = "The username or password is not correct."
REUSED = "This code was used already."


@pytest.fixture(autouse=True)
def no_otp_throttle(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def fullwidth(code: str) -> str:
    """``"334412"`` as a Chinese input method types it: ``"３３４４１２"``."""
    return code.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})


def revoked_owner() -> User:
    from review.services import filing_revoke

    owner = UserFactory(username="oldowner", mobile="13811112222", email="Old.Owner@example.cn")
    filing = fs.approve(fs.submitted_filing(owner))
    filing_revoke(filing=filing, by=MinistryFactory(), reason="网站已关闭")
    return User.objects.get(pk=owner.pk)


def api(client, path, **data):
    return client.post(path, data, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


def api_register(client, **overrides):
    data = {
        "username": "newowner",
        "password": PASSWORD,
        "email": "old.owner@example.cn",
        "mobile": "13811112222",
    }
    return api(client, "/api/v1/accounts/register/", **{**data, **overrides})


# A closed account frees its mobile and email (Q21) ---------------------------------------------


def test_a_revoked_owner_registers_again_on_the_page_with_the_same_mobile_and_email(client):
    old = revoked_owner()

    response = client.post(
        reverse("accounts:register"),
        {
            "username": "newowner",
            "password": PASSWORD,
            "password2": PASSWORD,
            "email": old.email.upper(),
            "mobile": old.mobile,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 302, response.content.decode()
    new = User.objects.get(username="newowner")
    assert (new.mobile, new.email.lower(), new.is_active) == (old.mobile, old.email.lower(), True)
    old.refresh_from_db()
    assert not old.is_active and old.mobile == new.mobile  # kept for the record


def test_a_revoked_owner_registers_again_through_the_api(client):
    revoked_owner()

    response = api_register(client)

    assert response.status_code == 201, response.json()
    assert User.objects.filter(mobile="13811112222").count() == 2


def test_the_closed_accounts_username_stays_taken(client):
    revoked_owner()

    response = api_register(client, username="OldOwner")

    assert response.status_code == 400
    assert set(response.json()) == {"username"}


def test_a_live_account_still_holds_its_mobile_and_email(client):
    UserFactory(mobile="13811112222", email="old.owner@example.cn")

    response = api_register(client)

    assert response.status_code == 400
    assert set(response.json()) == {"email", "mobile"}


def test_a_live_account_may_change_to_the_mobile_of_a_closed_one(client):
    old = revoked_owner()
    owner = UserFactory()
    client.force_login(owner)

    response = client.post("/accounts/contact/mobile/", {"value": old.mobile})

    assert response["Location"] == "/accounts/contact/mobile/confirm/"


def test_the_database_lets_a_closed_and_a_live_account_share_contacts_but_not_two_live_ones():
    old = revoked_owner()
    UserFactory(username="second", mobile=old.mobile, email=old.email.lower())

    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username="third", mobile=old.mobile, email="third@example.cn")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username="fourth", email=old.email.upper())


def test_codes_for_the_shared_mobile_and_email_reach_only_the_live_account(client):
    old = revoked_owner()
    new = UserFactory(username="newowner", mobile=old.mobile, email=old.email.lower())
    sent_before = len(outbox(to=old.mobile))

    client.post(reverse("accounts:password-forgot"), {**login_form("x"), "username": "oldowner"})
    api(client, "/api/v1/accounts/resend-code/", username="oldowner", channel="sms")
    assert len(outbox(to=old.mobile)) == sent_before

    client.post(reverse("accounts:password-forgot"), {**login_form("x"), "username": "newowner"})
    assert len(outbox(to=new.mobile)) == sent_before + 1


def test_the_token_api_tells_the_right_password_of_a_closed_account_how_to_file_again(client):
    revoked_owner()

    right = api(client, "/api/v1/auth/token/", username="oldowner", password=PASSWORD)
    wrong = api(client, "/api/v1/auth/token/", username="oldowner", password="Wrong-Guess-42")

    assert right.status_code == 403
    assert CLOSED in right.json()["detail"] and "register a new account" in right.json()["detail"]
    assert wrong.status_code == 400
    assert wrong.json() == {"non_field_errors": [NOT_CORRECT]}


def test_the_token_apis_closed_account_answer_is_in_chinese_for_chinese_readers(client):
    revoked_owner()

    response = client.post(
        "/api/v1/auth/token/",
        {"username": "oldowner", "password": PASSWORD},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert "该账户已随备案注销而关闭" in response.json()["detail"]


# Usernames in any case ---------------------------------------------------------------------------


def test_the_sign_in_page_finds_the_username_in_any_case(client):
    UserFactory(username="owner")

    response = client.post(reverse("accounts:login"), login_form("OWNER"))

    assert response.status_code == 302
    assert User.objects.get(pk=client.session["_auth_user_id"]).username == "owner"


def test_the_token_api_finds_the_username_in_any_case_and_still_checks_the_password(client):
    UserFactory(username="owner")

    assert api(client, "/api/v1/auth/token/", username="OWNER", password=PASSWORD).json()["token"]
    wrong = api(client, "/api/v1/auth/token/", username="Owner", password="Wrong-Guess-42")
    assert wrong.status_code == 400


def test_failed_sign_ins_in_any_case_count_towards_one_lockout(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="owner")
    for variant in ("Owner", "OWNER", "oWnEr"):
        client.post(reverse("accounts:login"), login_form(variant, "Wrong-Guess-42"))

    page = client.post(reverse("accounts:login"), login_form("owner"))
    token = api(client, "/api/v1/auth/token/", username="OWNER", password=PASSWORD)

    assert page.status_code == 429 and "_auth_user_id" not in client.session
    assert token.status_code == 429


# Codes typed full-width or with invisible characters -------------------------------------------


def test_the_verify_api_takes_full_width_and_zero_width_padded_codes(client):
    api_register(client, mobile="13922223333", email="typed@example.cn")
    sms, email = last_code("13922223333"), last_code("typed@example.cn")

    response = api(
        client,
        "/api/v1/accounts/verify/",
        username="newowner",
        sms_code=fullwidth(sms),
        email_code=f"{email}\u200b",
    )

    assert response.status_code == 200, response.json()
    assert User.objects.get(username="newowner").identity_verified


def test_the_verify_page_takes_full_width_and_zero_width_padded_codes(client):
    client.post(
        reverse("accounts:register"),
        {
            "username": "pageowner",
            "password": PASSWORD,
            "password2": PASSWORD,
            "email": "page@example.cn",
            "mobile": "13933334444",
        },
    )
    sms, email = last_code("13933334444"), last_code("page@example.cn")

    response = client.post(
        reverse("accounts:verify"),
        {"sms_code": f"\u202d{fullwidth(sms)}\u202c", "email_code": f"\ufeff{email}"},
    )

    assert response.status_code == 302
    assert User.objects.get(username="pageowner").identity_verified


def test_the_password_reset_page_takes_full_width_and_zero_width_padded_codes(client):
    owner = UserFactory()
    client.post(
        reverse("accounts:password-forgot"), {**login_form("x"), "username": owner.username}
    )
    sms, email = last_code(owner.mobile), last_code(owner.email)

    response = client.post(
        reverse("accounts:password-reset"),
        {
            "sms_code": fullwidth(sms),
            "email_code": f"{email}\u200b",
            "new_password1": "Fresh-Pass-2026",
            "new_password2": "Fresh-Pass-2026",
        },
    )

    assert response["Location"] == "/accounts/login/"
    owner.refresh_from_db()
    assert owner.check_password("Fresh-Pass-2026")


def test_the_contact_change_code_may_be_typed_full_width(client):
    owner = UserFactory()
    client.force_login(owner)
    client.post("/accounts/contact/mobile/", {"value": "13644445555"})

    response = client.post(
        "/accounts/contact/mobile/confirm/", {"code": fullwidth(last_code("13644445555"))}
    )

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.mobile == "13644445555"


def test_staff_authenticator_codes_may_be_typed_full_width_on_the_page(client):
    bureau = BureauFactory()
    device = TOTPDevice.objects.create(user=bureau, name="phone", confirmed=True)
    client.post(reverse("accounts:login"), login_form(bureau.username))

    response = client.post(
        "/accounts/otp/", {"otp_token": f"{fullwidth(current_totp(device))}\u200b", "next": "/"}
    )

    assert response.status_code == 302 and response["Location"] == "/"


def test_staff_enrolment_takes_a_full_width_first_code(client):
    bureau = BureauFactory()
    client.force_login(bureau)
    client.get("/accounts/otp/setup/")
    device = TOTPDevice.objects.get(user=bureau)

    response = client.post(
        "/accounts/otp/setup/", {"otp_token": f"{fullwidth(current_totp(device))}\u200b"}
    )

    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed


def test_the_token_api_takes_a_full_width_or_zero_width_padded_otp(client):
    bureau = BureauFactory()
    device = TOTPDevice.objects.create(user=bureau, name="phone", confirmed=True)

    response = api(
        client,
        "/api/v1/auth/token/",
        username=bureau.username,
        password=PASSWORD,
        otp=f"\u200b{fullwidth(current_totp(device))}",
    )

    assert response.status_code == 200, response.json()


# A reused authenticator code ---------------------------------------------------------------------


def test_reusing_the_current_authenticator_code_on_the_page_says_it_was_used(client):
    bureau = BureauFactory()
    device = TOTPDevice.objects.create(user=bureau, name="phone", confirmed=True)
    code = current_totp(device)
    assert device.verify_token(code)  # used a moment ago, in another sign-in
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    client.post(reverse("accounts:login"), login_form(bureau.username))

    reused = client.post("/accounts/otp/", {"otp_token": code})
    wrong = client.post("/accounts/otp/", {"otp_token": f"{(int(code) + 1) % 1_000_000:06d}"})

    assert reused.status_code == 400 and REUSED in reused.content.decode()
    assert "The code is not correct." not in reused.content.decode()
    assert REUSED not in wrong.content.decode()


def test_reusing_the_current_authenticator_code_on_the_token_api_says_it_was_used(client):
    bureau = BureauFactory()
    device = TOTPDevice.objects.create(user=bureau, name="phone", confirmed=True)
    code = current_totp(device)
    first = api(
        client, "/api/v1/auth/token/", username=bureau.username, password=PASSWORD, otp=code
    )
    assert first.status_code == 200

    again = api(
        client, "/api/v1/auth/token/", username=bureau.username, password=PASSWORD, otp=code
    )

    assert again.status_code == 400
    assert REUSED in again.json()["otp"][0]


# Refused API calls in the reader's language -------------------------------------------------------


def test_an_owner_token_on_the_review_queue_is_refused_in_chinese(client):
    owner = UserFactory()
    key = api(client, "/api/v1/auth/token/", username=owner.username, password=PASSWORD).json()[
        "token"
    ]

    response = client.get(
        "/api/v1/review/queue/",
        HTTP_AUTHORIZATION=f"Token {key}",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 403
    assert "此接口仅供" in response.json()["detail"]


@pytest.mark.parametrize(
    "permission", [IsVerifiedStaff, IsProviderStaff, IsVerifiedOwner, IsActiveProviderStaff]
)
def test_every_permission_message_is_translated(permission):
    with translation.override("en"):
        english = str(permission.message)
    with translation.override("zh-hans"):
        chinese = str(permission.message)

    assert chinese != english
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese)
