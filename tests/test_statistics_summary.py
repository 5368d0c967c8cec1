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


def test_shells_and_decision_days_are_kept_a_few_minutes_and_the_counts_stay_exact(otp_client):
    from django.core.cache import cache

    from filings.models import Website

    decided = approved(domains=["kept-figures.cn"])
    client = otp_client(MinistryFactory())
    first = client.get(reverse("review:statistics")).context["stats"]
    assert first.national.empty_shells == 0
    Website.objects.filter(filing=decided).update(shell_since=timezone.now())
    submit(domains=["kept-figures-open.cn"])
    again = client.get(reverse("review:statistics")).context["stats"]
    # Counted anew: the new submission. Kept: the shells, read again after their period.
    assert again.national.by_status == {"approved": 1, "pending_review": 1}
    assert again.national.empty_shells == 0
    cache.clear()  # as when the kept figures' period (STAGE_FIGURES_SECONDS) ends
    later = client.get(reverse("review:statistics")).context["stats"]
    assert later.national.empty_shells == 1


# The stages before the bureau (SPEC §12) ----------------------------------------------------


def at_stage(status: str, *, province: str = "11", **application_fields) -> Filing:
    """A submitted filing moved to ``status`` with its open application, as the stages do."""
    from filings.models import Application

    filing = submit(domains=[f"stage-{FilingFactory._meta.model.objects.count()}.cn"])
    Filing.objects.filter(pk=filing.pk).update(
        status=status, province_id=province, review_deadline=None
    )
    Application.objects.filter(filing=filing, closed_at__isnull=True).update(
        status=status, **application_fields
    )
    filing.refresh_from_db()
    return filing


def passed(hours: float, *, province: str = "11", verified_after: float | None = None) -> None:
    """A filing at the bureau whose application spent ``hours`` in the first review (passed
    yesterday) and, when given, ``verified_after`` hours in the SMS verification."""
    now = timezone.now() - dt.timedelta(days=1)
    fields = {
        "submitted_at": now - dt.timedelta(hours=hours),
        "provider_passed_at": now,
    }
    if verified_after is not None:
        fields["verification_sent_at"] = now
        fields["verified_at"] = now + dt.timedelta(hours=verified_after)
    at_stage(Filing.Status.PENDING_REVIEW, province=province, **fields)


@pytest.mark.stages
def test_the_page_counts_each_stage_and_the_first_reviews_past_their_deadline(otp_client):
    today = timezone.localdate()
    at_stage(Filing.Status.PROVIDER_REVIEW, provider_deadline=today - dt.timedelta(days=1))
    at_stage(Filing.Status.PROVIDER_REVIEW, provider_deadline=today)
    at_stage(
        Filing.Status.PROVIDER_REVIEW,
        province="31",
        provider_deadline=today - dt.timedelta(days=3),
    )
    at_stage(Filing.Status.VERIFICATION)
    at_stage(Filing.Status.RETURNED, province="44")
    at_stage(Filing.Status.RETURNED, province="44")

    stats = otp_client(MinistryFactory()).get(reverse("review:statistics")).context["stats"]
    assert {s.status: s.count for s in stats.stages} == {
        "provider_review": 3,
        "verification": 1,
        "returned": 2,
    }
    assert stats.national.first_reviews_overdue == 2
    by_code = {row.province.code: row.first_reviews_overdue for row in stats.provinces}
    assert (by_code["11"], by_code["31"], by_code["44"]) == (1, 1, 0)
    # A stage is no decision waiting for the bureau, and no bureau deadline is overdue.
    assert stats.national.open == 0
    assert stats.national.overdue == 0

    beijing = otp_client(beijing_reviewer()).get(reverse("review:statistics")).context["stats"]
    assert {s.status: s.count for s in beijing.stages} == {
        "provider_review": 2,
        "verification": 1,
        "returned": 0,
    }
    assert beijing.national.first_reviews_overdue == 1


@pytest.mark.stages
def test_the_median_hours_in_each_stage_count_the_last_90_days_of_the_callers_scope(
    otp_client,
):
    passed(2, verified_after=1)
    passed(4, verified_after=3)
    passed(30, verified_after=5)
    passed(100, province="31")
    old = timezone.now() - dt.timedelta(days=120)
    at_stage(
        Filing.Status.PENDING_REVIEW,
        submitted_at=old - dt.timedelta(hours=500),
        provider_passed_at=old,
    )

    national = otp_client(MinistryFactory()).get(reverse("review:statistics"))
    medians = {s.status: s.median_hours for s in national.context["stats"].stages}
    assert medians == {"provider_review": 17.0, "verification": 3.0, "returned": None}

    beijing = otp_client(beijing_reviewer()).get(reverse("review:statistics"))
    medians = {s.status: s.median_hours for s in beijing.context["stats"].stages}
    assert medians == {"provider_review": 4.0, "verification": 3.0, "returned": None}


@pytest.mark.stages
def test_with_nothing_passed_the_medians_show_a_dash_in_both_languages(otp_client):
    client = otp_client(MinistryFactory())
    html = client.get(reverse("review:statistics")).content.decode()
    assert "报送管局前" in html and "待接入服务提供商初审" in html
    row = html[html.index('data-stage="provider_review"') :]
    assert "—" in row[: row.index("</tr>")]

    client.cookies["django_language"] = "en"
    english = client.get(reverse("review:statistics"), HTTP_ACCEPT_LANGUAGE="en").content
    assert b"Before the bureau" in english
    assert b"waiting for the access provider" in english
