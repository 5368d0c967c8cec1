"""Journey 2: a Beijing reviewer enrols TOTP, finds a conflicted filing in the queue, revokes
the squatter, re-checks and approves; the owner downloads ``bazs.cert``, the public query finds
the site, and the certificate verifies."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from certificates.models import Certificate
from filings.models import Filing
from tests import filings_support as fs
from tests.factories import BureauFactory, UserFactory

from .support import journey_marks, sign_in, totp_now, wait_for_sent

pytestmark = journey_marks

DOMAIN = "lanshan.cn"
SPONSOR = "北京蓝山科技有限公司"
SQUATTER = "北京抢注网络有限公司"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_beijing_reviewer_revokes_a_squatter_and_approves_the_rightful_owner(
    new_context, live_server, journey, tmp_path, lang
):
    # Another account filed the domain first and was approved.
    squatter = fs.approve(
        fs.submitted_filing(
            UserFactory(username="qiangzhu"),
            fs.data(
                sponsor={"name": SQUATTER},
                websites=[fs.website(homepage=f"http://{DOMAIN}/", domains=[DOMAIN])],
            ),
        )
    )
    owner = UserFactory(username="lanshan", email="it@lanshan.cn", mobile="13912345678")
    filing = fs.submitted_filing(
        owner,
        fs.data(
            sponsor={"name": SPONSOR},
            websites=[
                fs.website(name="蓝山官网", homepage=f"https://www.{DOMAIN}/", domains=[DOMAIN])
            ],
        ),
    )
    assert filing.has_open_conflicts
    BureauFactory(username="bj-reviewer")
    journey = journey("bureau-settles-a-squatted-domain", lang)
    t = journey.t

    # The reviewer signs in and enrols an authenticator, typing the key the page shows.
    reviewer = new_context().new_page()
    journey.open(reviewer, live_server.url)
    sign_in(reviewer, t, "bj-reviewer")
    expect(reviewer.get_by_role("heading", name=t("Set up your authenticator app"))).to_be_visible()
    journey.shot(reviewer, "reviewer-enrols-totp")
    secret = reviewer.locator("#otp-secret").inner_text()
    reviewer.get_by_label(t("6-digit code from your authenticator app")).fill(totp_now(secret))
    reviewer.get_by_role("button", name=t("Confirm")).click()
    expect(reviewer.get_by_role("heading", name=t("Review queue"))).to_be_visible()
    journey.shot(reviewer, "review-queue")

    # The queue, narrowed to conflicts, shows the filing with its flag.
    reviewer.get_by_label(t("with conflicts")).check()
    reviewer.get_by_role("button", name=t("Filter")).click()
    row = reviewer.get_by_role("row").filter(has_text=SPONSOR)
    expect(row).to_contain_text(DOMAIN)
    expect(reviewer.get_by_role("row").filter(has_text=SQUATTER)).to_have_count(0)
    journey.shot(reviewer, "queue-with-conflicts")
    row.get_by_role("link", name=SPONSOR).click()

    # The conflict names the other party, its account and contact.
    conflicts = reviewer.locator("#conflicts")
    expect(conflicts).to_contain_text(DOMAIN)
    expect(conflicts).to_contain_text(SQUATTER)
    expect(conflicts).to_contain_text(squatter.owner.username)
    expect(conflicts).to_contain_text(squatter.principal_mobile)
    journey.shot(reviewer, "filing-with-conflict")

    # Revoke the squatter's approved record, then come back and re-check.
    domain_row = conflicts.get_by_role("row").filter(has=reviewer.get_by_text(DOMAIN, exact=True))
    domain_row.get_by_role("link", name=t("Open to revoke")).click()
    expect(reviewer.get_by_role("heading", name=SQUATTER, exact=True)).to_be_visible()
    reviewer.get_by_label(t("Reason for the revocation")).fill(
        f"恶意抢注：{DOMAIN} 经核实属于{SPONSOR}，抢注方无法提供域名证书。"
    )
    journey.shot(reviewer, "revoke-the-squatter")
    reviewer.get_by_role("button", name=t("Revoke"), exact=True).click()
    # Revoking cannot be undone: the reviewer confirms it with the reason in front of them.
    expect(reviewer.get_by_role("main")).to_contain_text("抢注方无法提供域名证书")
    journey.shot(reviewer, "confirm-the-revocation")
    reviewer.get_by_role("button", name=t("Yes, revoke the filing")).click()
    expect(reviewer.get_by_role("heading", name=SPONSOR, exact=True)).to_be_visible()
    journey.shot(reviewer, "squatter-revoked")
    reviewer.get_by_role("button", name=t("Re-check conflicts")).click()
    expect(reviewer.locator("#conflicts")).to_contain_text(t("No open conflicts."))
    journey.shot(reviewer, "rechecked")
    reviewer.get_by_role("button", name=t("Approve"), exact=True).click()

    filing.refresh_from_db()
    squatter.refresh_from_db()
    assert squatter.status == Filing.Status.REVOKED
    assert not User.objects.get(pk=squatter.owner_id).is_active
    assert filing.status == Filing.Status.APPROVED
    expect(reviewer.get_by_role("main")).to_contain_text(filing.number)
    journey.shot(reviewer, "approved")
    # The decision and the certificate reach the owner by email through the worker.
    wait_for_sent(owner.email, template="review_approved")
    wait_for_sent(owner.email, template="certificate_issued")

    # The owner downloads the certificate from the task list.
    own = new_context().new_page()
    journey.open(own, live_server.url)
    sign_in(own, t, owner.username)
    expect(own.locator("[data-status]")).to_have_attribute("data-status", "approved")
    expect(own.get_by_role("main")).to_contain_text(filing.number)
    journey.shot(own, "owner-task-list-approved")
    with own.expect_download() as download:
        own.get_by_role("link", name=t("Download the certificate (bazs.cert)")).click()
    assert download.value.suggested_filename == "bazs.cert"
    certificate_file = tmp_path / "bazs.cert"
    download.value.save_as(certificate_file)

    # Anyone finds the site in the public query and verifies the certificate.
    public = new_context().new_page()
    journey.open(public, live_server.url)
    public.get_by_role("navigation").get_by_role("link", name=t("Is it filed?")).click()
    public.get_by_label(t("Domain, filing number or name")).fill(f"www.{DOMAIN}")
    public.get_by_role("main").get_by_role("button", name=t("Search")).click()
    website_number = filing.websites.get().number
    expect(public.get_by_role("main")).to_contain_text(website_number)
    expect(public.get_by_role("main")).not_to_contain_text(SQUATTER)
    journey.shot(public, "public-query-finds-the-site")

    public.get_by_role("link", name=t("Verify a certificate")).click()
    public.get_by_label(t("Certificate file (bazs.cert)")).set_input_files(certificate_file)
    public.get_by_role("button", name=t("Verify"), exact=True).click()
    result = public.locator("#verify-result")
    expect(result).to_have_attribute("data-status", "valid")
    expect(result).to_contain_text(filing.number)
    expect(result).to_contain_text(DOMAIN)
    journey.shot(public, "certificate-verifies")
    assert Certificate.objects.filter(filing=filing).count() == 1
