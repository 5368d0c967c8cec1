"""The bureau's side of the stages before it (SPEC §12): the 20 working days count from the
day an application reaches the bureau; the queue, the digest and the escalation hold only
what waits for the bureau; a filing's page shows the application's kind and its first review."""

import datetime as dt
import re

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from beian.workdays import add_working_days
from filings.models import Application, Filing
from filings.stages import CHECKLIST, verification_confirm
from review.models import Escalation
from review.tasks import escalate_overdue, send_deadline_digests
from tests.factories import AccessProviderFactory
from tests.providers_support import provider_staff
from tests.review_support import RESIDENT_ID, beijing_reviewer, submit
from tests.test_certificates_support import approved_filing

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.stages,
    pytest.mark.usefixtures("fast_password_hashing"),
]

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
MONDAY_EVENING = dt.datetime(2026, 12, 7, 20, 0, tzinfo=SHANGHAI)
# Within the code's 24 hours, on the next working day.
TUESDAY = dt.datetime(2026, 12, 8, 10, 0, tzinfo=SHANGHAI)


def sms_code(mobile: str, outbox_messages) -> str:
    (sms,) = [m for m in outbox_messages(to=mobile) if m["channel"] == "sms"][:1]
    return re.search(r"\b(\d{6})\b", sms["body"]).group(1)


def test_a_filing_verified_the_day_after_submission_gets_its_deadline_from_that_day(
    time_machine, outbox_messages
):
    time_machine.move_to(MONDAY_EVENING, tick=False)
    filing = submit(name="核验后到局有限公司", domains=["arrives-later.cn"], mobile="13700009901")
    assert filing.status == Filing.Status.VERIFICATION
    code = sms_code("13700009901", outbox_messages)

    time_machine.move_to(TUESDAY, tick=False)
    verification_confirm(mobile="13700009901", code=code, id_last6=RESIDENT_ID[-6:], ip="10.0.0.1")

    filing.refresh_from_db()
    application = Application.objects.get(filing=filing, closed_at__isnull=True)
    assert filing.status == Filing.Status.PENDING_REVIEW
    assert application.reached_bureau_at == TUESDAY
    assert filing.review_deadline == add_working_days(TUESDAY.date(), 20)
    assert filing.review_deadline > add_working_days(MONDAY_EVENING.date(), 20)


def at_bureau(filing: Filing) -> Filing:
    """``filing`` (submitted, at the verification) as if confirmed today."""
    Filing.objects.filter(pk=filing.pk).update(
        status=Filing.Status.PENDING_REVIEW, review_deadline=timezone.localdate()
    )
    Application.objects.filter(filing=filing, closed_at__isnull=True).update(
        status=Filing.Status.PENDING_REVIEW, reached_bureau_at=timezone.now()
    )
    filing.refresh_from_db()
    return filing


@pytest.fixture
def at_stages():
    """Three filings of Beijing, one at each stage before the bureau, each with a deadline
    long past (as one left from an earlier round would be)."""
    filings = []
    for n, status in enumerate(
        [Filing.Status.PROVIDER_REVIEW, Filing.Status.VERIFICATION, Filing.Status.RETURNED]
    ):
        filing = submit(name=f"阶段中有限公司{n}", domains=[f"at-stage-{n}.cn"])
        Filing.objects.filter(pk=filing.pk).update(
            status=status, review_deadline=timezone.localdate() - dt.timedelta(days=40)
        )
        Application.objects.filter(filing=filing, closed_at__isnull=True).update(status=status)
        filings.append(filing)
    return filings


def test_the_queue_digest_and_escalation_leave_out_applications_before_the_bureau(
    otp_client, at_stages
):
    reviewer = beijing_reviewer()
    waiting = at_bureau(submit(name="已到管局有限公司", domains=["at-bureau.cn"]))

    rows = otp_client(reviewer).get("/review/").context["rows"]
    assert [r.filing.pk for r in rows] == [waiting.pk]
    overdue = otp_client(reviewer).get("/review/?overdue=on").context["rows"]
    assert list(overdue) == []

    assert send_deadline_digests() == 1
    assert escalate_overdue() == 0
    assert not Escalation.objects.exists()


@pytest.fixture
def new_access():
    """An approved record whose ``new_access`` application passed a provider's first review
    (four checks of six ticked, a record uploaded) and the SMS verification, now at the
    bureau as ``amendment_pending``."""
    filing = approved_filing(domains=("new-access.cn",))
    provider = AccessProviderFactory(name="示例云计算有限公司")
    staff = provider_staff(provider, username="chushen-staff")
    now = timezone.now()
    application = Application.objects.create(
        filing=filing,
        kind=Application.Kind.NEW_ACCESS,
        status=Application.Status.AMENDMENT_PENDING,
        provider=provider,
        submitted_at=now - dt.timedelta(days=2),
        provider_checklist=[code for code, _label in CHECKLIST[:4]],
        provider_passed_at=dt.datetime(2026, 12, 1, 10, 30, tzinfo=SHANGHAI),
        provider_passed_by=staff,
        verified_at=dt.datetime(2026, 12, 2, 16, 5, tzinfo=SHANGHAI),
        reached_bureau_at=now,
    )
    application.provider_record.save("record.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"))
    Filing.objects.filter(pk=filing.pk).update(
        status=Filing.Status.AMENDMENT_PENDING, review_deadline=timezone.localdate()
    )
    filing.refresh_from_db()
    return filing


def test_the_queue_shows_the_kind_of_the_application(otp_client, new_access):
    page = otp_client(beijing_reviewer()).get("/review/")
    (row,) = page.context["rows"]
    assert row.application_kind == "new_access"
    assert row.kind == "amendment"
    assert "新增接入" in page.content.decode()


def test_the_filing_page_shows_the_application_kind_once_and_its_first_review(
    otp_client, new_access
):
    page = otp_client(beijing_reviewer()).get(f"/review/filings/{new_access.pk}/")
    html = page.content.decode()
    assert html.count('data-application="new_access"') == 1
    header = html[: html.index('id="first-review"')]
    assert header.count("新增接入") == 1
    assert "变更备案" not in header

    panel = html[
        html.index('id="first-review"') : html.index("</section>", html.index('id="first-review"'))
    ]
    assert "示例云计算有限公司" in panel
    assert "2026-12-01 10:30" in panel and "chushen-staff" in panel
    ticked = dict(re.findall(r'data-check="(\w+)" data-ticked="(yes|no)"', panel))
    assert ticked == {code: "yes" if i < 4 else "no" for i, (code, _l) in enumerate(CHECKLIST)}
    application = Application.objects.filter(filing=new_access).latest("id")
    record = reverse("filings:verification-record", args=[application.pk])
    assert f'href="{record}"' in panel
    assert "已于 2026-12-02 16:05 确认" in panel


def test_without_a_record_or_a_confirmation_the_panel_says_so(otp_client, new_access):
    Application.objects.filter(filing=new_access).update(
        provider_record="", verified_at=None, provider_passed_at=None
    )
    page = otp_client(beijing_reviewer()).get(f"/review/filings/{new_access.pk}/")
    html = page.content.decode()
    assert "/record/" not in html
    assert "未上传" in html and "未确认" in html and "尚未通过" in html
