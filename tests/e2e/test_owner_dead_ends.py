"""Journey 5: the ways out of what used to be dead ends. A new owner confirms only the SMS code
and is told that this worked and what comes next (Q16); the forgotten-username page is found
from the sign-in page and from the public query (Q11); an owner whose filing was revoked
learns why the right password no longer signs in (Q21); an owner withdraws an amendment
waiting for the bureau; and "change" on check-your-answers comes back to it."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from filings.models import Filing
from filings.serializers import filing_as_json
from filings.services import filing_save_data, filing_submit
from tests import filings_support as fs
from tests.factories import MinistryFactory, UserFactory

from .support import code_sent_to, journey_marks

pytestmark = journey_marks

PASSWORD = "Correct-Horse-9"  # the factories' password
NEW_PASSWORD = "Lanshan-Ridge-47"


def sign_in(page, t, username, password=PASSWORD):
    page.get_by_label(t("Username")).fill(username)
    page.get_by_label(t("Password"), exact=True).fill(password)
    page.get_by_label(t("Characters in the picture")).fill("PASSED")
    page.get_by_role("main").get_by_role("button", name=t("Sign in")).click()


def approved(username, domain, sponsor):
    website = fs.website(name="示例网站", homepage=f"http://www.{domain}/", domains=[domain])
    return fs.approve(
        fs.submitted_filing(
            UserFactory(username=username), fs.data(sponsor={"name": sponsor}, websites=[website])
        )
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_owner_finds_a_way_on_where_the_portal_used_to_stop(page, live_server, journey, lang):
    from review.services import filing_revoke

    revoked = approved(f"closed-{lang}", f"closed-{lang}.cn", f"已注销的公司{lang}")
    filing_revoke(filing=revoked, by=MinistryFactory(), reason="网站已关闭")
    amending = approved(f"amending-{lang}", f"amending-{lang}.cn", f"变更中的公司{lang}")
    data = filing_as_json(amending)
    data["websites"][0]["domains"].append(f"added-{lang}.cn")
    filing_save_data(filing=amending, by=amending.owner, data=data)
    filing_submit(filing=amending, by=amending.owner)

    journey = journey("owner-dead-ends", lang)
    t = journey.t
    journey.open(page, live_server.url)
    if lang == "en":
        page.get_by_role("button", name="English").click()

    # Q16: only the SMS code is typed (the email has not come): that is a success.
    mobile, email = (
        ("13911110000", "q16-zh@example.cn")
        if lang == "zh"
        else (
            "13911110001",
            "q16-en@example.cn",
        )
    )
    page.get_by_role("navigation").get_by_role("link", name=t("Register"), exact=True).click()
    page.get_by_label(t("Username")).fill(f"q16-{lang}")
    page.get_by_label(t("Password"), exact=True).fill(NEW_PASSWORD)
    page.get_by_label(t("Password again")).fill(NEW_PASSWORD)
    page.get_by_label(t("Email address")).fill(email)
    page.get_by_label(t("Mobile number")).fill(mobile)
    page.get_by_role("button", name=t("Register and send the codes")).click()
    page.get_by_label(t("Code sent to your mobile")).fill(code_sent_to(mobile))
    page.get_by_role("button", name=t("Confirm")).click()
    main = page.get_by_role("main")
    expect(page.locator("#error-summary")).to_have_count(0)
    expect(main).to_contain_text(email)
    expect(main.locator(f"a[href='{reverse('accounts:verify-change-email')}']")).to_be_visible()
    journey.shot(page, "sms-confirmed-next-step")
    page.get_by_label(t("Code sent to your email")).fill(code_sent_to(email))
    page.get_by_role("button", name=t("Confirm")).click()
    expect(page.get_by_role("heading", name=t("My filing"))).to_be_visible()
    page.get_by_role("button", name=t("Sign out")).click()

    # Q11: the forgotten-username page, from the sign-in page and from the public query.
    page.get_by_role("navigation").get_by_role("link", name=t("Sign in"), exact=True).click()
    journey.shot(page, "sign-in-links-forgotten-username")
    page.get_by_role("link", name=t("Forgotten your username?")).click()
    expect(page.get_by_role("heading", name=t("Forgotten username"))).to_be_visible()
    page.get_by_role("navigation").get_by_role("link", name=t("Is it filed?")).click()
    page.get_by_label(t("Domain, filing number or name")).fill(f"amending-{lang}.cn")
    page.get_by_role("main").get_by_role("button", name=t("Search")).click()
    expect(main).to_contain_text(amending.number)
    journey.shot(page, "query-results-link-forgotten-username")
    main.locator(f"a[href='{reverse('filings:forgot-username')}']").click()
    expect(page.get_by_role("heading", name=t("Forgotten username"))).to_be_visible()

    # Q21: the right password of an account closed with its revoked filing.
    page.get_by_role("navigation").get_by_role("link", name=t("Sign in"), exact=True).click()
    sign_in(page, t, revoked.owner.username)
    expect(page.locator("#error-summary")).to_contain_text(
        t(
            "This account was closed when its filing was revoked. To file again, register a "
            "new account and submit a new filing."
        )
    )
    expect(main.get_by_role("link", name=t("Register a new account"))).to_be_visible()
    journey.shot(page, "closed-account-told-why")

    # Withdraw the amendment still waiting for the bureau.
    sign_in(page, t, amending.owner.username)
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "amendment_pending")
    page.get_by_role("link", name=t("Withdraw the amendment")).click()
    journey.shot(page, "withdraw-asks-first")
    page.get_by_role("button", name=t("Withdraw the amendment")).click()
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "approved")
    journey.shot(page, "amendment-withdrawn")
    amending.refresh_from_db()
    assert amending.status == Filing.Status.APPROVED
    assert list(amending.domains.values_list("name", flat=True)) == [f"amending-{lang}.cn"]

    # Check your answers: "change" the website name and come back to the answers.
    page.goto(live_server.url + "/filing/check/")
    page.locator("a[href*='return=check#f-w-name']").click()
    page.get_by_label(t("Website name")).fill("改名后的网站")
    journey.shot(page, "change-from-check-your-answers")
    page.get_by_role("button", name=t("Save and go back to check your answers")).click()
    expect(
        page.get_by_role("heading", name=t("Check your answers before submitting"))
    ).to_be_visible()
    expect(main).to_contain_text("改名后的网站")
    journey.shot(page, "back-on-check-your-answers")
