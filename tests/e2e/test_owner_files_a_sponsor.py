"""Journey 1: an owner registers, confirms the codes, signs in and files a sponsor with two
websites through the wizard, fixing a wrong certificate number on its field on the way. The
first website names a registered provider, whose first review comes before the bureau's
deadline (SPEC §12; the SMS verification is off here, see tests/conftest.py)."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from beian.workdays import add_working_days
from filings.models import Application, Filing
from filings.stages import provider_deadline
from tests import filings_support as fs
from tests.factories import AccessProviderFactory

from .support import code_sent_to, journey_marks

pytestmark = journey_marks

USERNAME = "zhangwei2026"
PASSWORD = "Lanshan-Ridge-47"
MOBILE = "13912345678"
EMAIL = "zhangwei@example.cn"
USCC = "91350100M000100Y43"
# The same code with a wrong check character (GB 32100), as a tired owner might type it.
USCC_TYPO = "91350100M000100Y44"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_owner_registers_signs_in_and_files_a_sponsor_with_two_websites(
    page, live_server, journey, lang
):
    provider = AccessProviderFactory(name="北京蓝山云计算有限公司")
    journey = journey("owner-files-a-sponsor", lang)
    t = journey.t
    journey.open(page, live_server.url, in_language=False)
    if lang == "en":
        page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en" if lang == "en" else "zh-CN")
    journey.shot(page, "home")
    # The first Tab reaches the skip link; following it puts focus on the main content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name=t("Skip to main content"))
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    # Register: the codes go out by SMS and email through the worker.
    page.get_by_role("navigation").get_by_role("link", name=t("Register"), exact=True).click()
    page.get_by_label(t("Username")).fill(USERNAME)
    page.get_by_label(t("Password"), exact=True).fill(PASSWORD)
    page.get_by_label(t("Password again")).fill(PASSWORD)
    page.get_by_label(t("Email address")).fill(EMAIL)
    page.get_by_label(t("Mobile number")).fill(MOBILE)
    journey.shot(page, "register")
    page.get_by_role("button", name=t("Register and send the codes")).click()
    expect(page.get_by_role("heading", name=t("Confirm your mobile and email"))).to_be_visible()
    journey.shot(page, "codes-sent")

    page.get_by_label(t("Code sent to your mobile")).fill(code_sent_to(MOBILE))
    page.get_by_label(t("Code sent to your email")).fill(code_sent_to(EMAIL))
    journey.shot(page, "codes-typed")
    page.get_by_role("button", name=t("Confirm")).click()
    expect(page.get_by_role("heading", name=t("My filing"))).to_be_visible()
    journey.shot(page, "confirmed")

    # Sign out, then in again with the picture's characters.
    page.get_by_role("button", name=t("Sign out")).click()
    page.get_by_role("navigation").get_by_role("link", name=t("Sign in"), exact=True).click()
    page.get_by_label(t("Username")).fill(USERNAME)
    page.get_by_label(t("Password"), exact=True).fill(PASSWORD)
    # A picture that is hard to read can be swapped for another without losing the form.
    picture = page.locator("img.captcha")
    first_picture = picture.get_attribute("src")
    page.get_by_role("button", name=t("Show another picture")).click()
    expect(picture).not_to_have_attribute("src", first_picture)
    expect(page.get_by_label(t("Username"))).to_have_value(USERNAME)
    page.get_by_label(t("Characters in the picture")).fill("PASSED")
    journey.shot(page, "sign-in")
    page.get_by_role("main").get_by_role("button", name=t("Sign in")).click()
    expect(page.get_by_role("heading", name=t("My filing"))).to_be_visible()
    journey.shot(page, "task-list-empty")

    # The sponsor, with a certificate number whose check character is wrong.
    page.get_by_role("link", name=t("Start your filing")).click()
    sponsor = page.get_by_role("group", name=t("Sponsor"), exact=True)
    sponsor.get_by_label(t("Nature of the sponsor")).select_option("enterprise")
    sponsor.get_by_label(t("Full name")).fill("北京蓝山科技有限公司")
    sponsor.get_by_label(t("Certificate type")).select_option("uscc")
    sponsor.get_by_label(t("Certificate number")).fill(USCC_TYPO)
    sponsor.get_by_label(t("Residence province")).select_option("11")
    sponsor.get_by_label(t("Address")).fill("北京市海淀区中关村大街1号")
    person = page.get_by_role("group", name=t("Responsible person"))
    person.get_by_label(t("Name of the person")).fill("张伟")
    person.get_by_label(t("Certificate type")).select_option("resident_id")
    person.get_by_label(t("Certificate number")).fill("11010519491231002X")
    person.get_by_label(t("Mobile number")).fill(MOBILE)
    person.get_by_label(t("Email address")).fill(EMAIL)
    journey.shot(page, "sponsor-typo")
    page.get_by_role("button", name=t("Save and continue")).click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # read first, so nobody hunts for what went wrong
    number = sponsor.get_by_label(t("Certificate number"))
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(number).to_have_value(USCC_TYPO)  # nothing typed is lost
    field_error = page.locator("#f-sponsor-id_number-error")
    expect(field_error).to_be_visible()
    journey.shot(page, "sponsor-error-on-field")
    summary.get_by_role("link").first.click()
    expect(number).to_be_focused()
    number.fill(USCC)
    page.get_by_role("button", name=t("Save and continue")).click()

    # Two websites: the first on a registered provider found by typing part of its name.
    expect(page.get_by_role("heading", name=t("The websites"))).to_be_visible()
    journey.shot(page, "websites-empty")
    page.get_by_role("link", name=t("Add a website")).click()
    # The form opens in place; only its own buttons lead on, so nothing typed can be lost.
    expect(page.get_by_label(t("Website name"))).to_be_focused()
    expect(page.get_by_role("button", name=t("Continue"), exact=True)).to_be_hidden()
    fill_website(
        page,
        t,
        name="蓝山官网",
        domains="lanshan.cn\nlanshan.com.cn",
        homepage="https://www.lanshan.cn/",
        ips="120.79.1.10",
        service="corporate",
    )
    page.get_by_placeholder(t("Name of the access provider")).fill("蓝山云")
    candidate = page.get_by_role("group", name=t("Candidates")).get_by_label(provider.name)
    candidate.check()
    journey.shot(page, "website-1")
    page.get_by_role("button", name=t("Save and continue")).click()
    saved = page.get_by_role("status").filter(has_text="蓝山官网")
    expect(saved).to_be_focused()

    page.get_by_role("link", name=t("Add another website")).click()
    fill_website(
        page,
        t,
        name="蓝山技术博客",
        domains="lanshan-blog.cn",
        homepage="http://www.lanshan-blog.cn/",
        ips="2408:4000::10",
        service="blog",
    )
    page.get_by_label(t("Other (not in the list, or the server is outside mainland China)")).check()
    journey.shot(page, "website-2")
    page.get_by_role("button", name=t("Save and continue")).click()
    rows = page.locator("#website-rows tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.get_by_text(t("completed"))).to_have_count(2)
    journey.shot(page, "websites-complete")

    # Check the answers, submit, and read the deadline.
    page.get_by_role("button", name=t("Continue"), exact=True).click()
    expect(
        page.get_by_role("heading", name=t("Check your answers before submitting"))
    ).to_be_visible()
    journey.shot(page, "check-answers")
    page.get_by_role("button", name=t("Submit the filing")).click()
    expect(page.get_by_role("heading", name=t("Filing submitted"))).to_be_focused()

    # The first website names a registered provider: its first review comes first (SPEC §12).
    filing = Filing.objects.get(owner__username=USERNAME)
    assert filing.status == Filing.Status.PROVIDER_REVIEW
    assert filing.sponsor_id_number == USCC
    assert filing.websites.count() == 2
    application = Application.objects.get(filing=filing, closed_at=None)
    assert application.provider == provider
    assert application.provider_deadline == provider_deadline(application.submitted_at)
    provider_due = application.provider_deadline.strftime("%Y-%m-%d")
    expect(page.get_by_role("main")).to_contain_text(provider.name)
    expect(page.get_by_role("main")).to_contain_text(provider_due)
    journey.shot(page, "submitted-with-provider-deadline")

    page.get_by_role("link", name=t("Go to your task list")).click()
    expect(page.locator("[data-until]")).to_have_attribute("data-until", provider_due)
    journey.shot(page, "task-list-provider-review")

    # The provider passes it on; the bureau's 20 working days start and the task list says so.
    filing = fs.to_bureau(filing)
    assert filing.status == Filing.Status.PENDING_REVIEW
    assert filing.review_deadline == add_working_days(
        timezone.localtime(filing.submitted_at).date(), 20
    )
    deadline = filing.review_deadline.strftime("%Y-%m-%d")
    page.reload()
    expect(page.locator("[data-deadline]")).to_have_attribute("data-deadline", deadline)
    journey.shot(page, "task-list-pending")
    owner = User.objects.get(username=USERNAME)
    assert owner.mobile_verified_at and owner.email_verified_at


def fill_website(page, t, *, name, domains, homepage, ips, service):
    page.get_by_label(t("Website name")).fill(name)
    page.get_by_label(t("Domains")).fill(domains)
    page.get_by_label(t("Homepage URL")).fill(homepage)
    page.get_by_label(t("IP addresses")).fill(ips)
    page.locator(f"#f-w-services-{service}").check()
    page.get_by_label(t("No, non-commercial")).check()
    page.get_by_label(t("Server location")).select_option("11")
