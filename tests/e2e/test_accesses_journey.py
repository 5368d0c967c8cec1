"""Accesses as the record's third part (SPEC §12), as its users go through them.

A website gets a second access at another provider (the owner applies on the task list; the
new provider's first review and the bureau pass it); the first provider withdraws its access
in its console; the owner cancels one of two websites (its number leaves the public query, the
old certificate verifies as superseded and the new one lists one website); a provider
withdraws the last access of another owner's website, that owner is warned, and after the
notice period the bureau cancels the empty shell from its console.
"""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.test import APIClient

from certificates.models import Certificate
from filings.models import Application, Filing, Website
from review.services import filing_approve
from tests import filings_support as fs
from tests.factories import AccessProviderFactory, BureauFactory, MinistryFactory, UserFactory
from tests.providers_support import provider_staff

from .support import journey_marks, sign_in, totp_now, wait_for_sent

pytestmark = journey_marks

LANSHAN = "北京蓝山云计算有限公司"
QINGYUN = "上海青云内容分发有限公司"


def approved_record(owner, sponsor: str, websites: list[dict]) -> Filing:
    filing = fs.submitted_filing(owner, fs.data(sponsor={"name": sponsor}, websites=websites))
    return fs.approve(fs.to_bureau(filing))


def decide(filing) -> Filing:
    filing.refresh_from_db()
    return filing_approve(filing=filing, by=MinistryFactory())


def gating(provider, domain: str) -> dict:
    client = APIClient()
    client.force_authenticate(provider_staff(provider))
    return client.get(f"/api/v1/provider/domains/{domain}/").json()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_second_access_a_withdrawal_a_cancelled_website_and_an_empty_shell(
    new_context, live_server, journey, lang
):
    lanshan = AccessProviderFactory(name=LANSHAN)
    qingyun = AccessProviderFactory(name=QINGYUN)
    lanshan_ops = provider_staff(lanshan, username="lanshan-ops")
    owner = UserFactory(username="qinghe-owner")
    filing = approved_record(
        owner,
        "北京青禾科技有限公司",
        [
            fs.website(
                name="青禾官网",
                homepage="http://www.qinghe.cn/",
                domains=["qinghe.cn"],
                access_provider=lanshan.pk,
            ),
            fs.website(
                name="青禾商城",
                homepage="http://shop-qinghe.cn/",
                domains=["shop-qinghe.cn"],
                access_provider=lanshan.pk,
            ),
        ],
    )
    first, second = Website.objects.filter(filing=filing).order_by("position")
    BureauFactory(username="bj-shells")
    journey = journey("accesses", lang)
    t = journey.t

    # The owner applies for a second access (a CDN) to the first website on the task list.
    page = new_context().new_page()
    journey.open(page, live_server.url)
    sign_in(page, t, owner.username)
    websites = page.locator("#accesses-title").locator("..")
    expect(websites).to_contain_text(first.number)
    journey.shot(page, "owner-websites-and-accesses")
    websites.locator(f"[data-website='{first.number}']").get_by_role(
        "link", name=t("Add an access")
    ).click()
    expect(page.get_by_role("heading", name=t("Apply for a new access"))).to_be_visible()
    page.get_by_label(t("IP addresses")).fill("121.40.8.7")
    page.get_by_label(t("Search access providers by name")).fill("青云")
    page.get_by_label(t("Search access providers by name")).press("Enter")
    page.get_by_label(QINGYUN).check()
    page.get_by_label(t("Access method")).select_option("cloud")
    page.get_by_label(t("Server location")).select_option("31")
    journey.shot(page, "owner-new-access-typed")
    page.get_by_role("button", name=t("Apply for the new access")).click()
    expect(page.get_by_role("heading", name=t("My filing"))).to_be_visible()
    application = Application.objects.get(filing=filing, closed_at=None)
    assert (application.kind, application.provider_id) == ("new_access", qingyun.pk)
    journey.shot(page, "owner-new-access-sent")

    # The new provider's first review and the bureau pass it: both may serve the website now.
    fs.first_review_pass(filing)
    decide(filing)
    assert gating(qingyun, "www.qinghe.cn")["access"] is True
    assert gating(lanshan, "www.qinghe.cn")["access"] is True

    # The first provider withdraws its access to the first website in its console.
    ops = new_context().new_page()
    journey.open(ops, live_server.url)
    sign_in(ops, t, lanshan_ops.username)
    expect(ops.get_by_role("heading", name=t("Provider console"))).to_be_visible()
    cancel_in_console(ops, journey, first.number, "客户已迁往其他云服务商")
    decide(filing)
    assert gating(lanshan, "qinghe.cn")["access"] is False
    assert gating(qingyun, "qinghe.cn")["access"] is True

    # The owner cancels the second website: it leaves the query; the old certificate is
    # superseded by one listing the first website only.
    old = Certificate.objects.get(filing=filing, status="valid")
    page.reload()
    page.locator(f"[data-website='{second.number}']").get_by_role(
        "link", name=t("Cancel this website")
    ).click()
    expect(page.get_by_role("heading", name=t("Cancel a website"))).to_be_visible()
    page.get_by_label(t("Reason")).fill("商城已停止运营")
    journey.shot(page, "owner-cancel-website")
    page.get_by_role("button", name=t("Apply to cancel the website")).click()
    expect(page.get_by_role("heading", name=t("My filing"))).to_be_visible()
    decide(filing)
    public = APIClient().get("/api/v1/public/filings/", {"q": "shop-qinghe.cn"}).json()
    assert public["count"] == 0
    verified = APIClient().post(
        "/api/v1/public/certificates/verify/", old.content.encode(), content_type="text/plain"
    )
    assert verified.json()["status"] == "superseded"
    new = Certificate.objects.get(filing=filing, status="valid")
    assert first.number in new.content and second.number not in new.content

    # Another owner's website loses its last access: the owner is warned at once.
    other = UserFactory(username="songshu-owner")
    record = approved_record(
        other,
        "北京松鼠文化传播有限公司",
        [
            fs.website(name="松鼠博客", homepage="http://songshu.cn/", domains=["songshu.cn"]),
            fs.website(
                name="松鼠相册",
                homepage="http://songshu-photo.cn/",
                domains=["songshu-photo.cn"],
                access_provider=lanshan.pk,
            ),
        ],
    )
    shell = Website.objects.get(filing=record, position=1)
    cancel_in_console(ops, journey, shell.number, "网站长期无法访问", only=True)
    decide(record)
    wait_for_sent(other.email, template="website_shell")
    wait_for_sent(other.mobile, template="website_shell")
    other_page = new_context().new_page()
    journey.open(other_page, live_server.url)
    sign_in(other_page, t, other.username)
    warned = other_page.locator(f"[data-website='{shell.number}']")
    expect(warned).to_contain_text(t("no access: empty shell"))
    journey.shot(other_page, "owner-warned-of-the-empty-shell")

    # After the notice period the bureau cancels it from the list of empty shells.
    Website.objects.filter(pk=shell.pk).update(shell_since=timezone.now() - dt.timedelta(days=31))
    reviewer = new_context().new_page()
    journey.open(reviewer, live_server.url)
    sign_in(reviewer, t, "bj-shells")
    secret = reviewer.locator("#otp-secret").inner_text()
    reviewer.get_by_label(t("6-digit code from your authenticator app")).fill(totp_now(secret))
    reviewer.get_by_role("button", name=t("Confirm")).click()
    reviewer.get_by_role("navigation").get_by_role("link", name=t("Empty shells")).click()
    expect(reviewer.get_by_role("row").filter(has_text=shell.number)).to_contain_text(
        t("past notice")
    )
    journey.shot(reviewer, "bureau-empty-shells")
    reviewer.get_by_role("button", name=t("Cancel the shells past their notice")).click()
    expect(reviewer.get_by_role("main")).to_contain_text(t("No website is without an access."))
    journey.shot(reviewer, "bureau-shells-cancelled")
    assert not Website.objects.filter(number=shell.number).exists()
    assert Filing.objects.get(pk=record.pk).status == "approved"
    assert gating(qingyun, "songshu-photo.cn")["filed"] is False


def cancel_in_console(ops, journey, number: str, reason: str, *, only: bool = False) -> None:
    """The provider's staff withdraw its access to the website ``number`` from the list of its
    accesses in the console; when it is the website's ``only`` access, the console warns of
    the empty shell and asks again."""
    t = journey.t
    ops.get_by_role("link", name=t("Access management"), exact=True).click()
    ops.get_by_role("row").filter(has_text=number).get_by_role("link", name=t("Withdraw")).click()
    expect(ops.get_by_label(t("Website number"))).to_have_value(number)
    ops.get_by_label(t("Reason")).fill(reason)
    journey.shot(ops, f"provider-withdraws-{number[-1]}")
    ops.get_by_role("button", name=t("Withdraw the access")).click()
    if only:
        expect(ops.locator("[data-last-access]")).to_be_visible()
        expect(ops.get_by_label(t("Reason"))).to_have_value(reason)
        journey.shot(ops, "provider-warned-of-the-empty-shell")
        ops.get_by_role("button", name=t("Withdraw it, leaving an empty shell")).click()
    expect(ops.get_by_role("heading", name=t("Your accesses in force"))).to_be_visible()
    expect(ops.get_by_role("main")).to_contain_text(number)
    journey.shot(ops, f"provider-accesses-after-withdrawing-{number[-1]}")
