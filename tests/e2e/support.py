"""What the browser journeys share: the browser, screenshots, the portal's own words, codes.

A journey locates elements by the text a person reads — labels, buttons, links — in the
journey's language, taken from the project's translation catalogue so the tests follow it.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
# README "Browser journeys": one folder per journey and language, one PNG per step.
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Generous for a loaded CI machine, short enough to fail clearly.
TIMEOUT_MS = 15_000
DJANGO_LANGUAGE = {"zh": "zh-hans", "en": "en"}


def _missing() -> str:
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        return "needs PostgreSQL and Redis (run with CI=true)"
    if not Path(CHROMIUM).exists():
        return f"needs Chromium at {CHROMIUM} (make pytest installs it under CI=true)"
    return ""


# Under CI=true nothing is skipped: a missing browser is a failure there, not a skip.
needs_browser_stack = pytest.mark.skipif(
    bool(_missing()) and os.environ.get("CI") != "true", reason=_missing() or "ready"
)

journey_marks = [
    needs_browser_stack,
    pytest.mark.e2e,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("reference_data", "captcha_test_mode", "celery_worker"),
]


class Journey:
    """One journey in one language: its screenshots and its words."""

    def __init__(self, name: str, lang: str) -> None:
        self.lang = lang
        self.folder = ARTIFACTS / f"{name}-{lang}"
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.step = 0
        self.pages: list = []

    def t(self, msgid: str) -> str:
        """``msgid`` as the portal shows it in this journey's language."""
        with translation.override(DJANGO_LANGUAGE[self.lang]):
            return translation.gettext(msgid)

    def shot(self, page, name: str) -> None:
        """Screenshot the whole page as step NN of the journey."""
        self.step += 1
        page.wait_for_load_state("load")
        page.screenshot(path=self.folder / f"{self.step:02d}-{name}.png", full_page=True)

    def open(self, page, url: str) -> None:
        """Start an actor's page at ``url``."""
        page.set_default_timeout(TIMEOUT_MS)
        self.pages.append(page)
        page.goto(url)

    def shoot_failure(self) -> None:
        for page in self.pages:
            if not page.is_closed():
                self.step += 1
                page.screenshot(path=self.folder / f"{self.step:02d}-FAILED.png", full_page=True)


def wait_for_sent(
    to: str, *, count: int = 1, template: str | None = None, timeout: float = 30.0
) -> list:
    """The messages to ``to`` (of ``template``) once at least ``count`` of them were sent by
    the worker."""
    from beian.models import Message

    deadline = time.monotonic() + timeout
    while True:
        rows = Message.objects.filter(to__iexact=to).order_by("-created_at", "-id")
        rows = list(rows.filter(template=template) if template else rows)
        sent = [m for m in rows if m.status == Message.Status.SENT]
        if len(sent) >= count:
            return sent
        if time.monotonic() > deadline:
            states = [(m.template, m.status, m.attempts, m.last_error) for m in rows]
            raise AssertionError(
                f"{count} message(s) to {to} not sent within {timeout:.0f}s: {states}"
            )
        time.sleep(0.2)


def code_sent_to(to: str, *, count: int = 1) -> str:
    """The 6-digit code of the newest message to ``to``, as the outbox shows it."""
    from beian.delivery import outbox

    wait_for_sent(to, count=count)
    newest = outbox(to=to)[0]
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", newest["body"])
    assert match, f"no code in the message to {to}: {newest['body']!r}"
    return match.group(1)


def totp_now(secret_shown: str) -> str:
    """What an authenticator app shows for the key typed from the enrolment page."""
    from django_otp.oath import totp

    key = base64.b32decode(secret_shown.replace(" ", "").upper())
    return f"{totp(key, step=30, digits=6):06d}"
