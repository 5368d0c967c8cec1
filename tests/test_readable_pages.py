"""Pages a person can read (issue 14, §4 and the readable parts of §5): values stored by one
reader or a background job reach every other reader in their own language and in the
portal's one word for each thing."""

import datetime as dt
import re

import pytest
from django.utils import translation

from beian.coded import encode, render
from beian.models import Message
from filings.models import Filing
from review.tasks import escalate_overdue, send_deadline_digests
from tests.factories import MinistryFactory
from tests.review_support import beijing_reviewer, submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

MONDAY = dt.datetime(2026, 12, 7, 7, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def english(client):
    client.cookies["django_language"] = "en"
    return client


def text_of(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# Coded messages ------------------------------------------------------------------------------


def test_a_message_made_in_english_is_read_in_chinese_with_its_values():
    coded = encode("Line 7 of the file cannot be read as CSV.")
    assert coded == {
        "code": "Line %(line)s of the file cannot be read as CSV.",
        "params": {"line": "7"},
    }
    with translation.override("zh-hans"):
        assert render(coded) == "文件第 7 行无法按 CSV 格式读取。"
    with translation.override("en"):
        assert render(coded) == "Line 7 of the file cannot be read as CSV."


def test_a_text_that_is_no_message_is_kept_as_it_is():
    coded = encode("服务器返回了奇怪的内容")
    assert coded == {"code": "服务器返回了奇怪的内容", "params": {}}
    with translation.override("en"):
        assert render(coded) == "服务器返回了奇怪的内容"


# Province names ------------------------------------------------------------------------------


def test_the_bureau_filing_page_in_english_names_the_server_location_in_english(otp_client):
    filing = submit()
    page = english(otp_client(beijing_reviewer())).get(f"/review/filings/{filing.pk}/")
    body = text_of(page)
    assert page.status_code == 200
    assert "Server location Beijing" in body
    # The only Chinese left is what the owner typed (names, the address).
    assert not re.search(r"北京市(?!海淀区)", body)


def test_the_digest_names_the_overdue_items_not_only_their_count(time_machine):
    time_machine.move_to(MONDAY, tick=False)
    reviewer = beijing_reviewer()
    late = submit(name="迟迟未审公司", domains=["late-one.cn"])
    Filing.objects.filter(pk=late.pk).update(review_deadline=MONDAY.date() - dt.timedelta(days=7))

    assert send_deadline_digests() == 1

    (mail,) = Message.objects.filter(channel="email", to=reviewer.email)
    assert "迟迟未审公司" in mail.body
    assert f"#{late.pk}" in mail.body
    assert "已超过办理期限" in mail.body and "已超期" in mail.body


def test_the_escalation_email_names_provinces_in_the_ministry_members_language(time_machine):
    time_machine.move_to(MONDAY, tick=False)
    reader = MinistryFactory(language="en")
    late = submit(name="超期公司", domains=["esc-late.cn"])
    Filing.objects.filter(pk=late.pk).update(review_deadline=MONDAY.date() - dt.timedelta(days=2))

    assert escalate_overdue() == 1

    (mail,) = Message.objects.filter(channel="email", to=reader.email)
    assert "Beijing" in mail.body
    assert "北京" not in mail.body


# The import report ---------------------------------------------------------------------------


def test_an_import_report_uploaded_in_chinese_reads_in_english_for_an_english_reader(
    client, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from providers.models import ImportJob, ImportRow
    from tests.providers_support import provider_staff
    from tests.test_providers_imports import csv_bytes, row, upload

    staff = provider_staff()
    client.force_login(staff)
    bad = row(2)
    bad["filing"]["websites"][0]["ips"] = ["999.1.1.1"]
    upload(client, csv_bytes([row(1), bad]), django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    stored = ImportRow.objects.get(job=job, status="error").errors
    # Stored as message ids with their values, in no reader's language.
    assert "“%(value)s” is not an IPv4 or IPv6 address." in str(stored)
    assert not re.search(r"[\u4e00-\u9fff]", str(stored))

    chinese = text_of(client.get(reverse("providers:import-detail", args=[job.pk])))
    assert "“999.1.1.1”不是IPv4或IPv6地址。" in chinese
    page = text_of(english(client).get(reverse("providers:import-detail", args=[job.pk])))
    assert "“999.1.1.1” is not an IPv4 or IPv6 address." in page
    report = client.get(reverse("providers:import-errors", args=[job.pk])).content.decode(
        "utf-8-sig"
    )
    assert "“999.1.1.1” is not an IPv4 or IPv6 address." in report
    messages = [line.rsplit(",", 1)[-1] for line in report.strip().splitlines()[1:]]
    assert messages and not any(re.search(r"[\u4e00-\u9fff]", m) for m in messages)


def test_a_failed_import_job_says_why_in_the_readers_language(
    client, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from providers import import_jobs
    from providers.models import ImportJob
    from tests.providers_support import provider_staff
    from tests.test_providers_imports import row

    staff = provider_staff()
    with django_capture_on_commit_callbacks(execute=False):
        job = import_jobs.import_job_create(
            provider=staff.provider, by=staff, filename="a.csv", rows=[(2, row(1))]
        )
    staff.is_active = False
    staff.save()
    import_jobs.import_job_process_chunk(job_id=job.pk, limit=10)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    reader = provider_staff(provider=staff.provider)
    client.force_login(reader)
    chinese = text_of(client.get(reverse("providers:import-detail", args=[job.pk])))
    assert "上传该文件的账户已无权导入。" in chinese
    page = text_of(english(client).get(reverse("providers:import-detail", args=[job.pk])))
    assert "The account that uploaded this file may no longer import." in page


# The installation check (Q15) ------------------------------------------------------------------


def test_a_failed_installation_check_is_badged_did_not_pass_with_its_reason_on_both_sides(
    otp_client, client, settings
):
    from certificates.compliance import run_check
    from tests.test_certificates_checker import PORTAL, homepage
    from tests.test_certificates_support import LocalSite, approved_filing

    site = LocalSite()
    try:
        settings.PORTAL_URL = PORTAL
        settings.COMPLIANCE_ALLOW_PRIVATE_TARGETS = True
        settings.COMPLIANCE_RESOLVE = {"example.cn": f"127.0.0.1:{site.port}"}
        settings.COMPLIANCE_HOST_INTERVAL_SECONDS = 0
        filing = approved_filing(domains=("example.cn",))
        site.serve("/", homepage(filing.number))  # no bazs.cert: 404
        run_check(filing=filing, domain="example.cn", trigger="owner")
    finally:
        site.close()

    client.force_login(filing.owner)
    staff = otp_client(beijing_reviewer())
    for page_client, url in ((client, "/filing/"), (staff, f"/review/filings/{filing.pk}/")):
        page_client.cookies.pop("django_language", None)
        chinese = text_of(page_client.get(url))
        assert "未通过" in chinese and "发送失败" not in chinese
        assert "bazs.cert" in chinese and "返回 HTTP 404" in chinese
        english(page_client)
        page = text_of(page_client.get(url))
        assert "did not pass" in page and "failed" not in page
        assert "answered HTTP 404." in page


# The audit log -------------------------------------------------------------------------------


def test_the_audit_log_shows_each_changed_field_as_label_old_to_new_in_the_readers_language(
    otp_client,
):
    from tests.review_support import approved

    minister = MinistryFactory()
    filing = approved(by=minister)
    staff = otp_client(minister)

    chinese = text_of(staff.get("/review/audit/"))
    assert "状态： 待审核 → 已通过" in chinese
    assert f"备案号： — → {filing.number}" in chinese
    assert "pending_review" not in chinese and "{'" not in chinese
    # Fields that stayed the same are not listed.
    assert "拒绝原因：" not in chinese

    page = text_of(english(staff).get("/review/audit/"))
    assert "status: pending review → approved" in page
    assert f"filing number: — → {filing.number}" in page

    detail = text_of(staff.get(f"/review/filings/{filing.pk}/"))
    assert "status: pending review → approved" in detail
    assert "status: draft → pending review" in detail


def test_the_audit_log_action_column_does_not_wrap_inside_a_word(otp_client):
    from tests.review_support import approved

    minister = MinistryFactory()
    approved(by=minister)
    html = otp_client(minister).get("/review/audit/").content.decode()
    assert '<td class="text-nowrap" title="filing.approve">' in html


# One word for one thing ----------------------------------------------------------------------


def test_the_bureaus_decision_is_called_by_the_faqs_word_everywhere():
    from pathlib import Path

    import polib

    po = polib.pofile(
        str(Path(__file__).resolve().parent.parent / "locale/zh_Hans/LC_MESSAGES/django.po")
    )
    strings = [e.msgstr for e in po] + [
        p.read_text() for p in (Path(__file__).resolve().parent.parent / "templates").rglob("*.*")
    ]
    # FAQ Q17: 拒绝 / 拒绝原因; never 驳回 or 退回.
    assert not [s for s in strings if "驳回" in s or "退回" in s]
    assert any(e.msgstr == "拒绝原因" for e in po)


def test_the_other_location_reads_the_same_for_the_owner_and_the_reviewer(otp_client, client):
    from tests.review_support import filing_data

    data = filing_data()
    data["websites"][0]["server_location"] = "other"
    filing = submit(websites=data["websites"])
    reviewer_page = text_of(otp_client(beijing_reviewer()).get(f"/review/filings/{filing.pk}/"))
    assert "服务器放置地点 其它（中国大陆境外）" in reviewer_page
    from filings.services import filing_create
    from tests.factories import UserFactory

    owner = UserFactory()
    filing_create(owner=owner)
    client.force_login(owner)
    owner_html = client.get("/filing/websites/new/").content.decode()
    assert "其它（中国大陆境外）" in owner_html and "其他（" not in owner_html


# Revoking on the bureau's own motion --------------------------------------------------------


def test_revoking_asks_for_confirmation_with_the_reason_shown_before_anything_happens(otp_client):
    from django.urls import reverse

    from tests.review_support import approved

    filing = approved(domains=["own-motion.cn"])
    staff = otp_client(beijing_reviewer())
    url = reverse("review:revoke", args=[filing.pk])

    asked = staff.post(url, {"revoke-reason": "网站内容与备案不符，经核查属实。"})
    assert asked.status_code == 200
    page = text_of(asked)
    assert "网站内容与备案不符，经核查属实。" in page
    assert "是，注销该备案" in page
    filing.refresh_from_db()
    assert filing.status == "approved"

    # Changing the reason goes back to the filing page with the reason as it was typed.
    back = staff.post(url, {"revoke-reason": "网站内容与备案不符，经核查属实。", "edit": "1"})
    assert "网站内容与备案不符，经核查属实。</textarea>" in back.content.decode()
    filing.refresh_from_db()
    assert filing.status == "approved"

    done = staff.post(
        url, {"revoke-reason": "网站内容与备案不符，经核查属实。", "revoke-confirmed": "on"}
    )
    assert done.status_code == 302
    filing.refresh_from_db()
    assert filing.status == "revoked"


# The demo ------------------------------------------------------------------------------------


def test_seed_demo_prints_the_logins_last_and_alone_and_keeps_the_emails_in_the_outbox(
    settings, capsys
):
    from io import StringIO

    from django.core.management import call_command

    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    out = StringIO()
    call_command("seed_demo", stdout=out)
    printed = capsys.readouterr()
    text = out.getvalue()

    for stream in (text, printed.out, printed.err):
        assert "Content-Type" not in stream and "Subject:" not in stream
    lines = text.rstrip("\n").splitlines()
    start = lines.index("Demo logins (demo data only — never use these passwords elsewhere):")
    assert lines[0].startswith("Demo data ready:") and start <= 3
    assert all(line.startswith("  ") for line in lines[start + 1 :])
    assert any(line.split()[1] == "beijing" for line in lines[start + 1 :] if line.split())
    assert Message.objects.filter(channel="email").exists()


def test_make_run_serves_on_the_port_given_and_the_portal_url_follows_it():
    import subprocess
    from pathlib import Path

    plan = subprocess.run(
        ["make", "-n", "run", "PORT=8101"],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
    ).stdout
    assert "runserver 127.0.0.1:8101" in plan
    assert "PORTAL_URL=${PORTAL_URL:-http://127.0.0.1:8101}" in plan


# The annual review ---------------------------------------------------------------------------


def test_the_final_reminder_states_the_days_really_left(outbox_messages):
    import time_machine

    from public.tasks import annual_review_daily
    from tests.public_support import approved_filing, local

    filing = approved_filing(approved_at=local(2026, 6, 1))
    with time_machine.travel(local(2027, 1, 1), tick=False):
        annual_review_daily()
    # The beat was down from the day the final reminder was due until 25 March.
    with time_machine.travel(local(2027, 3, 25), tick=False):
        annual_review_daily()
    final = Message.objects.filter(channel="email", to=filing.owner.email).order_by("-id").first()
    assert "还剩 7 天" in final.subject and "2027-03-31" in final.subject
    assert "两周" not in final.subject


def test_an_owner_overdue_for_last_year_is_told_this_years_window_is_open_too(client):
    import time_machine

    from public.tasks import annual_review_daily
    from tests.public_support import approved_filing, local

    filing = approved_filing(approved_at=local(2026, 6, 1))
    for moment in (local(2027, 1, 1), local(2027, 4, 1), local(2028, 1, 3)):
        with time_machine.travel(moment, tick=False):
            annual_review_daily()
    with time_machine.travel(local(2028, 1, 10), tick=False):
        client.force_login(filing.owner)
        chinese = text_of(client.get("/filing/"))
        page = text_of(english(client).get("/filing/"))
    assert "2027" in chinese and "2028 年度审核也已开放，截止日期为 2028-03-31" in chinese
    assert "The annual review for 2028 is open too, until 2028-03-31" in page


def test_an_approved_filing_with_nothing_changed_shows_nothing_in_progress(client):
    from filings.models import Domain, Website
    from tests.review_support import approved

    filing = approved(domains=["checklist-demo.cn"])
    # A rule tightened after approval: the stored domain would not pass today's check.
    Domain.objects.filter(filing=filing).update(name="checklist.example.cn")
    Website.objects.filter(filing=filing).update(homepage="http://www.checklist.example.cn/")
    client.force_login(filing.owner)
    html = client.get("/filing/").content.decode()
    states = re.findall(r'data-section="(\w+)" data-state="(\w+)"', html)
    assert states and "in_progress" not in dict(states).values()
    assert ("websites", "completed") in states


# Amendments ----------------------------------------------------------------------------------


def _amended(owner):
    from filings import services
    from tests import filings_support as fs

    filing = fs.approve(fs.submitted_filing(owner))
    number = filing.websites.get().number
    services.filing_save_data(
        filing=filing,
        by=owner,
        data=fs.data(
            websites=[{**fs.website(), "number": number, "domains": ["example.cn", "example.net"]}]
        ),
    )
    return filing


def test_an_amendments_check_page_marks_what_changed_and_submits_as_an_amendment(client):
    from tests.factories import UserFactory

    owner = UserFactory()
    _amended(owner)
    client.force_login(owner)

    chinese = text_of(client.get("/filing/check/"))
    assert "本次变更的内容" in chinese
    assert "example.cn, example.net" in chinese
    assert "提交变更" in chinese and "提交备案" not in chinese

    page = text_of(english(client).get("/filing/check/"))
    assert "What this amendment changes" in page
    assert "Against the version the bureau approved" in page
    assert "Submit the amendment" in page and "Submit the filing" not in page


def test_a_first_filings_check_page_shows_no_amendment(client):
    from filings import services
    from tests import filings_support as fs
    from tests.factories import UserFactory

    owner = UserFactory()
    filing = services.filing_create(owner=owner)
    services.filing_save_data(filing=filing, by=owner, data=fs.data())
    client.force_login(owner)
    page = text_of(english(client).get("/filing/check/"))
    assert "Submit the filing" in page and "What this amendment changes" not in page


def test_a_revocation_after_an_approved_amendment_does_not_show_that_amendment_as_what_changed(
    otp_client,
):
    from filings import services
    from tests import filings_support as fs
    from tests.factories import UserFactory

    owner = UserFactory()
    filing = _amended(owner)
    filing = fs.approve(services.filing_submit(filing=filing, by=owner))
    services.filing_apply_revocation(filing=filing, by=owner, reason="网站已停止运营")
    page = text_of(english(otp_client(MinistryFactory())).get(f"/review/filings/{filing.pk}/"))
    changed = page.split("What changed", 1)[1].split("Decision", 1)[0]
    assert "example.net" not in changed
    assert "An application to revoke the filing" in changed
