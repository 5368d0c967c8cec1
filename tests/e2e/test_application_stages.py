"""The stages of an application (SPEC §12): the provider's first review, the responsible
person's SMS verification and the bureau.

1. An owner submits a filing naming a registered provider; the provider's staff return it with
   a reason on the homepage; the owner reads the reason on the task list and beside the field,
   fixes it and submits again; the provider passes it with the whole checklist and a PDF
   record; the responsible person confirms on the public verification page; the bureau reads
   the first review panel and approves.
2. An owner's application naming "other" waits for the verification; the owner asks for a new
   code; the code lapses and the application is returned with the reason; submitted again
   unchanged, it gets a new code; the earlier code is refused on its field, the new one
   confirms it and the task list shows the bureau's deadline.
"""

import datetime as dt
import re

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from filings.models import Application, Filing
from filings.services import filing_create, filing_save_data
from filings.stages import CHECKLIST
from filings.tasks import verification_lapse
from tests import filings_support as fs
from tests.factories import AccessProviderFactory, BureauFactory, UserFactory
from tests.providers_support import provider_staff

from .support import DJANGO_LANGUAGE, journey_marks, sign_in, totp_now, wait_for_sent

pytestmark = [*journey_marks, pytest.mark.stages]

SPONSOR = "北京蓝山科技有限公司"
PRINCIPAL_MOBILE = "13766668888"
WRONG_HOMEPAGE = "http://www.lanshan.cn/index"
HOMEPAGE = "https://www.lanshan.cn/"
RETURN_REASON = "首页网址须为网站的根地址，例如 https://www.lanshan.cn/。"
# What beat returns a lapsed verification with (filings.stages.lapse_reason).
LAPSE_REASON = (
    "The responsible person did not confirm the SMS code within "
    "%(hours)d hours. Check the mobile number, then submit the "
    "application again to get a new code."
)


def words(journey, msgid: str, *, context: str | None = None) -> str:
    """``msgid`` (optionally in ``context``) as the portal shows it in the journey's language."""
    if context is None:
        return journey.t(msgid)
    with translation.override(DJANGO_LANGUAGE[journey.lang]):
        return translation.pgettext(context, msgid)


def shown(journey, lazy) -> str:
    """A lazy label (a status, a checklist item) in the journey's language."""
    with translation.override(DJANGO_LANGUAGE[journey.lang]):
        return str(lazy)


def draft(owner, websites):
    """The owner's filing, saved as a draft with complete data (nothing submitted yet)."""
    filing = filing_create(owner=owner)
    payload = fs.data(
        sponsor={
            "name": SPONSOR,
            "principal": {**fs.SPONSOR["principal"], "mobile": PRINCIPAL_MOBILE},
        },
        websites=websites,
    )
    filing_save_data(filing=filing, by=owner, data=payload)
    return filing


def open_application(filing):
    return Application.objects.get(filing=filing, closed_at=None)


def submit_from_check_answers(page, journey, name):
    t = journey.t
    page.get_by_role("link", name=t("Check and submit"), exact=True).first.click()
    expect(
        page.get_by_role("heading", name=t("Check your answers before submitting"))
    ).to_be_visible()
    journey.shot(page, f"{name}-check-answers")
    page.get_by_role("button", name=t("Submit the filing")).click()
    expect(page.get_by_role("heading", name=t("Filing submitted"))).to_be_focused()
    journey.shot(page, f"{name}-submitted")


def verification_code(mobile: str, *, count: int) -> str:
    """The newest verification code sent to ``mobile`` once ``count`` of them went out."""
    wait_for_sent(mobile, count=count, template="verification_code")
    return fs.sms_code(mobile)


def confirm_on_public_page(page, journey, code, *, name):
    t = journey.t
    page.get_by_label(t("Mobile number of the responsible person")).fill(PRINCIPAL_MOBILE)
    page.get_by_label(t("Code in the SMS")).fill(code)
    page.get_by_label(t("Last 6 characters of the certificate number")).fill(fs.RESIDENT_ID[-6:])
    journey.shot(page, f"{name}-typed")
    page.get_by_role("button", name=t("Confirm the filing")).click()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_provider_returns_then_passes_the_responsible_person_confirms_and_the_bureau_approves(
    new_context, live_server, journey, tmp_path, lang
):
    provider = AccessProviderFactory(name="北京蓝山云计算有限公司")
    staff = provider_staff(provider, username="lanshan-ops")
    owner = UserFactory(username="lanshan-owner")
    BureauFactory(username="bj-reviewer")
    filing = draft(
        owner,
        [
            fs.website(
                name="蓝山官网",
                homepage=WRONG_HOMEPAGE,
                domains=["lanshan.cn"],
                access_provider=provider.pk,
            )
        ],
    )
    record = tmp_path / "核验单.pdf"
    record.write_bytes(fs.PDF_BYTES)
    journey = journey("application-stages-provider-review", lang)
    t = journey.t

    # The owner submits from check-your-answers: the application goes to the provider first.
    owner_page = new_context().new_page()
    journey.open(owner_page, live_server.url)
    sign_in(owner_page, t, owner.username)
    expect(owner_page.get_by_role("heading", name=t("My filing"))).to_be_visible()
    journey.shot(owner_page, "owner-task-list-draft")
    submit_from_check_answers(owner_page, journey, "first")
    expect(owner_page.get_by_role("main")).to_contain_text(provider.name)
    filing.refresh_from_db()
    assert filing.status == Filing.Status.PROVIDER_REVIEW
    assert open_application(filing).provider_id == provider.pk

    # The provider's staff open the first-review queue and return it on the homepage.
    ops = new_context().new_page()
    journey.open(ops, live_server.url)
    sign_in(ops, t, staff.username)
    expect(ops.get_by_role("heading", name=t("Provider console"))).to_be_visible()
    ops.get_by_role("link", name=t("First review"), exact=True).click()
    row = ops.get_by_role("row").filter(has_text=SPONSOR)
    expect(row).to_have_count(1)
    journey.shot(ops, "provider-queue")
    row.get_by_role("link", name=t("Review")).click()
    expect(ops.get_by_role("heading", name=SPONSOR, exact=True)).to_be_visible()
    expect(ops.get_by_role("main")).to_contain_text(WRONG_HOMEPAGE)
    homepage_field = f"{t('Website %(number)d') % {'number': 1}} · {t('homepage URL')}"
    ops.get_by_label(t("Field %(number)d") % {"number": 1}).select_option(label=homepage_field)
    ops.get_by_label(t("What is wrong with it")).first.fill(RETURN_REASON)
    journey.shot(ops, "provider-return-on-homepage")
    ops.get_by_role("button", name=t("Return it"), exact=True).click()
    expect(ops.get_by_role("main")).to_contain_text(
        t("Returned to the owner, who has been told why.")
    )
    expect(ops.get_by_text(t("Nothing waits for your first review."))).to_be_visible()
    journey.shot(ops, "provider-returned")
    filing.refresh_from_db()
    assert filing.status == Filing.Status.RETURNED
    assert open_application(filing).returns == [
        {"field": "websites.0.homepage", "reason": RETURN_REASON}
    ]

    # The owner reads the reason on the task list, then beside the homepage, and fixes it.
    owner_page.get_by_role("link", name=t("Go to your task list")).click()
    returns = owner_page.locator("#returns")
    expect(returns).to_contain_text(RETURN_REASON)
    expect(owner_page.locator("[data-status]")).to_have_text(
        shown(journey, Filing.Status.RETURNED.label)
    )
    journey.shot(owner_page, "owner-task-list-returned")
    returns.get_by_role("link").filter(has_text=t("Homepage URL")).click()
    homepage = owner_page.get_by_label(t("Homepage URL"))
    expect(homepage).to_have_value(WRONG_HOMEPAGE)
    beside = owner_page.locator("#f-w-homepage-returned")
    expect(beside).to_contain_text(RETURN_REASON)
    expect(beside).to_contain_text(t("Returned:"))
    expect(homepage).to_have_attribute("aria-describedby", re.compile(r"\bf-w-homepage-returned\b"))
    journey.shot(owner_page, "owner-reason-beside-the-homepage")
    homepage.fill(HOMEPAGE)
    owner_page.get_by_role("button", name=t("Save and continue")).click()
    expect(owner_page.get_by_role("heading", name=t("The websites"))).to_be_visible()
    owner_page.get_by_role("navigation").get_by_role("link", name=t("My filing")).click()
    expect(owner_page.locator("#returns")).to_contain_text(RETURN_REASON)  # until submitted
    submit_from_check_answers(owner_page, journey, "again")
    filing.refresh_from_db()
    assert filing.status == Filing.Status.PROVIDER_REVIEW

    # The provider passes it: the whole checklist ticked and the record uploaded.
    ops.get_by_role("link", name=t("First review"), exact=True).click()
    ops.get_by_role("row").filter(has_text=SPONSOR).get_by_role("link", name=t("Review")).click()
    expect(ops.get_by_role("main")).to_contain_text(HOMEPAGE)
    for _code, label in CHECKLIST:
        ops.get_by_label(shown(journey, label)).check()
    ops.get_by_label(t("Verification record (核验单)")).set_input_files(record)
    journey.shot(ops, "provider-pass-with-checklist-and-record")
    ops.get_by_role("button", name=t("Pass it on"), exact=True).click()
    expect(ops.get_by_role("main")).to_contain_text(
        t("Passed on. The responsible person and the owner have been told.")
    )
    journey.shot(ops, "provider-passed")
    filing.refresh_from_db()
    assert filing.status == Filing.Status.VERIFICATION
    assert open_application(filing).provider_record

    # The responsible person confirms on the public page, signed in nowhere.
    person = new_context().new_page()
    journey.open(person, live_server.url + "/verification/")
    expect(person.get_by_role("heading", name=t("SMS verification of a filing"))).to_be_visible()
    confirm_on_public_page(
        person, journey, verification_code(PRINCIPAL_MOBILE, count=1), name="verification"
    )
    expect(person.get_by_role("heading", name=t("The filing is confirmed"))).to_be_visible()
    filing.refresh_from_db()
    assert filing.status == Filing.Status.PENDING_REVIEW
    expect(person.get_by_role("main")).to_contain_text(filing.review_deadline.strftime("%Y-%m-%d"))
    journey.shot(person, "verification-confirmed")

    # The bureau reviewer opens it from the queue, reads the first review panel and approves.
    reviewer = new_context().new_page()
    journey.open(reviewer, live_server.url)
    sign_in(reviewer, t, "bj-reviewer")
    secret = reviewer.locator("#otp-secret").inner_text()
    reviewer.get_by_label(t("6-digit code from your authenticator app")).fill(totp_now(secret))
    reviewer.get_by_role("button", name=t("Confirm")).click()
    expect(reviewer.get_by_role("heading", name=t("Review queue"))).to_be_visible()
    journey.shot(reviewer, "bureau-queue")
    reviewer.get_by_role("row").filter(has_text=SPONSOR).get_by_role("link", name=SPONSOR).click()
    panel = reviewer.get_by_role(
        "region",
        name=words(
            journey,
            "Before the bureau: first review and SMS verification",
            context="first review panel",
        ),
    )
    expect(panel).to_contain_text(provider.name)
    expect(panel).to_contain_text(staff.username)
    expect(panel.locator("[data-ticked=yes]")).to_have_count(len(CHECKLIST))
    expect(panel.locator("[data-ticked=no]")).to_have_count(0)
    expect(
        panel.get_by_role(
            "link",
            name=words(journey, "Download the verification record", context="first review panel"),
        )
    ).to_be_visible()
    expect(panel.locator("[data-verified]")).not_to_contain_text(
        words(journey, "not confirmed", context="first review panel")
    )
    journey.shot(reviewer, "bureau-first-review-panel")
    reviewer.get_by_role("button", name=t("Approve"), exact=True).click()
    filing.refresh_from_db()
    assert filing.status == Filing.Status.APPROVED
    expect(reviewer.get_by_role("main")).to_contain_text(filing.number)
    journey.shot(reviewer, "bureau-approved")

    # The owner's task list: approved, with the filing number.
    owner_page.get_by_role("navigation").get_by_role("link", name=t("My filing")).click()
    expect(owner_page.locator("[data-status]")).to_have_attribute("data-status", "approved")
    expect(owner_page.locator("[data-status]")).to_have_text(
        shown(journey, Filing.Status.APPROVED.label)
    )
    expect(owner_page.get_by_role("main")).to_contain_text(filing.number)
    journey.shot(owner_page, "owner-task-list-approved")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_lapsed_verification_is_returned_submitted_again_and_confirmed_with_the_new_code(
    new_context, live_server, journey, lang
):
    owner = UserFactory(username="lanshan-owner")
    filing = draft(owner, [fs.website(name="蓝山官网", homepage=HOMEPAGE, domains=["lanshan.cn"])])
    journey = journey("application-stages-verification-lapses", lang)
    t = journey.t

    # Submitted naming "other": straight to the SMS verification.
    owner_page = new_context().new_page()
    journey.open(owner_page, live_server.url)
    sign_in(owner_page, t, owner.username)
    expect(owner_page.get_by_role("heading", name=t("My filing"))).to_be_visible()
    submit_from_check_answers(owner_page, journey, "first")
    filing.refresh_from_db()
    assert filing.status == Filing.Status.VERIFICATION
    verification_code(PRINCIPAL_MOBILE, count=1)
    owner_page.get_by_role("link", name=t("Go to your task list")).click()
    expect(owner_page.locator("[data-whose]")).to_have_attribute("data-whose", "phone")
    journey.shot(owner_page, "task-list-waits-for-the-phone")

    # The owner asks for a new code; it is the one that lapses.
    owner_page.get_by_role("button", name=t("Send a new code")).click()
    expect(owner_page.get_by_role("main")).to_contain_text(PRINCIPAL_MOBILE[-4:])
    journey.shot(owner_page, "new-code-sent")
    lapsed_code = verification_code(PRINCIPAL_MOBILE, count=2)

    # Nobody confirms it in time: beat returns the application.
    Application.objects.filter(filing=filing, closed_at=None).update(
        verification_expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert verification_lapse() == 1  # what beat runs
    filing.refresh_from_db()
    assert filing.status == Filing.Status.RETURNED
    [lapse] = open_application(filing).returns
    assert lapse["field"] == "sponsor.principal.mobile"
    with translation.override("zh-hans"):  # the server's language, as beat runs
        assert lapse["reason"] == translation.gettext(LAPSE_REASON) % {"hours": 24}

    owner_page.reload()
    returns = owner_page.locator("#returns")
    expect(returns).to_contain_text(t("Your application was returned:"))
    # Beat wrote the reason in the server's language; the owner reads it in their own.
    expect(returns).to_contain_text(words(journey, LAPSE_REASON) % {"hours": 24})
    expect(returns.get_by_role("link").filter(has_text=t("Mobile number"))).to_be_visible()
    expect(owner_page.locator("[data-whose]")).to_have_attribute("data-whose", "owner")
    journey.shot(owner_page, "task-list-returned-for-the-lapse")

    # Submitted again, unchanged: a new code goes out.
    submit_from_check_answers(owner_page, journey, "again")
    filing.refresh_from_db()
    assert filing.status == Filing.Status.VERIFICATION
    new_code = verification_code(PRINCIPAL_MOBILE, count=3)
    assert new_code != lapsed_code

    # The lapsed code is refused, on the code field; the new one confirms the application.
    person = new_context().new_page()
    journey.open(person, live_server.url + "/verification/")
    confirm_on_public_page(person, journey, lapsed_code, name="lapsed-code")
    code_field = person.get_by_label(t("Code in the SMS"))
    expect(code_field).to_have_attribute("aria-invalid", "true")
    expect(code_field).to_have_value("")
    mismatch = t(
        "The mobile number, the code and the last 6 characters of the certificate "
        "number do not match a verification waiting for them. Check all three; "
        "after 5 wrong tries the code stops working and the owner asks for a new one."
    )
    described = code_field.get_attribute("aria-describedby") or ""
    error_ids = [i for i in described.split() if i.endswith("error")]
    assert error_ids, f"the code field is described by no error: {described!r}"
    expect(person.locator(f"#{error_ids[0]}")).to_contain_text(mismatch)
    journey.shot(person, "lapsed-code-refused")
    filing.refresh_from_db()
    assert filing.status == Filing.Status.VERIFICATION

    person.get_by_label(t("Code in the SMS")).fill(new_code)
    person.get_by_role("button", name=t("Confirm the filing")).click()
    expect(person.get_by_role("heading", name=t("The filing is confirmed"))).to_be_visible()
    filing.refresh_from_db()
    assert filing.status == Filing.Status.PENDING_REVIEW
    deadline = filing.review_deadline.strftime("%Y-%m-%d")
    expect(person.get_by_role("main")).to_contain_text(deadline)
    journey.shot(person, "confirmed")

    owner_page.get_by_role("navigation").get_by_role("link", name=t("My filing")).click()
    expect(owner_page.locator("[data-deadline]")).to_have_attribute("data-deadline", deadline)
    expect(owner_page.locator("[data-whose]")).to_have_attribute("data-whose", "bureau")
    journey.shot(owner_page, "task-list-with-the-bureau-deadline")
