"""Journey: the owner of an approved website adds an Android app and a WeChat mini-program
(SPEC §13). The app's package name, public key and fingerprint fill themselves from its
uploaded APK; a fingerprint typed wrong on a second platform is caught by the package; the
app store is found by typing part of its name; both are submitted as an amendment. The cloud
provider serving the app passes them in its first review, the responsible person confirms
the SMS code, the bureau approves: the app is numbered -1A and the mini-program -1X, the
public query finds both by name, and the app store's check finds the app by package name."""

from pathlib import Path

import pytest
from django.utils import translation
from playwright.sync_api import expect
from rest_framework.test import APIClient

from accounts.models import AccessProvider
from filings.models import App, Filing, MiniProgram
from filings.stages import CHECKLIST
from tests import app_support as aps
from tests import filings_support as fs
from tests.factories import AccessProviderFactory, BureauFactory, UserFactory
from tests.providers_support import provider_staff

from .support import DJANGO_LANGUAGE, journey_marks, sign_in, totp_now, wait_for_sent

pytestmark = [*journey_marks, pytest.mark.stages]

SPONSOR = "北京示例科技有限公司"
PRINCIPAL_MOBILE = "13755556666"
CLOUD = "北京蓝山云计算有限公司"

APK = Path(__file__).resolve().parents[1] / "fixtures" / "apps" / "demo-v1v2.apk"
IPA = APK.with_name("demo.ipa")


def shown(journey, lazy) -> str:
    """A lazy label (a checklist item) in the journey's language."""
    with translation.override(DJANGO_LANGUAGE[journey.lang]):
        return str(lazy)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_owner_adds_an_app_from_its_apk_and_a_mini_program_through_every_stage(
    page, new_context, live_server, journey, tmp_path, lang
):
    owner = UserFactory(username=f"app-owner-{lang}")
    website = fs.website(
        name="示例网站", homepage=f"http://www.app-{lang}.cn/", domains=[f"app-{lang}.cn"]
    )
    payload = fs.data(
        sponsor={
            "name": SPONSOR,
            "principal": {**fs.SPONSOR["principal"], "mobile": PRINCIPAL_MOBILE},
        },
        websites=[website],
    )
    filing = fs.approve(fs.to_bureau(fs.submitted_filing(owner, payload)))
    store: AccessProvider = AccessProviderFactory(
        name=f"示例应用市场{lang}", is_access_provider=False, is_distribution_platform=True
    )
    cloud = AccessProviderFactory(name=CLOUD)
    cloud_ops = provider_staff(cloud, username=f"lanshan-ops-{lang}")
    BureauFactory(username=f"bj-apps-{lang}")
    record = tmp_path / "核验单.pdf"
    record.write_bytes(fs.PDF_BYTES)

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

    # Accesses, as a website's: the cloud provider, found by name.
    expect(page.get_by_role("heading", name=t("Accesses"), exact=True)).to_be_visible()
    page.get_by_label(t("Server location")).select_option("11")
    page.get_by_label(t("Search access providers by name")).fill("蓝山")
    page.get_by_label(t("Search access providers by name")).press("Enter")
    page.get_by_label(CLOUD).check()
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
    application = filing.applications.get(closed_at=None)
    assert (application.kind, application.provider_id) == ("amendment", cloud.pk)
    assert filing.status == Filing.Status.PROVIDER_REVIEW

    # The cloud provider's first review: the app and the mini-program are on the page.
    ops = new_context().new_page()
    journey.open(ops, live_server.url)
    sign_in(ops, t, cloud_ops.username)
    ops.get_by_role("link", name=t("First review"), exact=True).click()
    ops.get_by_role("row").filter(has_text=SPONSOR).get_by_role("link", name=t("Review")).click()
    expect(ops.get_by_role("main")).to_contain_text(aps.ANDROID_PACKAGE)
    expect(ops.get_by_role("main")).to_contain_text("wx0123456789abcdef")
    for _code, label in CHECKLIST:
        ops.get_by_label(shown(journey, label)).check()
    ops.get_by_label(t("Verification record (核验单)")).set_input_files(record)
    journey.shot(ops, "provider-first-review-of-the-app")
    ops.get_by_role("button", name=t("Pass it on"), exact=True).click()
    expect(ops.get_by_role("main")).to_contain_text(
        t("Passed on. The responsible person and the owner have been told.")
    )
    filing.refresh_from_db()
    assert filing.status == Filing.Status.VERIFICATION

    # The responsible person confirms the SMS code on the public page.
    wait_for_sent(PRINCIPAL_MOBILE, count=2, template="verification_code")
    person = new_context().new_page()
    journey.open(person, live_server.url + "/verification/")
    person.get_by_label(t("Mobile number of the responsible person")).fill(PRINCIPAL_MOBILE)
    person.get_by_label(t("Code in the SMS")).fill(fs.sms_code(PRINCIPAL_MOBILE))
    person.get_by_label(t("Last 6 characters of the certificate number")).fill(fs.RESIDENT_ID[-6:])
    person.get_by_role("button", name=t("Confirm the filing")).click()
    expect(person.get_by_role("heading", name=t("The filing is confirmed"))).to_be_visible()
    filing.refresh_from_db()
    assert filing.status == Filing.Status.AMENDMENT_PENDING

    # The bureau approves from its console; the app is -1A, the mini-program -1X.
    reviewer = new_context().new_page()
    journey.open(reviewer, live_server.url)
    sign_in(reviewer, t, f"bj-apps-{lang}")
    secret = reviewer.locator("#otp-secret").inner_text()
    reviewer.get_by_label(t("6-digit code from your authenticator app")).fill(totp_now(secret))
    reviewer.get_by_role("button", name=t("Confirm")).click()
    reviewer.get_by_role("row").filter(has_text=SPONSOR).get_by_role("link", name=SPONSOR).click()
    expect(reviewer.get_by_role("main")).to_contain_text(aps.ANDROID_PACKAGE)
    journey.shot(reviewer, "bureau-reads-the-app")
    reviewer.get_by_role("button", name=t("Approve the amendment"), exact=True).click()
    expect(reviewer.get_by_role("main")).to_contain_text(filing.number)
    filing.refresh_from_db()
    assert filing.status == Filing.Status.APPROVED
    app = App.objects.get(filing=filing)
    program = MiniProgram.objects.get(filing=filing)
    assert (app.number, program.number) == (f"{filing.number}-1A", f"{filing.number}-1X")
    expect(reviewer.get_by_role("main")).to_contain_text(filing.number)

    # The public query finds both by name, each under its kind.
    public = new_context().new_page()
    journey.open(public, live_server.url + "/query/?q=示例App")
    expect(public.get_by_role("main")).to_contain_text(app.number)
    journey.shot(public, "public-query-finds-the-app")
    public.goto(live_server.url + "/query/?q=示例小程序")
    expect(public.get_by_role("main")).to_contain_text(program.number)
    journey.shot(public, "public-query-finds-the-mini-program")

    # The app store's check finds the app by its package name.
    checker = APIClient()
    checker.force_authenticate(provider_staff(store, username=f"store-ops-{lang}"))
    answer = checker.post(
        "/api/v1/provider/apps/check/",
        {"identifiers": [aps.ANDROID_PACKAGE, "cn.example.unknown"]},
        format="json",
    ).json()
    assert [(r["identifier"], r["filed"], r["number"]) for r in answer["results"]] == [
        (aps.ANDROID_PACKAGE, True, app.number),
        ("cn.example.unknown", False, None),
    ]
