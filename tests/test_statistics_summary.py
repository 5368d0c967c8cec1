"""The statistics tally (PostgreSQL): the triggers on filings keep the counts by province,
status and overdue deadline exact through every service, compaction and rebuild keep them, and
the statistics page shows the same figures as counting the filings directly."""

import datetime as dt
import random
from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone

from beian.celery import app
from beian.workdays import WorkingCalendar, working_calendar
from filings.models import Filing
from review import selectors, tally
from review.models import FilingTally
from review.services import filing_approve, filing_reject, filing_revoke
from review.tasks import compact_filing_tally
from tests.factories import FilingFactory, MinistryFactory
from tests.review_support import approved, beijing_reviewer, overdue, submit

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("fast_password_hashing"),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the tally is kept by PostgreSQL triggers"
    ),
]


def tally_counts() -> dict[tuple[str | None, str], int]:
    rows = FilingTally.objects.values_list("province_id", "status").annotate(n=Sum("delta"))
    return {(p, s): n for p, s, n in rows.order_by() if n}


def direct_counts() -> dict[tuple[str | None, str], int]:
    rows = (
        Filing.objects.exclude(status=Filing.Status.DRAFT)
        .values_list("province_id", "status")
        .annotate(n=Count("id"))
    )
    return {(p, s): n for p, s, n in rows.order_by()}


def tally_overdue(on) -> int:
    rows = FilingTally.objects.filter(status__in=Filing.OPEN_STATUSES, review_deadline__lt=on)
    return rows.aggregate(n=Sum("delta"))["n"] or 0


def statistics_counted_directly(user, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(tally, "enabled", lambda: False)
        return selectors.review_statistics(user)


def test_a_draft_is_not_counted_until_it_is_submitted():
    FilingFactory(status=Filing.Status.DRAFT, province_id="11")
    assert tally_counts() == {}

    filing = submit(domains=["tally-draft.cn"])

    assert tally_counts() == {("11", "pending_review"): 1}
    assert filing.status == Filing.Status.PENDING_REVIEW


def test_the_tally_follows_approval_rejection_and_revocation():
    ministry = MinistryFactory()
    kept = submit(domains=["tally-kept.cn"])
    refused = submit(domains=["tally-refused.cn"])
    revoked = approved(domains=["tally-revoked.cn"], by=ministry)

    filing_approve(filing=kept, by=ministry)
    filing_reject(filing=refused, by=ministry, reason="材料不全")
    filing_revoke(filing=revoked, by=ministry, reason="抢注")

    assert tally_counts() == {("11", "approved"): 1, ("11", "rejected"): 1, ("11", "revoked"): 1}
    assert tally_counts() == direct_counts()


def test_a_resubmission_in_another_province_moves_the_count():
    filing = submit(domains=["tally-move.cn"])
    filing_reject(filing=filing, by=MinistryFactory(), reason="住所填写错误")

    submit(filing.owner, domains=["tally-move.cn"], province="31")

    filing.refresh_from_db()
    assert filing.province_id == "31"
    assert tally_counts() == {("31", "pending_review"): 1}
    assert tally_counts() == direct_counts()


def test_a_deleted_filing_leaves_the_count():
    gone = FilingFactory(status=Filing.Status.APPROVED, province_id="44")
    FilingFactory(status=Filing.Status.APPROVED, province_id="44")

    Filing.objects.filter(pk=gone.pk).delete()

    assert tally_counts() == {("44", "approved"): 1}


def test_an_item_counts_as_overdue_while_open_past_its_deadline():
    today = timezone.localdate()
    late = overdue(submit(domains=["tally-late.cn"]), days=10)
    submit(domains=["tally-on-time.cn"])
    assert tally_overdue(today) == 1

    filing_approve(filing=late, by=MinistryFactory())

    assert tally_overdue(today) == 0
    assert tally_counts() == direct_counts()


def test_a_change_to_other_fields_writes_no_tally_row():
    filing = submit(domains=["tally-quiet.cn"])
    rows = FilingTally.objects.count()

    Filing.objects.filter(pk=filing.pk).update(sponsor_name="改名公司", has_open_conflicts=True)
    filing.refresh_from_db()
    filing.save()

    assert FilingTally.objects.count() == rows


def test_compaction_leaves_one_row_per_key_with_the_same_totals():
    ministry = MinistryFactory()
    for n in range(3):
        approved(domains=[f"tally-compact-{n}.cn"], by=ministry)
    refused = submit(domains=["tally-compact-refused.cn"])
    filing_reject(filing=refused, by=ministry, reason="材料不全")
    before = tally_counts()

    compact_filing_tally()

    assert tally_counts() == before == direct_counts()
    keys = Counter(FilingTally.objects.values_list("province_id", "status", "review_deadline"))
    assert set(keys.values()) == {1}
    # The pending_review rows cancelled out: no row is left for that key.
    assert not FilingTally.objects.filter(status=Filing.Status.PENDING_REVIEW).exists()


def test_compacting_twice_changes_nothing():
    approved(domains=["tally-twice.cn"])
    tally.compact()
    rows = sorted(FilingTally.objects.values_list("province_id", "status", "delta"))

    assert tally.compact() == 0
    assert sorted(FilingTally.objects.values_list("province_id", "status", "delta")) == rows


def test_the_rebuild_repairs_a_damaged_tally():
    approved(domains=["tally-rebuild-a.cn"])
    submit(domains=["tally-rebuild-b.cn"], province="31")
    FilingTally.objects.filter(status=Filing.Status.APPROVED).delete()
    FilingTally.objects.create(province_id="44", status="approved", delta=7)
    assert tally_counts() != direct_counts()

    out = StringIO()
    call_command("rebuild_filing_tally", stdout=out)

    assert out.getvalue() == "2 tally rows written\n"
    assert tally_counts() == direct_counts() == {("11", "approved"): 1, ("31", "pending_review"): 1}


def test_the_rebuild_command_refuses_a_database_without_the_triggers(monkeypatch):
    monkeypatch.setattr(tally, "enabled", lambda: False)

    with pytest.raises(CommandError, match="PostgreSQL only"):
        call_command("rebuild_filing_tally")


def test_compaction_runs_from_beat_every_few_minutes():
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}

    assert schedule["review.tally.compact"] <= 600
    assert "review.tally.compact" in app.tasks


def test_a_decision_shows_on_the_statistics_page_at_once(otp_client):
    filing = submit(domains=["tally-at-once.cn"])
    client = otp_client(MinistryFactory())
    page = client.get(reverse("review:statistics")).context["stats"]
    assert page.national.by_status == {"pending_review": 1}

    filing_approve(filing=filing, by=MinistryFactory())

    page = client.get(reverse("review:statistics")).context["stats"]
    assert page.national.by_status == {"approved": 1}
    assert sum(week["approved"] for week in page.weeks) == 1


def test_the_page_equals_counting_the_filings_after_a_mix_of_actions(otp_client, monkeypatch):
    ministry = MinistryFactory()
    beijing = beijing_reviewer()
    approved(domains=["tally-mix-a.cn"], by=ministry)
    approved(domains=["tally-mix-b.cn"], by=ministry, province="31")
    overdue(submit(domains=["tally-mix-c.cn"]), days=20)
    overdue(submit(domains=["tally-mix-d.cn"], province="44"), days=3)
    refused = submit(domains=["tally-mix-e.cn"])
    filing_reject(filing=refused, by=beijing, reason="材料不全")
    revoked = approved(domains=["tally-mix-f.cn"], by=ministry, province="44")
    filing_revoke(filing=revoked, by=ministry, reason="抢注")
    tally.compact()
    moved = submit(domains=["tally-mix-g.cn"])
    filing_reject(filing=moved, by=beijing, reason="住所填写错误")
    submit(moved.owner, domains=["tally-mix-g.cn"], province="44")
    FilingFactory(status=Filing.Status.DRAFT, province_id="11")

    for user in (ministry, beijing):
        shown = otp_client(user).get(reverse("review:statistics")).context["stats"]
        assert shown == statistics_counted_directly(user, monkeypatch)

    national = otp_client(ministry).get(reverse("review:statistics")).context["stats"].national
    assert national.by_status == {
        "approved": 2,
        "pending_review": 3,
        "rejected": 1,
        "revoked": 1,
    }
    assert national.overdue == 2


def test_the_median_counts_working_days_across_holidays_and_working_weekends():
    calendar = WorkingCalendar(
        exceptions={
            dt.date(2026, 10, 1): False,
            dt.date(2026, 10, 2): False,
            dt.date(2026, 10, 5): False,
            dt.date(2026, 10, 10): True,
            dt.date(2026, 9, 28): True,
        }
    )
    rng = random.Random(7)
    days = {dt.date(2026, 9, 1) + dt.timedelta(days=rng.randrange(90)) for _ in range(40)}

    numbers = selectors._working_day_numbers(calendar, days)

    for start in days:
        for end in days:
            assert numbers[end] - numbers[start] == calendar.working_days_between(start, end)


def test_the_median_is_the_working_days_from_submission_to_decision(otp_client):
    decided = approved(domains=["tally-median.cn"])
    submitted_at = decided.decided_at - timezone.timedelta(days=12)
    Filing.objects.filter(pk=decided.pk).update(submitted_at=submitted_at)
    expected = working_calendar().working_days_between(
        timezone.localtime(submitted_at).date(), timezone.localtime(decided.decided_at).date()
    )

    page = otp_client(beijing_reviewer()).get(reverse("review:statistics")).context["stats"]

    assert expected >= 7
    assert page.national.median_days == expected
