"""Journey 4, with the keyboard alone (Tab, Shift+Tab, Enter, Space, arrows and typing; no
mouse event): an owner files a sponsor with a website, a Beijing reviewer decides it, and a
provider imports a CSV of clients. Focus lands where the reader needs it at every turn."""

import pytest
from playwright.sync_api import expect

from filings.models import Filing
from providers.models import ImportJob
from tests.factories import AccessProviderFactory, BureauFactory, UserFactory
from tests.providers_support import provider_staff

from .support import choose_with_arrows, journey_marks, tab_to, totp_now, wait_for_sent
from .test_provider_imports_clients import client_row, clients_csv

pytestmark = journey_marks

PASSWORD = "Correct-Horse-9"  # the factories' password
USCC = "91350100M000100Y43"
SPONSOR = "北京青禾科技有限公司"


def sign_in(page, t, username: str, password: str = PASSWORD, *, listen: bool = False) -> None:
    tab_to(page, page.get_by_role("navigation").get_by_role("link", name=t("Sign in"), exact=True))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label(t("Username")))
    page.keyboard.type(username)
    tab_to(page, page.get_by_label(t("Password"), exact=True))
    page.keyboard.type(password)
    if listen:
        # The spoken alternative to the picture plays from the keyboard too.
        tab_to(page, page.get_by_role("link", name=t("Listen to the characters")))
        with page.expect_response(lambda r: "/captcha/audio/" in r.url) as heard:
            page.keyboard.press("Enter")
        assert heard.value.ok and heard.value.headers["content-type"] == "audio/wav"
    tab_to(page, page.get_by_label(t("Characters in the picture")))
    page.keyboard.type("PASSED")
    page.keyboard.press("Enter")


def type_into(page, field, text: str) -> None:
    tab_to(page, field)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def press(page, control, key: str = "Enter") -> None:
    tab_to(page, control)
    page.keyboard.press(key)


@pytest.mark.parametrize("lang", ["zh"])
def test_an_owner_a_reviewer_and_a_provider_finish_their_work_with_the_keyboard_alone(
    new_context, live_server, journey, tmp_path, lang
):
    owner = UserFactory(username="qinghe", email="it@qinghe.cn", mobile="13912340000")
    BureauFactory(username="bj-keyboard")
    provider = AccessProviderFactory(name="北京蓝山云计算有限公司")
    staff = provider_staff(provider, username="lanshan-keys")
    journey = journey("keyboard-only", lang)
    t = journey.t

    # The owner signs in and starts the filing.
    page = new_context().new_page()
    journey.open(page, live_server.url)
    sign_in(page, t, owner.username, listen=True)
    expect(page.get_by_role("heading", name=t("My filing"))).to_be_visible()
    press(page, page.get_by_role("link", name=t("Start your filing")))

    sponsor = page.get_by_role("group", name=t("Sponsor"), exact=True)
    choose_with_arrows(page, sponsor.get_by_label(t("Nature of the sponsor")), "enterprise")
    type_into(page, sponsor.get_by_label(t("Full name")), SPONSOR)
    choose_with_arrows(page, sponsor.get_by_label(t("Certificate type")), "uscc")
    # A certificate number with a wrong check character: the save fails.
    type_into(page, sponsor.get_by_label(t("Certificate number")), USCC[:-1] + "4")
    choose_with_arrows(page, sponsor.get_by_label(t("Residence province")), "11")
    type_into(page, sponsor.get_by_label(t("Address")), "北京市海淀区中关村大街2号")
    person = page.get_by_role("group", name=t("Responsible person"))
    type_into(page, person.get_by_label(t("Name of the person")), "王芳")
    choose_with_arrows(page, person.get_by_label(t("Certificate type")), "resident_id")
    type_into(page, person.get_by_label(t("Certificate number")), "11010519491231002X")
    type_into(page, person.get_by_label(t("Mobile number")), owner.mobile)
    type_into(page, person.get_by_label(t("Email address")), owner.email)
    journey.shot(page, "owner-sponsor-typed")
    press(page, page.get_by_role("button", name=t("Save and continue")))

    # Focus is on the error summary; its link leads to the field, where the fix is typed.
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    journey.shot(page, "owner-error-summary-focused")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    number = sponsor.get_by_label(t("Certificate number"))
    expect(number).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type(USCC)
    page.keyboard.press("Enter")  # Enter in a field sends the form

    # "Add a website" opens the form in place with focus on its first field.
    expect(page.get_by_role("heading", name=t("The websites"))).to_be_visible()
    press(page, page.get_by_role("link", name=t("Add a website")))
    expect(page.get_by_label(t("Website name"))).to_be_focused()
    page.keyboard.type("青禾官网")
    page.keyboard.press("Tab")
    page.keyboard.type("qinghe.cn")
    page.keyboard.press("Tab")
    page.keyboard.type("https://www.qinghe.cn/")
    page.keyboard.press("Tab")
    page.keyboard.type("120.79.1.11")
    press(page, page.locator("#f-w-services-corporate"), "Space")
    choose_with_arrows(page, page.get_by_label(t("Server location")), "11")
    press(
        page,
        page.get_by_label(t("Other (not in the list, or the server is outside mainland China)")),
        "Space",
    )
    journey.shot(page, "owner-website-typed")
    press(page, page.get_by_role("button", name=t("Save and continue")))
    expect(page.get_by_role("status").filter(has_text="青禾官网")).to_be_focused()
    journey.shot(page, "owner-website-saved")

    press(page, page.get_by_role("button", name=t("Continue"), exact=True))
    expect(
        page.get_by_role("heading", name=t("Check your answers before submitting"))
    ).to_be_visible()
    press(page, page.get_by_role("button", name=t("Submit the filing")))
    expect(page.get_by_role("heading", name=t("Filing submitted"))).to_be_focused()
    journey.shot(page, "owner-submitted")
    filing = Filing.objects.get(owner=owner)
    assert filing.status == Filing.Status.PENDING_REVIEW
    assert filing.sponsor_id_number == USCC

    # The reviewer enrols the authenticator, opens the filing from the queue and decides.
    reviewer = new_context().new_page()
    journey.open(reviewer, live_server.url)
    sign_in(reviewer, t, "bj-keyboard")
    secret = reviewer.locator("#otp-secret").inner_text()
    type_into(
        reviewer,
        reviewer.get_by_label(t("6-digit code from your authenticator app")),
        totp_now(secret),
    )
    reviewer.keyboard.press("Enter")
    expect(reviewer.get_by_role("heading", name=t("Review queue"))).to_be_visible()
    press(
        reviewer,
        reviewer.get_by_role("row").filter(has_text=SPONSOR).get_by_role("link", name=SPONSOR),
    )
    expect(reviewer.get_by_role("heading", name=SPONSOR, exact=True)).to_be_visible()
    # Rejecting without a reason fails; the summary takes focus.
    press(reviewer, reviewer.get_by_role("button", name=t("Reject"), exact=True))
    expect(reviewer.locator(".error-summary")).to_be_focused()
    journey.shot(reviewer, "reviewer-reject-needs-a-reason")
    with reviewer.expect_navigation():
        press(reviewer, reviewer.get_by_role("button", name=t("Approve"), exact=True))
    filing.refresh_from_db()
    assert filing.status == Filing.Status.APPROVED
    expect(reviewer.get_by_role("main")).to_contain_text(filing.number)
    journey.shot(reviewer, "reviewer-approved")
    wait_for_sent(owner.email, template="review_approved")

    # The provider's staff uploads a CSV of clients and downloads the results.
    upload = tmp_path / "clients.csv"
    upload.write_bytes(clients_csv([client_row(1), client_row(2)]))
    ops = new_context().new_page()
    # Chromium opens a file chooser to Playwright only once the page asks to intercept it; a
    # listener from the start makes that so before any key can open one.
    ops.on("filechooser", lambda _chooser: None)
    journey.open(ops, live_server.url)
    sign_in(ops, t, staff.username)
    expect(ops.get_by_role("heading", name=t("Provider console"))).to_be_visible()
    press(ops, ops.get_by_role("link", name=t("Imports"), exact=True))
    expect(ops.get_by_role("heading", name=t("Import clients from a CSV file"))).to_be_visible()
    tab_to(ops, ops.get_by_label(t("CSV file")))
    with ops.expect_file_chooser() as chooser:
        ops.keyboard.press("Space")
    chooser.value.set_files(upload)
    journey.shot(ops, "provider-file-chosen")
    press(ops, ops.get_by_role("button", name=t("Upload and import")))
    results = ops.get_by_role("button", name=t("Download the results with the initial passwords"))
    expect(results).to_be_visible(timeout=60_000)
    job = ImportJob.objects.get()
    assert (job.status, job.created_count, job.error_count) == ("done", 2, 0)
    journey.shot(ops, "provider-import-done")
    tab_to(ops, results)
    with ops.expect_download() as download:
        ops.keyboard.press("Enter")
    assert download.value.suggested_filename.endswith(".csv")
