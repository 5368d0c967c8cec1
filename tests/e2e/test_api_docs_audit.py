"""``/api/docs/``, linked from every page's footer, passes the same WCAG 2.1 A/AA audit as the
journeys' pages, in both languages, at a desktop and at a phone width; everything it loads is
served by the portal itself, under its Content-Security-Policy."""

import pytest
from playwright.sync_api import expect

from .support import needs_browser_stack

pytestmark = [
    needs_browser_stack,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("reference_data"),
]


@pytest.mark.parametrize(("lang", "html_lang"), [("zh", "zh-CN"), ("en", "en")])
def test_the_api_docs_page_passes_the_accessibility_audit(
    page, journey, live_server, lang, html_lang
):
    one = journey("api-docs", lang)
    outside, refused = [], []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith((live_server.url, "data:", "blob:"))
            else None
        ),
    )
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    one.open(page, f"{live_server.url}/api/docs/")

    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator("html").get_attribute("lang") == html_lang
    one.shot(page, "api-docs")
    # An operation opened shows its examples; the page is audited again.
    page.locator(".opblock-summary-control").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    one.shot(page, "api-docs-operation")
    assert outside == []
    assert refused == []
