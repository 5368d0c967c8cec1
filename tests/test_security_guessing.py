"""Password guessing from many addresses (issue: four wrong passwords from each of six
addresses, then the right one from a seventh, gave a token). Failures are also counted per
username over every address; past the threshold each username may try only now and then, on
the page and the API alike, while no address can lock the account holder out."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.accounts_support import PASSWORD, captcha_test_mode, login_form  # noqa: F401
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.ACCOUNTS_USERNAME_FAILURE_RATE = "20/hour"
    settings.ACCOUNTS_USERNAME_SLOW_RATE = "1/30s"


def token(client, username, password, address):
    return client.post(
        reverse("api-token"),
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def spread_guesses(client, username: str) -> None:
    for n in range(6):
        for _ in range(4):
            token(client, username, "Wrong-guess-77", f"203.0.113.{n + 1}")


def test_guesses_spread_over_addresses_do_not_end_in_a_token(client):
    owner = UserFactory(username="spread-target")
    spread_guesses(client, owner.username)
    answer = token(client, owner.username, PASSWORD, "203.0.113.7")
    assert answer.status_code == 429
    assert int(answer["Retry-After"]) <= 30


def test_the_account_holder_gets_in_after_a_short_wait_whatever_the_guessers_did(client):
    owner = UserFactory(username="spread-holder")
    spread_guesses(client, owner.username)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=31)):
        answer = token(client, owner.username, PASSWORD, "198.51.100.50")
    assert answer.status_code == 200


@pytest.mark.usefixtures("captcha_test_mode")
def test_the_sign_in_page_slows_the_same_username(client):
    owner = UserFactory(username="spread-page")
    spread_guesses(client, owner.username)
    page = client.post(
        reverse("accounts:login"), login_form(owner.username), REMOTE_ADDR="203.0.113.8"
    )
    assert page.status_code == 429
    text = page.content.decode()
    assert "now and then" in text or "间隔一段时间" in text


def test_one_address_alone_cannot_slow_a_username_for_everyone(client, settings):
    owner = UserFactory(username="one-address")
    for _ in range(settings.AXES_FAILURE_LIMIT + 3):
        token(client, owner.username, "Wrong-guess-77", "203.0.113.9")
    # That address is locked out (django-axes); everybody else signs in at once.
    assert token(client, owner.username, PASSWORD, "203.0.113.9").status_code == 429
    assert token(client, owner.username, PASSWORD, "198.51.100.51").status_code == 200


def test_a_username_under_the_threshold_is_never_slowed(client):
    owner = UserFactory(username="few-failures")
    for n in range(3):
        token(client, owner.username, "Wrong-guess-77", f"203.0.113.{20 + n}")
    assert token(client, owner.username, PASSWORD, "198.51.100.52").status_code == 200
