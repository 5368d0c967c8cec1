"""Journey 4 (Q17, SPEC §4): owner A files a.cn, owner B files a.cn later. A's reviewer sees
B's later claim as a notice and approves A; B's filing holds the conflict. A turns out to be
the squatter: the bureau revokes A, re-checks B and approves B."""

import pytest
from playwright.sync_api import expect

from filings.models import Filing
from tests import filings_support as fs
from tests.factories import BureauFactory, UserFactory

from .support import journey_marks, sign_in, totp_now

pytestmark = journey_marks

DOMAIN = "a.cn"
FIRST = "北京甲方网络有限公司"
LATER = "北京乙方科技有限公司"
LATER_MOBILE = "13922223333"


def claim(username, sponsor, homepage, mobile):
    return fs.submitted_filing(
        UserFactory(username=username),
        fs.data(
            sponsor={"name": sponsor, "principal": {**fs.SPONSOR["principal"], "mobile": mobile}},
            websites=[fs.website(homepage=homepage, domains=[DOMAIN])],
        ),
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_first_filer_is_approved_and_a_squatter_among_them_is_settled_as_q17_says(
    new_context, live_server, journey, lang
):
    first = claim("jiafang", FIRST, f"http://{DOMAIN}/", "13911112222")
    later = claim("yifang", LATER, f"http://shop.{DOMAIN}/", LATER_MOBILE)
    assert not first.has_open_conflicts and later.has_open_conflicts
    BureauFactory(username="bj-reviewer")
    journey = journey("bureau-approves-the-first-filer", lang)
    t = journey.t

    reviewer = new_context().new_page()
    journey.open(reviewer, live_server.url)
    if lang == "en":
        reviewer.get_by_role("button", name="English").click()
    sign_in(reviewer, t, "bj-reviewer")
    secret = reviewer.locator("#otp-secret").inner_text()
    reviewer.get_by_label(t("6-digit code from your authenticator app")).fill(totp_now(secret))
    reviewer.get_by_role("button", name=t("Confirm")).click()
    expect(reviewer.get_by_role("heading", name=t("Review queue"))).to_be_visible()
    journey.shot(reviewer, "queue")

    # The first filing: the later claim is a notice naming who, what and how to reach them.
    reviewer.get_by_role("row").filter(has_text=FIRST).get_by_role("link", name=FIRST).click()
    notice = reviewer.locator("#later-claims")
    expect(notice).to_contain_text(DOMAIN)
    expect(notice).to_contain_text(LATER)
    expect(notice).to_contain_text("yifang")
    expect(notice).to_contain_text(LATER_MOBILE)
    expect(reviewer.locator("#conflicts")).to_contain_text(t("No open conflicts."))
    journey.shot(reviewer, "first-filing-shows-the-later-claim")
    reviewer.get_by_role("button", name=t("Approve"), exact=True).click()
    first.refresh_from_db()
    assert first.status == Filing.Status.APPROVED
    expect(reviewer.get_by_role("main")).to_contain_text(first.number)
    journey.shot(reviewer, "first-filing-approved")

    # The later filing holds the conflict: it cannot be approved while it is open.
    reviewer.get_by_role("link", name=t("Back to the queue")).click()
    reviewer.get_by_role("row").filter(has_text=LATER).get_by_role("link", name=LATER).click()
    conflicts = reviewer.locator("#conflicts")
    expect(conflicts).to_contain_text(FIRST)
    expect(reviewer.get_by_role("button", name=t("Approve"), exact=True)).to_have_count(0)
    journey.shot(reviewer, "later-filing-holds-the-conflict")

    # A was the squatter after all: revoke it, come back, re-check and approve B.
    domain_row = conflicts.get_by_role("row").filter(has=reviewer.get_by_text(DOMAIN, exact=True))
    domain_row.get_by_role("link", name=t("Open to revoke")).click()
    reviewer.get_by_label(t("Reason for the revocation")).fill(
        f"恶意抢注：{DOMAIN} 经核实属于{LATER}。"
    )
    journey.shot(reviewer, "revoke-the-squatter")
    reviewer.get_by_role("button", name=t("Revoke"), exact=True).click()
    journey.shot(reviewer, "confirm-the-revocation")
    reviewer.get_by_role("button", name=t("Yes, revoke the filing")).click()
    expect(reviewer.get_by_role("heading", name=LATER, exact=True)).to_be_visible()
    reviewer.get_by_role("button", name=t("Re-check conflicts")).click()
    expect(reviewer.locator("#conflicts")).to_contain_text(t("No open conflicts."))
    journey.shot(reviewer, "rechecked")
    reviewer.get_by_role("button", name=t("Approve"), exact=True).click()

    first.refresh_from_db()
    later.refresh_from_db()
    assert first.status == Filing.Status.REVOKED
    assert later.status == Filing.Status.APPROVED
    expect(reviewer.get_by_role("main")).to_contain_text(later.number)
    journey.shot(reviewer, "later-filing-approved")
