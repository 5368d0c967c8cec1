"""Staff API tokens (issue: the same key for ever, surviving a TOTP reset) and the enrolment
createstaff prints, confirmed by its first valid code on the token API too (SPEC §11)."""

import datetime as dt
import re
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from tests.accounts_support import PASSWORD, captcha_test_mode, login_form  # noqa: F401
from tests.factories import BureauFactory, UserFactory
from tests.test_accounts_staff import current_totp

pytestmark = pytest.mark.django_db

QUEUE = "/api/v1/review/queue/"


@pytest.fixture(autouse=True)
def _no_otp_throttle(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def token(client, **data):
    return client.post(reverse("api-token"), data, content_type="application/json")


def staff_with_device():
    bureau = BureauFactory()
    device = TOTPDevice.objects.create(user=bureau, name="phone", confirmed=True)
    return bureau, device


def staff_token(client, bureau, device) -> str:
    answer = token(client, username=bureau.username, password=PASSWORD, otp=current_totp(device))
    assert answer.status_code == 200, answer.content
    return answer.json()["token"]


def reads_queue(client, key: str) -> int:
    return client.get(QUEUE, HTTP_AUTHORIZATION=f"Token {key}").status_code


@pytest.mark.usefixtures("captcha_test_mode")
def test_the_createstaff_enrolment_works_first_on_the_token_api(client):
    out = StringIO()
    call_command(
        "createstaff",
        "bj-api",
        "--role",
        "bureau",
        "--province",
        "11",
        "--email",
        "bj-api@example.cn",
        "--mobile",
        "13900006666",
        "--password",
        "Str0ng-pass!",
        stdout=out,
    )
    assert re.search(r"otpauth://\S+", out.getvalue())
    device = TOTPDevice.objects.get(user__username="bj-api")
    assert not device.confirmed
    answer = token(client, username="bj-api", password="Str0ng-pass!", otp=current_totp(device))
    assert answer.status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert reads_queue(client, answer.json()["token"]) == 200
    # The portal now asks for a code from the same device instead of a new enrolment.
    client.post(reverse("accounts:login"), login_form("bj-api", "Str0ng-pass!"))
    assert client.get(reverse("accounts:otp-setup"))["Location"].startswith(
        reverse("accounts:otp-verify")
    )


def test_a_wrong_code_does_not_confirm_the_enrolment_and_counts_towards_the_lockout(
    client, settings
):
    bureau = BureauFactory()
    device = services.totp_device_for_enrolment(user=bureau)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        wrong = token(client, username=bureau.username, password=PASSWORD, otp="000000")
        assert wrong.status_code in (400, 429)
    device.refresh_from_db()
    assert not device.confirmed
    locked = token(client, username=bureau.username, password=PASSWORD, otp=current_totp(device))
    assert locked.status_code == 429


def test_staff_get_a_new_key_each_time_and_the_old_one_stops_working(client):
    bureau, device = staff_with_device()
    first = staff_token(client, bureau, device)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=31)):
        second = token(
            client, username=bureau.username, password=PASSWORD, otp=current_totp(device)
        ).json()["token"]
    assert first != second
    assert reads_queue(client, first) == 401
    assert reads_queue(client, second) == 200


def test_a_staff_token_expires_after_its_hours(client, settings):
    settings.STAFF_TOKEN_HOURS = 8
    bureau, device = staff_with_device()
    key = staff_token(client, bureau, device)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=7, minutes=59)):
        assert reads_queue(client, key) == 200
    with time_machine.travel(timezone.now() + dt.timedelta(hours=8, minutes=1)):
        assert reads_queue(client, key) == 401


def test_a_password_change_revokes_the_staff_token(client):
    bureau, device = staff_with_device()
    key = staff_token(client, bureau, device)
    bureau.set_password("An0ther-Secret-pass")
    bureau.save()  # as the ministry's admin does
    assert reads_queue(client, key) == 401


def test_a_totp_device_reset_revokes_the_staff_token(client):
    bureau, device = staff_with_device()
    key = staff_token(client, bureau, device)
    device.delete()  # the ministry resets the device in the admin
    TOTPDevice.objects.create(user=bureau, name="new phone", confirmed=True)
    assert reads_queue(client, key) == 401


def test_sign_out_everywhere_ends_the_token_and_every_session(client, otp_client):
    bureau, device = staff_with_device()
    key = staff_token(client, bureau, device)
    laptop, phone = otp_client(bureau), otp_client(bureau)
    assert phone.get(reverse("accounts:account")).status_code == 200
    answer = laptop.post(reverse("accounts:logout-everywhere"))
    assert answer.status_code == 302
    assert reads_queue(client, key) == 401
    for session in (laptop, phone):
        assert session.get(reverse("accounts:account")).status_code == 302


def test_an_owner_token_keeps_its_key_and_does_not_expire(client):
    owner = UserFactory()
    first = token(client, username=owner.username, password=PASSWORD).json()["token"]
    second = token(client, username=owner.username, password=PASSWORD).json()["token"]
    assert first == second
    with time_machine.travel(timezone.now() + dt.timedelta(days=30)):
        answer = client.get(reverse("api-filings"), HTTP_AUTHORIZATION=f"Token {first}")
    assert answer.status_code == 200


def test_an_owner_who_enrols_a_device_later_needs_a_token_issued_with_its_code(client):
    """A token from before the second factor existed must not count as that factor."""
    owner = UserFactory()
    before = token(client, username=owner.username, password=PASSWORD).json()["token"]
    TOTPDevice.objects.create(user=owner, name="phone", confirmed=True)
    answer = client.get(reverse("api-filings"), HTTP_AUTHORIZATION=f"Token {before}")
    assert answer.status_code == 401
