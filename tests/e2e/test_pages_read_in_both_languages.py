"""Journey 7: pages a person can read, in Chinese and in English.

An owner checks an amendment (what it changes against the approved version, 'Submit the
amendment') and sees a failed installation check badged 'did not pass' with its reason; a
Beijing reviewer reads a filing (the server location in the page's language), confirms a
revocation with the reason in front of them, and reads the audit log as 'field: old → new'; a
provider reads an import report uploaded in Chinese, in the page's language.
"""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from certificates.models import ComplianceCheck
from filings import services
from providers.models import ImportJob, ImportRow
from tests import filings_support as fs
from tests.factories import BureauFactory, UserFactory
from tests.providers_support import provider_staff

from .support import DJANGO_LANGUAGE, journey_marks

pytestmark = journey_marks

PASSWORD = "Correct-Horse-9"  # the factories' password


def sign_in(page, t, username, *, otp_key: bytes | None = None):
    page.get_by_role("navigation").get_by_role("link", name=t("Sign in"), exact=True).click()
    page.get_by_label(t("Username")).fill(username)
    page.get_by_label(t("Password"), exact=True).fill(PASSWORD)
    page.get_by_label(t("Characters in the picture")).fill("PASSED")
    page.get_by_role("main").get_by_role("button", name=t("Sign in")).click()
    if otp_key is not None:
        from django_otp.oath import totp

        page.get_by_label(t("6-digit code from your authenticator app")).fill(
            f"{totp(otp_key, step=30, digits=6):06d}"
        )
        page.get_by_role("button", name=t("Continue")).click()


def page_in(new_context, live_server, lang: str):
    context = new_context()
    host = re.sub(r"^https?://", "", live_server.url).split(":")[0]
    context.add_cookies(
        [{"name": "django_language", "value": DJANGO_LANGUAGE[lang], "domain": host, "path": "/"}]
    )
    return context.new_page()


def _setup(n: int):
    """An approved filing with an amendment in progress and a failed check; a pending filing
    for the reviewer; a provider's import report stored as codes."""
    owner = UserFactory(username=f"amender{n}")
    approved = fs.approve(
        fs.submitted_filing(
            owner,
            fs.data(
                sponsor={"name": f"北京青松示例科技有限公司{n}"},
                websites=[
                    fs.website(homepage=f"http://qingsong{n}.cn/", domains=[f"qingsong{n}.cn"])
                ],
            ),
        )
    )
    number = approved.websites.get().number
    services.filing_save_data(
        filing=approved,
        by=owner,
        data=fs.data(
            sponsor={"name": f"北京青松示例科技有限公司{n}"},
            websites=[
                fs.website(
                    number=number,
                    homepage=f"http://qingsong{n}.cn/",
                    domains=[f"qingsong{n}.cn", f"qingsong{n}.com.cn"],
                )
            ],
        ),
    )
    ComplianceCheck.objects.create(
        filing=approved,
        domain=f"qingsong{n}.cn",
        checked_at=timezone.now(),
        ok=False,
        reason=ComplianceCheck.Reason.CERT_MISSING,
        detail=f"http://qingsong{n}.cn/cert/bazs.cert answered HTTP 404.",
        trigger=ComplianceCheck.Trigger.OWNER,
    )
    other = fs.approve(
        fs.submitted_filing(
            UserFactory(username=f"bailu{n}"),
            fs.data(
                sponsor={"name": f"北京白鹭示例传媒有限公司{n}"},
                websites=[fs.website(homepage=f"http://bailu{n}.cn/", domains=[f"bailu{n}.cn"])],
            ),
        )
    )
    staff = provider_staff(username=f"ops{n}")
    job = ImportJob.objects.create(
        provider=staff.provider,
        created_by=staff,
        source=ImportJob.Source.CSV,
        filename="clients.csv",
        total_rows=1,
        processed_rows=1,
        error_count=1,
        status=ImportJob.Status.DONE,
    )
    ImportRow.objects.create(
        job=job,
        index=0,
        line=2,
        username="client-bad",
        payload={},
        status=ImportRow.Status.ERROR,
        errors={
            "filing": {
                "websites": [
                    {
                        "ips": [
                            {
                                "code": "“%(value)s” is not an IPv4 or IPv6 address.",
                                "params": {"value": "999.1.1.1"},
                            }
                        ]
                    }
                ]
            }
        },
    )
    return owner, approved, other, staff, job


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pages_read_in_the_readers_language(new_context, live_server, journey, lang):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    n = 1 if lang == "zh" else 2
    owner, approved, other, staff, job = _setup(n)
    reviewer_account = BureauFactory(username=f"bj-reader{n}")
    device = TOTPDevice.objects.create(user=reviewer_account, name="phone", confirmed=True)
    journey = journey("pages-read-in-both-languages", lang)
    t = journey.t

    # The owner: an amendment shown as one, and the failed installation check.
    owner_page = page_in(new_context, live_server, lang)
    journey.open(owner_page, live_server.url)
    sign_in(owner_page, t, owner.username)
    main = owner_page.get_by_role("main")
    expect(main.locator(".badge.text-bg-danger").first).to_have_text(
        "未通过" if lang == "zh" else "did not pass"
    )
    expect(main).to_contain_text("bazs.cert")
    journey.shot(owner_page, "task-list-failed-check")
    owner_page.goto(f"{live_server.url}/filing/check/")
    expect(owner_page.get_by_role("heading", name=t("What this amendment changes"))).to_be_visible()
    expect(owner_page.get_by_role("main")).to_contain_text(f"qingsong{n}.com.cn")
    expect(owner_page.get_by_role("button", name=t("Submit the amendment"))).to_be_visible()
    journey.shot(owner_page, "amendment-check-page")

    # The reviewer: a filing in the page's language, a confirmed revocation, the audit log.
    reviewer = page_in(new_context, live_server, lang)
    journey.open(reviewer, live_server.url)
    sign_in(reviewer, t, reviewer_account.username, otp_key=device.bin_key)
    reviewer.goto(f"{live_server.url}/review/filings/{other.pk}/")
    server = reviewer.locator("dt", has_text=t("Server location")).first.locator(
        "xpath=following-sibling::dd[1]"
    )
    expect(server).to_have_text("北京市" if lang == "zh" else "Beijing")
    reviewer.get_by_label(t("Reason for the revocation")).fill("经核查，网站内容与备案信息不符。")
    journey.shot(reviewer, "revoke-with-reason")
    reviewer.get_by_role("button", name=t("Revoke"), exact=True).click()
    expect(reviewer.get_by_role("main")).to_contain_text("经核查，网站内容与备案信息不符。")
    journey.shot(reviewer, "confirm-the-revocation")
    reviewer.get_by_role("button", name=t("Yes, revoke the filing")).click()
    expect(reviewer.get_by_role("main")).to_contain_text(t("revoked"))
    reviewer.goto(f"{live_server.url}/review/audit/")
    row = reviewer.get_by_role("row").filter(has_text=t("filing revoked by the bureau")).first
    expect(row).to_contain_text(f"{t('approved')} → {t('revoked')}")
    expect(row).not_to_contain_text("{'")
    journey.shot(reviewer, "audit-log")

    # The provider: an import report uploaded in Chinese, read in the page's language.
    ops = page_in(new_context, live_server, lang)
    journey.open(ops, live_server.url)
    sign_in(ops, t, staff.username)
    ops.goto(f"{live_server.url}/provider/imports/{job.pk}/")
    expected = (
        "“999.1.1.1”不是IPv4或IPv6地址。"
        if lang == "zh"
        else "“999.1.1.1” is not an IPv4 or IPv6 address."
    )
    expect(ops.get_by_role("main")).to_contain_text(expected)
    journey.shot(ops, "import-report")
    approved.refresh_from_db()
    assert approved.status == "approved"
