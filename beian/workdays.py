"""The working-day calendar (SPEC §4): China's statutory holidays and adjusted working days.

Review deadlines are counted in working days. The exceptions to the Monday-to-Friday rule live
in ``CalendarDay``; each process keeps them in memory and reloads them only when the shared
version stamp changes, so computing a deadline or the days left on a queue page never costs a
query per day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache

from .models import CALENDAR_VERSION_KEY, CalendarDay

_loaded: WorkingCalendar | None = None
_loaded_version: str | None = None


@dataclass(frozen=True)
class WorkingCalendar:
    """Pure working-day arithmetic over a fixed set of exceptions."""

    exceptions: dict[dt.date, bool]

    def is_workday(self, day: dt.date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after ``start`` (``start`` itself never counts)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        day = start
        remaining = n
        while remaining:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                remaining -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in the half-open interval (start, end]; negative when end < start.

        ``working_days_between(today, deadline)`` is the number of working days left.
        """
        if end < start:
            return -self.working_days_between(end, start)
        total = _weekdays_after(start, end)
        for day, is_workday in self.exceptions.items():
            if start < day <= end and is_workday != (day.weekday() < 5):
                total += 1 if is_workday else -1
        return total


def _weekdays_after(start: dt.date, end: dt.date) -> int:
    """Monday-to-Friday days in (start, end], by arithmetic rather than iteration."""
    days = (end - start).days
    full_weeks, rest = divmod(days, 7)
    count = full_weeks * 5
    weekday = start.weekday()
    for offset in range(1, rest + 1):
        if (weekday + offset) % 7 < 5:
            count += 1
    return count


def working_calendar() -> WorkingCalendar:
    """The current calendar, loaded from the database at most once per change."""
    global _loaded, _loaded_version
    version = cache.get(CALENDAR_VERSION_KEY)
    if version is None:
        version = "initial"
        cache.add(CALENDAR_VERSION_KEY, version, timeout=None)
    if _loaded is None or version != _loaded_version:
        rows = CalendarDay.objects.values_list("date", "is_workday")
        _loaded = WorkingCalendar(exceptions=dict(rows))
        _loaded_version = version
    return _loaded


def add_working_days(start: dt.date, n: int) -> dt.date:
    return working_calendar().add_working_days(start, n)


def working_days_between(start: dt.date, end: dt.date) -> int:
    return working_calendar().working_days_between(start, end)


HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def package_exceptions() -> list[tuple[dt.date, bool, str]]:
    """Holidays and adjusted working days known to the ``chinesecalendar`` package."""
    from chinese_calendar.constants import holidays, workdays

    rows = [
        (day, False, HOLIDAY_NAMES.get(name, name))
        for day, name in holidays.items()
        if day.weekday() < 5
    ]
    rows += [(day, True, HOLIDAY_NAMES.get(name, name)) for day, name in workdays.items()]
    return sorted(rows)


def sync_from_package(model=CalendarDay) -> int:
    """Store what the package knows; days the ministry entered by hand are left alone.

    Returns the number of days written. ``model`` lets data migrations pass their historical
    model.
    """
    manual = set(
        model.objects.filter(source=CalendarDay.Source.MANUAL).values_list("date", flat=True)
    )
    known = dict(model.objects.values_list("date", "is_workday"))
    new = [
        model(date=day, is_workday=is_workday, name=name, source=CalendarDay.Source.PACKAGE)
        for day, is_workday, name in package_exceptions()
        if day not in manual and known.get(day) != is_workday
    ]
    if new:
        model.objects.filter(date__in=[row.date for row in new]).delete()
        model.objects.bulk_create(new)
        if model is CalendarDay:
            from .models import bump_calendar_version

            bump_calendar_version()
    return len(new)
