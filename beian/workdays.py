"""The working-day calendar (SPEC §4): China's statutory holidays and adjusted working days.

Review deadlines are counted in working days. The exceptions to the Monday-to-Friday rule live
in ``CalendarDay``; each process keeps them in memory and reloads them only when the shared
version stamp changes, so computing a deadline or the days left on a queue page never costs a
query per day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from chinese_calendar.constants import holidays, workdays
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from .audit import audit
from .models import CALENDAR_VERSION_KEY, CalendarDay, bump_calendar_version

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
            bump_calendar_version()
    return len(new)


# The ministry's year list --------------------------------------------------------------------

HOLIDAY_WORDS = {"休", "假", "放假", "off", "holiday"}
WORKDAY_WORDS = {"班", "上班", "补班", "work", "workday"}


@dataclass(frozen=True)
class PastedDay:
    """One day of a pasted year list: ``is_workday`` False for a holiday, True for an
    adjusted working day (调休上班)."""

    date: dt.date
    is_workday: bool
    name: str


@dataclass
class YearPlan:
    """What saving a pasted year list would do: the days to store, the stored days of the
    year it replaces, the lines that need no row (a holiday on a weekend) and the problems,
    each with its line number."""

    year: int
    days: list[PastedDay]
    removed: list[CalendarDay]
    skipped: list[tuple[int, str]]
    problems: list[tuple[int, str]]

    def status_of(self, day: PastedDay, stored: dict[dt.date, CalendarDay]) -> str:
        old = stored.get(day.date)
        if old is None:
            return "new"
        return (
            "unchanged" if (old.is_workday, old.name) == (day.is_workday, day.name) else "changed"
        )


def _parse_date(text: str) -> dt.date:
    text = text.strip().replace("/", "-").replace(".", "-")
    return dt.date.fromisoformat("-".join(part.zfill(2) for part in text.split("-")))


def plan_calendar_year(*, year: int, text: str) -> YearPlan:
    """Read a year's holidays and adjusted working days, one line each:
    ``YYYY-MM-DD[~YYYY-MM-DD] 休|班 [name]`` (``off``/``work`` in English; a range is a run of
    holidays). Every problem is listed with its line; nothing is stored.

    A holiday on a Saturday or Sunday needs no row (weekends are days off already) and an
    adjusted working day must fall on one, as ``CalendarDay`` stores only the days that break
    the Monday-to-Friday rule.
    """
    days: dict[dt.date, tuple[int, PastedDay]] = {}
    skipped: list[tuple[int, str]] = []
    problems: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.replace(",", " ").replace("，", " ").replace("\t", " ").split()
        if len(parts) < 2:
            problems.append((number, _("Give a date and 休 (holiday) or 班 (working day).")))
            continue
        span, kind, name = parts[0], parts[1].lower(), " ".join(parts[2:])[:64]
        if kind not in HOLIDAY_WORDS | WORKDAY_WORDS:
            problems.append((number, _("“%(kind)s” is neither 休 nor 班.") % {"kind": parts[1]}))
            continue
        is_workday = kind in WORKDAY_WORDS
        try:
            first, _sep, last = span.replace("～", "~").partition("~")
            start = _parse_date(first)
            end = _parse_date(last) if last else start
        except ValueError:
            problems.append(
                (number, _("“%(date)s” is not a date such as 2027-02-10.") % {"date": span})
            )
            continue
        if end < start or (end - start).days > 31:
            problems.append((number, _("A range runs forwards and spans at most a month.")))
            continue
        if start.year != year or end.year != year:
            problems.append((number, _("The date is not in %(year)s.") % {"year": year}))
            continue
        if is_workday and end != start:
            problems.append((number, _("Give adjusted working days one line each.")))
            continue
        day = start
        while day <= end:
            weekend = day.weekday() >= 5
            if is_workday and not weekend:
                problems.append(
                    (
                        number,
                        _("%(date)s is a weekday: it is a working day anyway.") % {"date": day},
                    )
                )
            elif not is_workday and weekend:
                skipped.append((number, day.isoformat()))
            elif day in days and days[day][1].is_workday != is_workday:
                problems.append(
                    (
                        number,
                        _("%(date)s is given twice, once as a holiday and once as a working day.")
                        % {"date": day},
                    )
                )
            else:
                days[day] = (number, PastedDay(day, is_workday, name))
            day += dt.timedelta(days=1)
    chosen = sorted((entry for _n, entry in days.values()), key=lambda d: d.date)
    removed = list(
        CalendarDay.objects.filter(date__year=year)
        .exclude(date__in=[d.date for d in chosen])
        .order_by("date")
    )
    return YearPlan(year=year, days=chosen, removed=removed, skipped=skipped, problems=problems)


@transaction.atomic
def calendar_year_replace(*, plan: YearPlan, by) -> int:
    """Store a checked year list as the ministry's (source ``manual``): the year's stored days
    become exactly ``plan.days``. Returns the days stored; raises ``ValueError`` for a plan
    with problems. Audited; every process reloads the calendar."""
    if plan.problems:
        raise ValueError("the plan has problems")
    before = list(
        CalendarDay.objects.filter(date__year=plan.year).values_list("date", "is_workday")
    )
    CalendarDay.objects.filter(date__year=plan.year).delete()
    CalendarDay.objects.bulk_create(
        [
            CalendarDay(
                date=d.date,
                is_workday=d.is_workday,
                name=d.name,
                source=CalendarDay.Source.MANUAL,
            )
            for d in plan.days
        ]
    )
    audit(
        actor=by,
        action="calendar.year_replace",
        # The year is the target, named by its first day.
        target=CalendarDay(date=dt.date(plan.year, 1, 1)),
        before={"year": plan.year, "days": len(before)},
        after={
            "year": plan.year,
            "days": len(plan.days),
            "holidays": sum(1 for d in plan.days if not d.is_workday),
            "working_days": sum(1 for d in plan.days if d.is_workday),
        },
    )
    transaction.on_commit(bump_calendar_version)
    return len(plan.days)
