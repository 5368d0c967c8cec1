"""The working-day calendar (SPEC §4): deadlines are the 20th working day after submission."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from beian.models import CalendarDay
from beian.workdays import (
    WorkingCalendar,
    add_working_days,
    working_calendar,
    working_days_between,
)

pytestmark = pytest.mark.django_db

D = dt.date


def test_the_seeded_calendar_knows_2026_national_day_and_its_adjusted_saturday():
    cal = working_calendar()
    assert not cal.is_workday(D(2026, 10, 1))
    assert not cal.is_workday(D(2026, 10, 7))  # a Wednesday inside the holiday
    assert cal.is_workday(D(2026, 10, 10))  # Saturday worked in exchange (调休)
    assert cal.is_workday(D(2026, 9, 20))  # Sunday worked in exchange


def test_deadline_across_2026_national_day():
    # Submitted Monday 28 September 2026: 29, 30 Sep; 8, 9, 10 (Sat) Oct; then 15 weekdays.
    assert add_working_days(D(2026, 9, 28), 20) == D(2026, 10, 30)


def test_submission_on_a_friday_starts_counting_on_monday():
    # Friday 6 November 2026, no holidays follow: the 20th working day is Friday 4 December.
    assert add_working_days(D(2026, 11, 6), 20) == D(2026, 12, 4)
    assert add_working_days(D(2026, 11, 6), 1) == D(2026, 11, 9)


def test_submission_on_a_holiday_counts_from_the_first_working_day_after_it():
    assert add_working_days(D(2026, 10, 3), 1) == D(2026, 10, 8)
    assert add_working_days(D(2026, 10, 3), 3) == D(2026, 10, 10)


def test_deadline_across_2026_spring_festival_with_its_adjusted_saturdays():
    # 14 Feb 2026 (Sat) is worked; 15–23 Feb are holidays; 28 Feb (Sat) is worked.
    assert add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)
    assert add_working_days(D(2026, 2, 13), 5) == D(2026, 2, 27)
    assert add_working_days(D(2026, 2, 13), 6) == D(2026, 2, 28)


def test_2025_national_day_and_spring_festival():
    # National Day 2025: 1–8 October off, 28 Sep (Sun) and 11 Oct (Sat) worked.
    assert add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert add_working_days(D(2025, 10, 10), 1) == D(2025, 10, 11)
    # Spring Festival 2025: 28 Jan – 4 Feb off, 26 Jan (Sun) and 8 Feb (Sat) worked.
    assert add_working_days(D(2025, 1, 25), 1) == D(2025, 1, 26)
    assert add_working_days(D(2025, 1, 27), 1) == D(2025, 2, 5)
    assert add_working_days(D(2025, 2, 7), 1) == D(2025, 2, 8)


def test_a_year_the_package_does_not_know_counts_weekends_only():
    assert not CalendarDay.objects.filter(date__year=2027).exists()
    # 1 January 2027 is a Friday: unknown to the calendar, it counts as a working day.
    assert add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 1)
    assert add_working_days(D(2027, 1, 1), 1) == D(2027, 1, 4)


def test_the_ministry_can_enter_holidays_for_an_unknown_year():
    assert add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 1)
    CalendarDay.objects.create(date=D(2027, 1, 1), is_workday=False, name="元旦")
    assert add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 4)
    CalendarDay.objects.filter(date=D(2027, 1, 1)).delete()  # queryset delete: no bump
    CalendarDay(date=D(2027, 1, 2), is_workday=True, name="元旦").save()
    assert working_calendar().is_workday(D(2027, 1, 2))


def test_working_days_between_counts_days_left_and_overdue():
    assert working_days_between(D(2026, 9, 30), D(2026, 10, 12)) == 4  # 8, 9, 10, 12 Oct
    assert working_days_between(D(2026, 10, 12), D(2026, 9, 30)) == -4
    assert working_days_between(D(2026, 11, 6), D(2026, 11, 6)) == 0


def test_between_and_add_agree_over_many_starts():
    cal = working_calendar()
    start = D(2025, 1, 1)
    for offset in range(0, 700, 3):
        day = start + dt.timedelta(days=offset)
        deadline = cal.add_working_days(day, 20)
        assert cal.working_days_between(day, deadline) == 20


def test_no_query_per_day_once_loaded():
    working_calendar()
    with CaptureQueriesContext(connection) as ctx:
        for offset in range(200):
            add_working_days(D(2026, 1, 1) + dt.timedelta(days=offset), 20)
    assert len(ctx.captured_queries) == 0


def test_pure_calendar_rejects_a_non_positive_count():
    with pytest.raises(ValueError):
        WorkingCalendar(exceptions={}).add_working_days(D(2026, 1, 1), 0)
