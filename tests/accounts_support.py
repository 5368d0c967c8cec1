"""Helpers shared by the account tests: codes from the outbox, captcha in test mode, OTP."""

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from beian.delivery import outbox

PASSWORD = "Correct-Horse-9"


@pytest.fixture
def captcha_test_mode(monkeypatch):
    """django-simple-captcha reads its settings once: switch its own copy to test mode."""
    from captcha.conf import settings as captcha_settings

    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)


def last_code(to: str) -> str:
    """The 6-digit code of the newest message to ``to``."""
    rows = outbox(to=to)
    assert rows, f"no message to {to}"
    # Not \b: in the Chinese text the code stands between characters that count as letters.
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", rows[0]["body"])
    assert match, rows[0]["body"]
    return match.group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def current_totp(device: TOTPDevice, offset: int = 0) -> str:
    import time

    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if offset:
        from django_otp.oath import TOTP

        t = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        t.time = time.time() + offset * device.step
        code = t.token()
    return f"{code:06d}"


def login_form(username: str, password: str = PASSWORD, captcha: str = "PASSED") -> dict:
    return {
        "username": username,
        "password": password,
        "captcha_0": "test-key",
        "captcha_1": captcha,
    }
