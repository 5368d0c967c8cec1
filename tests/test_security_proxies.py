"""Behind a reverse proxy: one ``client_address(request)`` for every per-address limit and for
django-axes. X-Forwarded-For counts only from a trusted proxy, and then its right hop."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from beian.clientaddress import client_address, client_address_or_none
from tests.accounts_support import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROXY = "10.20.0.2"


def address(remote: str, forwarded: str | None = None) -> str:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert address("203.0.113.5", "198.51.100.1") == "203.0.113.5"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert address("203.0.113.5", "198.51.100.1") == "203.0.113.5"


def test_behind_a_trusted_proxy_the_hop_it_saw_is_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.20.0.0/24"]
    assert address(PROXY, "198.51.100.1") == "198.51.100.1"
    # What the client wrote itself (left of the hop the proxy added) is not believed.
    assert address(PROXY, "1.2.3.4, 198.51.100.1") == "198.51.100.1"
    # A chain of trusted proxies is walked from the right.
    assert address(PROXY, "198.51.100.1, 10.20.0.7") == "198.51.100.1"
    assert address(PROXY, "[2001:db8::1]:4711") == "2001:db8::1"
    assert address(PROXY, "198.51.100.1:4711") == "198.51.100.1"


def test_a_malformed_hop_stops_the_walk_at_the_proxy(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert address(PROXY, "198.51.100.1, not-an-address") == PROXY


def test_a_forged_proxy_hop_from_an_untrusted_peer_is_ignored(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert address("203.0.113.5", f"1.2.3.4, {PROXY}") == "203.0.113.5"


def test_every_listed_proxy_network_is_skipped_in_any_order(settings):
    settings.TRUSTED_PROXIES = ["10.20.0.0/24", "192.168.7.1", "fd00::/8"]
    assert address(PROXY, "198.51.100.1, 10.20.0.9, 192.168.7.1, fd00::5") == "198.51.100.1"
    assert address("fd00::1", "198.51.100.1, 192.168.7.1") == "198.51.100.1"
    assert address("fd00::1", "198.51.100.1, 192.168.7.2") == "192.168.7.2"


def test_ipv4_mapped_ipv6_addresses_are_read_as_ipv4(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert address("::ffff:203.0.113.5") == "203.0.113.5"
    assert address(f"::ffff:{PROXY}", "::ffff:198.51.100.1") == "198.51.100.1"


def test_a_request_without_an_address_is_unknown(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert address("") == "unknown"
    assert address("not-an-address", "198.51.100.1") == "unknown"
    assert client_address_or_none(RequestFactory().get("/", REMOTE_ADDR="")) is None


def register(client, n: int, **extra):
    return client.post(
        reverse("api-register"),
        {
            "username": f"proxied{n}",
            "password": PASSWORD,
            "email": f"proxied{n}@example.cn",
            "mobile": f"1371111{n:04d}",
        },
        content_type="application/json",
        **extra,
    )


def test_registrations_through_a_trusted_proxy_are_counted_per_client(client, settings):
    """Seven people behind the proxy each register: the code limit per address (10 a minute,
    two codes each) is theirs, not the proxy's."""
    settings.TRUSTED_PROXIES = [PROXY]
    answers = [
        register(
            client, n, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 1}"
        ).status_code
        for n in range(7)
    ]
    assert answers == [201] * 7


def test_forged_headers_from_one_untrusted_address_do_not_buy_fresh_allowances(client, settings):
    settings.TRUSTED_PROXIES = [PROXY]
    answers = [
        register(
            client, n, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 1}"
        ).status_code
        for n in range(7)
    ]
    assert answers == [201] * 5 + [429] * 2


def token(client, username: str, password: str, forwarded: str):
    return client.post(
        reverse("api-token"),
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_wrong_passwords_from_one_client_behind_the_proxy_do_not_lock_out_the_others(
    client, settings
):
    settings.TRUSTED_PROXIES = [PROXY]
    owner = UserFactory(username="proxied-owner")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token(client, owner.username, "wrong-password-1", "198.51.100.66")
    assert token(client, owner.username, "wrong-password-1", "198.51.100.66").status_code == 429
    assert token(client, owner.username, PASSWORD, "198.51.100.77").status_code == 200
