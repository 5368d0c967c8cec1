"""The audit every journey carries: it fails a page that breaks WCAG 2.1 A/AA and passes one
that does not, whether the journey photographs the page or only passes through it."""

import re

import pytest
from playwright.sync_api import expect

from .support import AUDIT_WIDTHS, needs_browser_stack

pytestmark = [needs_browser_stack, pytest.mark.e2e]

PROBE = "http://probe.test/"
# No lang, no title, a picture without a text alternative, a field without a label.
BROKEN = """<!doctype html><html><head></head><body><main>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="20" height="20">
<input type="text" name="q"></main></body></html>"""
SOUND = """<!doctype html><html lang="en"><head><title>Probe</title></head><body><main>
<h1>Probe</h1><label for="q">Query</label> <input id="q" type="text" name="q"></main>
</body></html>"""


def serve(page, html: str) -> None:
    page.route(PROBE, lambda route: route.fulfill(body=html, content_type="text/html"))


def test_a_page_a_journey_only_passes_through_is_audited(page, journey):
    one = journey("audit-probe-loaded", "en")
    serve(page, BROKEN)
    one.open(page, PROBE, in_language=False)
    expect(page.locator("input[name=q]")).to_be_visible()
    page.wait_for_function("() => window.__portalAuditQueue !== undefined")
    page.evaluate("() => window.__portalAuditQueue")
    with pytest.raises(AssertionError) as failure:
        one.assert_pages_accessible()
    message = str(failure.value)
    for rule in ("html-has-lang", "document-title", "image-alt", "label"):
        assert re.search(rf"{PROBE} {rule} \(", message), rule
    one.assert_pages_accessible()  # each finding is reported once


def test_a_photographed_step_is_audited_at_both_widths(page, journey):
    one = journey("audit-probe-shot", "en")
    serve(page, BROKEN)
    one.open(page, PROBE, in_language=False)
    with pytest.raises(AssertionError) as failure:
        one.shot(page, "broken")
    for width in AUDIT_WIDTHS:
        assert f"{width}px image-alt (" in str(failure.value)
    assert page.viewport_size["width"] == 1280  # the journey's own width is restored
    one.reported.clear()  # the load audit's findings: the test above


def test_a_sound_page_passes_the_audit(page, journey):
    one = journey("audit-probe-sound", "en")
    serve(page, SOUND)
    one.open(page, PROBE, in_language=False)
    one.shot(page, "sound")
    one.assert_pages_accessible()
