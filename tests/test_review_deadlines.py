"""Deadline tracking (SPEC §4): the daily digest to each bureau and escalation to the ministry,
on a frozen clock, each safe to run twice."""

import datetime as dt

import pytest

from beian.celery import app
from beian.models import Message
from beian.workdays import add_working_days
from filings.models import Filing
from review.models import DeadlineDigest, Escalation
from review.tasks import escalate_overdue, send_deadline_digests
from tests.factories import MinistryFactory
from tests.review_support import beijing_reviewer, shanghai_reviewer, submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

MONDAY = dt.datetime(2026, 12, 7, 7, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
SATURDAY = MONDAY + dt.timedelta(days=5)


def with_deadline(filing, deadline):
    Filing.objects.filter(pk=filing.pk).update(review_deadline=deadline)
    filing.refresh_from_db()
    return filing


def emails_to(address):
    return list(Message.objects.filter(channel="email", to=address).order_by("id"))


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(MONDAY, tick=False)
    return time_machine


def test_the_digest_lists_items_due_within_five_working_days_to_each_bureau_member(frozen):
    today = MONDAY.date()
    reviewers = [beijing_reviewer(), beijing_reviewer()]
    retired = beijing_reviewer(is_active=False)
    shanghai = shanghai_reviewer()
    soon = with_deadline(submit(name="五日内到期公司", domains=["d-soon.cn"]), today)
    edge = with_deadline(
        submit(name="第五个工作日到期公司", domains=["d-edge.cn"]), add_working_days(today, 5)
    )
    with_deadline(submit(name="尚早公司", domains=["d-far.cn"]), add_working_days(today, 6))
    with_deadline(submit(name="已超期公司", domains=["d-late.cn"]), today - dt.timedelta(days=3))

    assert send_deadline_digests() == 1

    for reviewer in reviewers:
        (mail,) = emails_to(reviewer.email)
        assert mail.template == "review_deadline_digest"
        assert soon.sponsor_name in mail.body
        assert edge.sponsor_name in mail.body
        assert "尚早公司" not in mail.body
    assert emails_to(retired.email) == []
    assert emails_to(shanghai.email) == []
    digest = DeadlineDigest.objects.get()
    assert (digest.province_id, digest.date, digest.due_count, digest.overdue_count) == (
        "11",
        today,
        2,
        1,
    )


def test_the_digest_is_sent_once_a_day_however_often_beat_runs_it(frozen):
    reviewer = beijing_reviewer()
    with_deadline(submit(domains=["d-once.cn"]), MONDAY.date())

    send_deadline_digests()
    assert send_deadline_digests() == 0
    assert len(emails_to(reviewer.email)) == 1

    frozen.move_to(MONDAY + dt.timedelta(days=1), tick=False)
    with_deadline(Filing.objects.get(), add_working_days(MONDAY.date(), 2))
    assert send_deadline_digests() == 1
    assert len(emails_to(reviewer.email)) == 2


def test_no_digest_on_a_day_off(time_machine):
    time_machine.move_to(SATURDAY, tick=False)
    beijing_reviewer()
    with_deadline(submit(domains=["d-weekend.cn"]), add_working_days(SATURDAY.date(), 1))
    assert send_deadline_digests() == 0
    assert not DeadlineDigest.objects.exists()


def test_overdue_items_are_escalated_to_the_ministry_once(frozen):
    ministers = [MinistryFactory(), MinistryFactory()]
    reviewer = beijing_reviewer()
    late = with_deadline(
        submit(name="超期未审公司", domains=["e-late.cn"]), MONDAY.date() - dt.timedelta(days=1)
    )
    on_time = with_deadline(submit(domains=["e-today.cn"]), MONDAY.date())
    shanghai_late = with_deadline(
        submit(name="上海超期公司", domains=["e-sh.cn"], province="31"),
        MONDAY.date() - dt.timedelta(days=10),
    )

    assert escalate_overdue() == 2

    assert set(Escalation.objects.values_list("filing_id", flat=True)) == {
        late.pk,
        shanghai_late.pk,
    }
    for minister in ministers:
        (mail,) = emails_to(minister.email)
        assert "超期未审公司" in mail.body
        assert "上海超期公司" in mail.body
    assert emails_to(reviewer.email) == []
    assert on_time.pk not in Escalation.objects.values_list("filing_id", flat=True)

    # Run again the same day, or the next: nothing is escalated or emailed twice.
    assert escalate_overdue() == 0
    frozen.move_to(MONDAY + dt.timedelta(days=1), tick=False)
    escalate_overdue()
    assert Escalation.objects.filter(filing=late).count() == 1
    # The next day the item due yesterday is new: only it is reported.
    latest = emails_to(ministers[0].email)[-1]
    assert len(emails_to(ministers[0].email)) == 2
    assert str(on_time.pk) in latest.body
    assert "超期未审公司" not in latest.body


def test_a_resubmitted_item_that_misses_its_new_deadline_is_escalated_again(frozen):
    MinistryFactory()
    filing = with_deadline(submit(domains=["e-again.cn"]), MONDAY.date() - dt.timedelta(days=1))
    escalate_overdue()
    # Submitted again: a new deadline, which passes too.
    with_deadline(filing, MONDAY.date() + dt.timedelta(days=28))
    frozen.move_to(MONDAY + dt.timedelta(days=30), tick=False)

    escalate_overdue()

    assert Escalation.objects.filter(filing=filing).count() == 2


def test_decided_items_are_never_escalated(frozen):
    from review.services import filing_approve

    MinistryFactory()
    filing = with_deadline(submit(domains=["e-done.cn"]), MONDAY.date() - dt.timedelta(days=5))
    filing_approve(filing=filing, by=beijing_reviewer())
    assert escalate_overdue() == 0


def test_escalations_show_in_the_console(frozen, otp_client):
    from django.urls import reverse

    filing = with_deadline(submit(domains=["e-seen.cn"]), MONDAY.date() - dt.timedelta(days=1))
    escalate_overdue()

    bureau = otp_client(beijing_reviewer()).get(reverse("review:deadlines"))
    ministry = otp_client(MinistryFactory()).get(reverse("review:deadlines"))
    shanghai = otp_client(shanghai_reviewer()).get(reverse("review:deadlines"))

    assert [r.filing.pk for r in bureau.context["overdue"]] == [filing.pk]
    assert bureau.context["overdue"][0].filing.escalated
    assert [e.filing_id for e in ministry.context["escalations"]] == [filing.pk]
    assert shanghai.context["escalations"] == []


def test_both_tasks_are_on_the_beat_schedule():
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"review.deadlines.digest", "review.deadlines.escalate"} <= tasks
    assert "review.deadlines.digest" in app.tasks
    assert "review.deadlines.escalate" in app.tasks
