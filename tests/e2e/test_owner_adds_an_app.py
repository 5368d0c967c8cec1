"""Journey: the owner of an approved website adds an Android app and a WeChat mini-program
(SPEC §13). The app's package name, public key and fingerprint fill themselves from its
uploaded APK; a fingerprint typed wrong on a second platform is caught by the package; the
app store is found by typing part of its name; both are submitted as an amendment."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import AccessProvider
from filings.models import Filing
from tests import app_support as aps
from tests import filings_support as fs
from tests.factories import AccessProviderFactory, UserFactory

from .support import journey_marks, sign_in

pytestmark = journey_marks

APK = Path(__file__).resolve().parents[1] / "fixtures" / "apps" / "demo-v1v2.apk"
IPA = APK.with_name("demo.ipa")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_owner_adds_an_app_from_its_apk_and_a_mini_program(page, live_server, journey, lang):
    owner = UserFactory(username=f"app-owner-{lang}")
    website = fs.website(
        name="示例网站", homepage=f"http://www.app-{lang}.cn/", domains=[f"app-{lang}.cn"]
    )
    filing = fs.approve(fs.submitted_filing(owner, fs.data(websites=[website])))
    store: AccessProvider = AccessProviderFactory(
        name=f"示例应用市场{lang}", is_access_provider=False, is_distribution_platform=True
    )

    journey = journey("owner-adds-an-app", lang)
    t = journey.t
    journey.open(page, live_server.url)
    sign_in(page, t, owner.username)
    page.get_by_role("navigation").get_by_role("link", name=t("My filing")).click()
    page.get_by_role("main").get_by_role("link", name=t("Apps"), exact=True).click()
    expect(page.get_by_role("heading", name=t("The apps"))).to_be_visible()
    journey.shot(page, "apps-empty")

    # Name and services.
    page.get_by_role("link", name=t("Add an app")).click()
    page.get_by_label(t("App name")).fill("示例App")
    page.locator("#f-a-services-corporate").check()
    page.get_by_role("button", name=t("Save and continue")).click()

    # Platforms: the APK fills the first; the second's typed fingerprint is checked.
    expect(page.get_by_role("heading", name=t("Platforms"), exact=True)).to_be_visible()
    page.get_by_label(t("Signed package (optional)")).set_input_files(APK)
    page.get_by_role("button", name=t("Read the package")).click()
    expect(page.get_by_label(t("Identifier"))).to_have_value(aps.ANDROID_PACKAGE)
    expect(page.get_by_label(t("Fingerprint"))).to_have_value(aps.ANDROID_MD5)
    expect(page.locator("#f-a-platforms-0-platform-android")).to_be_checked()
    journey.shot(page, "platform-filled-from-the-apk")
    page.get_by_role("button", name=t("Add another platform")).click()
    second = page.locator("#f-a-platforms-1")
    second.get_by_label("iOS").check()
    second.get_by_label(t("Fingerprint")).fill(
        "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33"
    )
    second.get_by_label(t("Signed package (optional)")).set_input_files(IPA)
    page.get_by_role("button", name=t("Save and continue")).click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(1)
    expect(page.locator("#f-a-platforms-1-fingerprint-error")).to_contain_text("14:4A:24:3E")
    journey.shot(page, "fingerprint-contradicted-by-the-ipa")
    summary.get_by_role("link").click()
    fingerprint = second.get_by_label(t("Fingerprint"))
    expect(fingerprint).to_be_focused()
    fingerprint.fill(aps.IOS_SHA1)
    page.get_by_role("button", name=t("Save and continue")).click()

    # Domains and the app store, found by part of its name as the owner types.
    expect(
        page.get_by_role("heading", name=t("Domains and distribution platforms"))
    ).to_be_visible()
    page.get_by_label(t("Domains the app uses")).fill("api.example.cn")
    page.get_by_label(t("Search distribution platforms by name")).fill("应用市场")
    candidate = page.get_by_role("group", name=t("Candidates")).get_by_label(store.name)
    candidate.check()
    journey.shot(page, "app-store-found")
    page.get_by_role("button", name=t("Save and continue")).click()

    # Accesses, as a website's.
    expect(page.get_by_role("heading", name=t("Accesses"), exact=True)).to_be_visible()
    page.get_by_label(t("Server location")).select_option("11")
    page.get_by_label(t("Other (not in the list, or the server is outside mainland China)")).check()
    page.get_by_label(t("IP addresses")).fill("120.79.1.20")
    page.get_by_role("button", name=t("Save and continue")).click()
    rows = page.locator("#service-rows tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.get_by_text(t("completed"))).to_be_visible()
    journey.shot(page, "app-listed")

    # A WeChat mini-program.
    page.get_by_role("link", name=t("Back to the task list")).first.click()
    page.get_by_role("main").get_by_role("link", name=t("Mini-programs"), exact=True).click()
    page.get_by_role("link", name=t("Add a mini-program")).click()
    page.get_by_label(t("Mini-program name")).fill("示例小程序")
    page.locator("#f-m-services-corporate").check()
    page.get_by_role("button", name=t("Save and continue")).click()
    page.get_by_label(t("WeChat")).check()
    page.get_by_label(t("AppID on the platform")).fill("wx0123456789abcdef")
    journey.shot(page, "mini-program-platform")
    page.get_by_role("button", name=t("Save and continue")).click()
    page.get_by_role("button", name=t("Continue"), exact=True).click()

    # Check the answers and submit the amendment.
    expect(
        page.get_by_role("heading", name=t("Check your answers before submitting"))
    ).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(aps.IOS_BUNDLE)
    expect(page.get_by_role("main")).to_contain_text("wx0123456789abcdef")
    journey.shot(page, "check-answers")
    page.get_by_role("button", name=t("Submit the amendment")).click()
    expect(page.get_by_role("heading", name=t("Amendment submitted"))).to_be_focused()
    filing.refresh_from_db()
    assert filing.status == Filing.Status.AMENDMENT_PENDING
    assert filing.applications.get(closed_at=None).kind == "amendment"
