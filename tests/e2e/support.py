"""What the browser journeys share: the browser, screenshots, the accessibility audit, the
portal's own words, codes.

A journey locates elements by the text a person reads — labels, buttons, links — in the
journey's language, taken from the project's translation catalogue so the tests follow it.

Every page a journey opens (``Journey.open``) carries axe-core: each document it loads and each
piece of content htmx loads in place is audited against WCAG 2.1 A and AA (what GB/T
37668-2019 asks), and every step the journey photographs (``Journey.shot``) is audited again
at a desktop and at a phone width. Any violation fails the journey. Journeys added later are
audited the same way without doing anything.
"""

from __future__ import annotations

import base64
import json
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

# axe-core, vendored from its npm package (tests/e2e/vendor/axe-core/README.md).
AXE_VERSION = "4.14.1"
AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
# The rules of WCAG 2.0 and 2.1, levels A and AA; no rule is switched off.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# A desktop and a phone (the narrowest common width, where tables scroll and the menu folds).
AUDIT_WIDTHS = (1280, 390)
# Installed in every page a journey opens, before the page's own scripts: axe-core, a queue so
# that two audits never overlap (axe refuses that), and an audit of each loaded document and
# of each piece of content htmx settles, reported to the journey through ``__axeReport``.
_IN_PAGE = """(() => {
  if (window.top !== window || window.__portalAudit) return;
  /* AXE */
  const tags = /* TAGS */;
  window.__portalAudit = () => {
    const run = (window.__portalAuditQueue || Promise.resolve())
      .then(() => axe.run(document, {runOnly: {type: "tag", values: tags},
                                     resultTypes: ["violations"]}))
      .then((result) => result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " — " + n.failureSummary),
        count: v.nodes.length,
      })));
    window.__portalAuditQueue = run.catch(() => null);
    return run;
  };
  const report = () => window.__portalAudit().then((found) => {
    if (found.length && window.__axeReport) window.__axeReport(location.href, found);
  }).catch(() => {});
  window.addEventListener("load", () => setTimeout(report, 0));
  document.addEventListener("htmx:afterSettle", () => setTimeout(report, 0));
})();""".replace("/* AXE */", AXE_SOURCE).replace("/* TAGS */", json.dumps(AXE_TAGS))
_NEXT_FRAME = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"


def _describe(where: str, violations: list[dict]) -> list[str]:
    lines = []
    for v in violations:
        nodes = "\n      ".join(v["nodes"])
        lines.append(
            f"{where} {v['id']} ({v['impact']}, {v['count']} element(s)): {v['help']}"
            f"\n      {nodes}"
        )
    return lines


def accessibility_violations(page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations of the page as it is now, at each of
    ``AUDIT_WIDTHS`` (the viewport is restored afterwards); one line per rule and width.

    The script is evaluated through the DevTools protocol, so a Content-Security-Policy that
    forbids inline scripts does not stop it.
    """
    if not page.evaluate("() => typeof window.__portalAudit === 'function'"):
        page.evaluate(_IN_PAGE)
    viewport = page.viewport_size
    found = []
    try:
        for width in AUDIT_WIDTHS:
            page.set_viewport_size({"width": width, "height": viewport["height"]})
            page.evaluate(_NEXT_FRAME)
            found += _describe(f"{width}px", page.evaluate("() => window.__portalAudit()"))
    finally:
        page.set_viewport_size(viewport)
        page.evaluate(_NEXT_FRAME)
    return found


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
        # (url, violations) that the in-page audit reported since the last check.
        self.reported: list[tuple[str, list[dict]]] = []

    def t(self, msgid: str) -> str:
        """``msgid`` as the portal shows it in this journey's language."""
        with translation.override(DJANGO_LANGUAGE[self.lang]):
            return translation.gettext(msgid)

    def shot(self, page, name: str) -> None:
        """Audit the page with axe-core (failing on any WCAG 2.1 A/AA violation), then
        screenshot the whole page as step NN of the journey."""
        self.step += 1
        page.wait_for_load_state("load")
        path = self.folder / f"{self.step:02d}-{name}.png"
        violations = accessibility_violations(page)
        page.screenshot(path=path, full_page=True)
        assert not violations, (
            f"axe-core {AXE_VERSION} finds WCAG 2.1 A/AA violations on {page.url} "
            f"({path.name}, {self.lang}):\n  " + "\n  ".join(violations)
        )
        self.assert_pages_accessible()

    def assert_pages_accessible(self) -> None:
        """Fail on what the in-page audit found in the documents and content loaded so far."""
        reported, self.reported = self.reported, []
        lines = [line for url, found in reported for line in _describe(url, found)]
        assert not lines, (
            f"axe-core {AXE_VERSION} finds WCAG 2.1 A/AA violations in pages the journey "
            f"loaded ({self.lang}):\n  " + "\n  ".join(lines)
        )

    def open(self, page, url: str, *, in_language: bool = True) -> None:
        """Start an actor's page at ``url``, in the journey's language unless
        ``in_language`` is false (the journey then switches it itself)."""
        page.set_default_timeout(TIMEOUT_MS)
        self.pages.append(page)
        page.expose_binding(
            "__axeReport", lambda source, url, found: self.reported.append((url, found))
        )
        page.add_init_script(_IN_PAGE)
        if in_language:
            page.context.add_cookies(
                [
                    {
                        "name": settings.LANGUAGE_COOKIE_NAME,
                        "value": DJANGO_LANGUAGE[self.lang],
                        "url": url,
                    }
                ]
            )
        page.goto(url)

    def shoot_failure(self) -> None:
        for page in self.pages:
            if not page.is_closed():
                self.step += 1
                page.screenshot(path=self.folder / f"{self.step:02d}-FAILED.png", full_page=True)


def tab_to(page, target, *, limit: int = 120) -> None:
    """Press Tab until ``target`` (a locator) has the keyboard focus, as a keyboard user moves
    through the page; fails when ``limit`` presses never reach it."""
    element = target.element_handle()
    for _ in range(limit):
        if page.evaluate("(element) => document.activeElement === element", element):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{limit} presses of Tab never reached {target}")


def choose_with_arrows(page, select, value: str, *, limit: int = 60) -> None:
    """Tab to a ``<select>`` and press the arrow keys until ``value`` is chosen."""
    tab_to(page, select)
    page.keyboard.press("Home")
    for _ in range(limit):
        if select.input_value() == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"the arrow keys never chose {value!r} in {select}")


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


# The factories' password.
FACTORY_PASSWORD = "Correct-Horse-9"


def sign_in(page, t, username: str, password: str = FACTORY_PASSWORD) -> None:
    """Sign ``username`` in through the page's navigation, with the test-mode captcha."""
    page.get_by_role("navigation").get_by_role("link", name=t("Sign in"), exact=True).click()
    page.get_by_label(t("Username")).fill(username)
    page.get_by_label(t("Password"), exact=True).fill(password)
    page.get_by_label(t("Characters in the picture")).fill("PASSED")
    page.get_by_role("main").get_by_role("button", name=t("Sign in")).click()
