"""Reads of the review console: the queue, a filing's review page, deadlines and statistics.

Every read starts from ``filings_in_scope`` (a bureau sees its own province only). Lists are
built for hundreds of thousands of rows: the queue walks the partial index
``filing_queue_idx`` (open items by province and deadline), related rows come in one query per
page, and working days are computed in Python from one calendar per request.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Lower, TruncDate, TruncWeek
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import AccessProvider, User
from beian import rawsql
from beian.models import AuditLog, Province
from beian.normalforms import certificates
from beian.normalforms.apps import identifier_for_lookup
from beian.normalforms.domains import domain_for_lookup
from beian.normalforms.filing_numbers import parse_filing_number
from beian.normalforms.names import name_key, written_in_other_script
from beian.normalforms.text import folded, unreadable_text_code
from beian.workdays import WorkingCalendar, working_calendar
from filings import selectors as filing_selectors
from filings.models import (
    Application,
    Conflict,
    Domain,
    Filing,
    FilingVersion,
    Identifier,
    Website,
)
from filings.stages import CHECKLIST, VERIFIED_KINDS

from . import tally
from .models import Escalation, FilingTally
from .scope import can_act_on, filings_in_scope, is_ministry, is_reviewer
from .services import other_party_contacts

Status = Filing.Status

# The kinds of application that change one part of the record (SPEC §12), filtered apart.
CHANGE_KINDS = ("new_access", "cancel_access", "cancel_website")
KIND_STATUSES = {
    "new": Status.PENDING_REVIEW,
    "amendment": Status.AMENDMENT_PENDING,
    "revocation": Status.REVOCATION_PENDING,
}
KIND_LABELS = {
    "new": gettext_lazy("new filing"),
    "amendment": gettext_lazy("amendment"),
    "revocation": gettext_lazy("revocation"),
}
DUE_SOON_WORKING_DAYS = 5
DECISION_ACTIONS = {
    "filing.approve": "approved",
    "filing.approve_amendment": "approved",
    "filing.reject": "rejected",
    "filing.reject_amendment": "rejected",
    "revocation.approve": "revoked",
    "revocation.refuse": "rejected",
    "filing.revoke": "revoked",
}


def today() -> dt.date:
    """Today in Asia/Shanghai, the day deadlines are counted from."""
    return timezone.localdate()


# The queue --------------------------------------------------------------------------------------


@dataclass
class QueueFilters:
    kind: str = ""
    conflicts: bool = False
    preapproval: bool = False
    overdue: bool = False
    due_soon: bool = False
    province: str = ""
    q: str = ""
    # "open" (the queue) or a status, or "all": searching beyond the queue.
    status: str = "open"


def _search(qs: QuerySet[Filing], text: str) -> QuerySet[Filing]:
    """Exact, indexed matches only: filing or service number, domain, app identifier or
    mini-program id (SPEC §13, ``Identifier.key``: an iOS bundle ID in any case), username (in
    its normal form, any case), the sponsor's certificate number (compact, capitals) or name.

    Text no record can hold (a control character, a lone surrogate) finds nothing."""
    text = text.strip()
    if not text:
        return qs
    if unreadable_text_code(text):
        return qs.none()
    parsed = parse_filing_number(text)
    number = parsed.text if parsed else text
    username = folded(text).lower()
    match = (
        Q(number=number)
        | Q(id__in=Website.every_kind.filter(number=number).values("filing_id"))
        | Q(
            owner_id__in=User.objects.annotate(username_lower=Lower("username"))
            .filter(username_lower=username)
            .values("pk")
        )
        | Q(sponsor_name_key=name_key(text))
    )
    certificate = certificates.compact(text)
    if certificate:
        match |= Q(sponsor_id_number=certificate)
    domain = domain_for_lookup(text)
    if domain:
        match |= Q(id__in=Domain.objects.filter(name=domain).values("filing_id"))
    identifier = identifier_for_lookup(text)
    if identifier:
        keys = {identifier, identifier.lower()}
        match |= Q(id__in=Identifier.objects.filter(key__in=keys).values("filing_id"))
    if text.isdigit() and len(text) <= 12:
        match |= Q(pk=int(text))
    return qs.filter(match)


def queue_filings(user, filters: QueueFilters, *, on: dt.date | None = None) -> QuerySet[Filing]:
    """The caller's filings for the queue or the search, ordered by deadline (none last),
    with owner, province and domains; none for a caller who is not a reviewer. ``on`` is the
    day "overdue" and "due soon" (5 working days) are counted from, today by default."""
    on = on or today()
    qs = filings_in_scope(user)
    if filters.status == "open":
        qs = qs.filter(status__in=Filing.OPEN_STATUSES)
    elif filters.status != "all":
        qs = qs.filter(status=filters.status)
    if filters.province and is_ministry(user):
        qs = qs.filter(province_id=filters.province)
    if filters.kind in KIND_STATUSES:
        qs = qs.filter(status=KIND_STATUSES[filters.kind])
    elif filters.kind in CHANGE_KINDS:
        # An amendment of one part of the record: its open application says which.
        qs = qs.filter(
            Exists(
                Application.objects.filter(
                    filing_id=OuterRef("pk"), closed_at__isnull=True, kind=filters.kind
                )
            ),
            status=Status.AMENDMENT_PENDING,
        )
    if filters.conflicts:
        qs = qs.filter(has_open_conflicts=True)
    if filters.preapproval:
        qs = qs.filter(has_preapproval=True)
    if filters.overdue:
        qs = qs.filter(status__in=Filing.OPEN_STATUSES, review_deadline__lt=on)
    if filters.due_soon:
        limit = working_calendar().add_working_days(on, DUE_SOON_WORKING_DAYS)
        qs = qs.filter(
            status__in=Filing.OPEN_STATUSES, review_deadline__gte=on, review_deadline__lte=limit
        )
    qs = _search(qs, filters.q)
    # The kind of the open application (SPEC §12), read once per page row from the one open
    # application a filing may have (``application_one_open_per_filing``).
    open_kind = Application.objects.filter(filing_id=OuterRef("pk"), closed_at__isnull=True)
    return (
        qs.annotate(application_kind=Subquery(open_kind.values("kind")[:1]))
        .select_related("owner", "province")
        .prefetch_related(
            Prefetch(
                "domains",
                queryset=Domain.objects.only("id", "filing_id", "name").order_by("position", "id"),
            )
        )
        .order_by(F("review_deadline").asc(nulls_last=True), "id")
    )


@dataclass
class QueueRow:
    """A queue row. ``kind`` is the bureau's kind of decision (``new``, ``amendment``,
    ``revocation``: SPEC §10 [contract]); ``application_kind`` the open application's own
    kind (SPEC §12, ``Application.Kind``), which the console shows; both None unless the
    filing waits for the bureau."""

    filing: Filing
    kind: str | None
    days_left: int | None
    overdue: bool
    due_soon: bool
    domains: list[str] = field(default_factory=list)
    application_kind: str | None = None

    @property
    def days_overdue(self) -> int:
        return -self.days_left if self.overdue and self.days_left else 0


def queue_rows(
    filings: Iterable[Filing], *, on: dt.date | None = None, calendar: WorkingCalendar | None = None
) -> list[QueueRow]:
    """One ``QueueRow`` per filing, in order: working days left to the deadline (None when
    the filing is not open or has no deadline), the overdue and due-soon flags and the
    domains, without a query per row (``filings`` prefetched as ``queue_filings`` does)."""
    on = on or today()
    calendar = calendar or working_calendar()
    rows = []
    for filing in filings:
        deadline = filing.review_deadline
        is_open = filing.status in Filing.OPEN_STATUSES
        days_left = calendar.working_days_between(on, deadline) if deadline and is_open else None
        rows.append(
            QueueRow(
                filing=filing,
                kind=filing.review_kind,
                days_left=days_left,
                overdue=bool(is_open and deadline and deadline < on),
                due_soon=bool(
                    is_open
                    and deadline
                    and deadline >= on
                    and days_left is not None
                    and days_left <= DUE_SOON_WORKING_DAYS
                ),
                domains=[d.name for d in filing.domains.all()],
                application_kind=(
                    getattr(filing, "application_kind", None) or filing.review_kind
                    if is_open
                    else None
                ),
            )
        )
    return rows


# A filing's review page ------------------------------------------------------------------------


def filing_for_review(user, pk: int) -> Filing | None:
    """Filing ``pk`` with its owner, province, submitter and provider when it is in the
    caller's scope; None otherwise (the view answers 404, whether it exists or not)."""
    return (
        filings_in_scope(user)
        .select_related("owner", "province", "submitted_by", "filed_by_provider")
        .filter(pk=pk)
        .first()
    )


def review_application(filing: Filing) -> Application | None:
    """The filing's open application with its provider and who passed its first review, or
    None (one query)."""
    return (
        Application.objects.filter(filing_id=filing.pk, closed_at__isnull=True)
        .select_related("provider", "provider_passed_by", "submitted_by__provider")
        .first()
    )


def verification_record_path(application_id: int) -> str:
    """Where the verification record (核验单) of application ``application_id`` is downloaded
    (SPEC §12)."""
    return reverse("filings:verification-record", args=[application_id])


@dataclass(frozen=True)
class FirstReview:
    """The stages an application passed before the bureau (SPEC §12), as its review page
    shows them: the provider that first-reviews it (None: every access is elsewhere), who
    passed it and when, each ``stages.CHECKLIST`` check as ``(code, label, ticked)``, the
    verification record's path (None without one), and when the SMS verification was
    confirmed (None: not, or not asked)."""

    provider: AccessProvider | None
    passed_by: User | None
    passed_at: dt.datetime | None
    checks: list[tuple[str, str, bool]]
    record_path: str | None
    verified_at: dt.datetime | None
    # Whether the kind of application asks for the SMS verification (a cancellation does not).
    verification_asked: bool = True


def first_review(application: Application | None) -> FirstReview | None:
    """The ``FirstReview`` of ``application`` (read by ``review_application``); None without
    one. Reads nothing more from the database."""
    if application is None:
        return None
    ticked = set(application.provider_checklist or [])
    return FirstReview(
        provider=application.provider,
        passed_by=application.provider_passed_by,
        passed_at=application.provider_passed_at,
        checks=[(code, str(label), code in ticked) for code, label in CHECKLIST],
        record_path=(
            verification_record_path(application.pk) if application.provider_record else None
        ),
        verified_at=application.verified_at,
        verification_asked=application.kind in VERIFIED_KINDS,
    )


@dataclass
class ConflictView:
    conflict: Conflict
    other: Filing
    contacts: list[str]
    # The other filing is approved and the caller may revoke it (its province, or the ministry).
    can_revoke: bool
    can_open: bool
    # Why two writings matched when they differ, for the reviewer; empty when they are equal.
    reason: str = ""


def conflict_reason(filing: Filing, conflict: Conflict) -> str:
    """Why ``conflict``'s value matched ``filing`` although it is written differently: the
    names' normal form (``beian.normalforms.names``) sets aside spacing, width, middle dots
    and case, and reads Traditional characters as Simplified."""
    if conflict.field != Conflict.Field.SPONSOR_NAME or conflict.value == filing.sponsor_name:
        return ""
    values = {"this": filing.sponsor_name, "other": conflict.value}
    if written_in_other_script(filing.sponsor_name, conflict.value):
        return (
            _(
                "“%(this)s” and “%(other)s” are the same name in Traditional and Simplified "
                "characters."
            )
            % values
        )
    return (
        _(
            "“%(this)s” and “%(other)s” differ only in spacing, full-width or half-width "
            "characters, the middle dot or letter case, so they are the same name."
        )
        % values
    )


def _conflict_views(user, filing: Filing, conflicts: list[Conflict]) -> list[ConflictView]:
    views = []
    for conflict in conflicts:
        other = conflict.other_filing
        in_scope = can_act_on(user, other)
        views.append(
            ConflictView(
                conflict=conflict,
                other=other,
                contacts=other_party_contacts(conflict),
                can_revoke=in_scope and other.is_filed,
                can_open=in_scope,
                reason=conflict_reason(filing, conflict),
            )
        )
    return views


def filing_conflicts(user, filing: Filing) -> tuple[list[ConflictView], list[Conflict]]:
    """Open conflicts with the other party (account, sponsor, contact), and resolved ones.

    Only this filing's own conflicts (it is the later submission, Q17): the later claims of
    other accounts on its data are ``filing_later_claims``.
    """
    conflicts = list(
        Conflict.objects.filter(filing=filing, kind=Conflict.Kind.CONFLICT)
        .select_related("other_filing__province", "other_filing__owner", "other_account")
        .order_by("-resolved_at", "id")
    )
    open_conflicts = [c for c in conflicts if c.resolved_at is None]
    resolved = [c for c in conflicts if c.resolved_at is not None]
    return _conflict_views(user, filing, open_conflicts), resolved


def filing_later_claims(user, filing: Filing) -> list[ConflictView]:
    """Open notices that another account later submitted this filing's data (Q17): who, what
    and how to reach them. They never block a decision on this filing."""
    return _conflict_views(
        user,
        filing,
        list(
            Conflict.objects.filter(
                filing=filing, kind=Conflict.Kind.LATER_CLAIM, resolved_at__isnull=True
            )
            .select_related("other_filing__province", "other_filing__owner", "other_account")
            .order_by("id")
        ),
    )


def filing_versions(filing: Filing) -> list[FilingVersion]:
    """The filing's versions, newest first, with their author and without their data, each
    labelled by what became of it (``filings.selectors.versions``)."""
    return filing_selectors.versions(filing)


def filing_audit_trail(filing: Filing) -> list[AuditLog]:
    """The audit rows of the filing and of its owner account, newest first, at most 200."""
    return list(
        AuditLog.objects.filter(
            Q(target_type="filings.filing", target_id=str(filing.pk))
            | Q(target_type="accounts.user", target_id=str(filing.owner_id))
        )
        .select_related("actor")
        .order_by("-created_at", "-id")[:200]
    )


# Deadlines -------------------------------------------------------------------------------------


def deadline_filings(user, *, on: dt.date | None = None) -> tuple[list[QueueRow], list[QueueRow]]:
    """``(due, overdue)``: the caller's open items due within 5 working days of ``on``
    (today by default), and those past their deadline (annotated ``escalated``), each by
    deadline and at most 500."""
    on = on or today()
    calendar = working_calendar()
    limit = calendar.add_working_days(on, DUE_SOON_WORKING_DAYS)
    escalated = Escalation.objects.filter(
        filing_id=OuterRef("pk"), review_deadline=OuterRef("review_deadline")
    )
    base = (
        filings_in_scope(user)
        .filter(status__in=Filing.OPEN_STATUSES)
        .select_related("owner", "province")
        .prefetch_related(
            Prefetch("domains", queryset=Domain.objects.only("id", "filing_id", "name"))
        )
        .annotate(escalated=Exists(escalated))
        .order_by("review_deadline", "id")
    )
    due = base.filter(review_deadline__gte=on, review_deadline__lte=limit)[:500]
    overdue = base.filter(review_deadline__lt=on)[:500]
    return (
        queue_rows(due, on=on, calendar=calendar),
        queue_rows(overdue, on=on, calendar=calendar),
    )


# Statistics ------------------------------------------------------------------------------------


@dataclass
class ProvinceStats:
    province: Province | None
    by_status: dict[str, int]
    overdue: int
    median_days: float | None
    decisions: int
    # Applications at the provider's first review past ``provider_deadline`` (SPEC §12).
    first_reviews_overdue: int = 0
    # Approved websites left with no access (空壳网站, SPEC §12).
    empty_shells: int = 0

    @property
    def open(self) -> int:
        return sum(self.by_status.get(s, 0) for s in Filing.OPEN_STATUSES)


@dataclass(frozen=True)
class StageFigure:
    """One stage before the bureau (SPEC §12) on the statistics page: its status and label,
    how many filings are at it now, and the median hours spent in it by the applications that
    left it in the period (None: none did, or the stage is the owner's, ``returned``)."""

    status: str
    label: str
    count: int
    median_hours: float | None


@dataclass
class Statistics:
    national: ProvinceStats
    provinces: list[ProvinceStats]
    weeks: list[dict]
    statuses: list[tuple[str, str]]
    period_days: int
    stages: list[StageFigure] = field(default_factory=list)


def _weighted_median(counts: dict[int, int]) -> float | None:
    """The median of values given as {value: how many}, without expanding every row."""
    total = sum(counts.values())
    if not total:
        return None
    middle = [(total - 1) // 2, total // 2]
    found = []
    seen = 0
    for value, count in sorted(counts.items()):
        while middle and middle[0] < seen + count:
            found.append(value)
            middle.pop(0)
        seen += count
    return statistics.fmean(found)


def _working_day_numbers(calendar: WorkingCalendar, days: set[dt.date]) -> dict[dt.date, int]:
    """Each day's working days counted from the earliest: the difference of two numbers is
    ``working_days_between`` of the two days, with one calendar walk per distinct day instead
    of one per (submitted, decided) pair."""
    numbers: dict[dt.date, int] = {}
    previous = None
    total = 0
    for day in sorted(days):
        if previous is not None:
            total += calendar.working_days_between(previous, day)
        numbers[day] = total
        previous = day
    return numbers


def _tally_in_scope(user) -> QuerySet[FilingTally]:
    """The tally rows of the filings ``filings_in_scope`` gives the caller."""
    if not is_reviewer(user):
        return FilingTally.objects.none()
    if is_ministry(user):
        return FilingTally.objects.all()
    return FilingTally.objects.filter(province_id=user.province_id)


# The late first reviews and the stage medians are read once per scope in this many seconds
# (see docs/decisions.md); the counts at each stage are exact.
STAGE_FIGURES_SECONDS = 600

# Where each stage's time is read: (column that ends it, column that starts it, index).
_STAGE_TIMES = {
    Status.PROVIDER_REVIEW: ("provider_passed_at", "submitted_at"),
    Status.VERIFICATION: ("verified_at", "verification_sent_at"),
}


def stage_figures(
    user, *, on: dt.date, since: dt.datetime
) -> tuple[dict[str | None, int], dict[str, float | None]]:
    """``(first_reviews_overdue, stage_median_hours)`` of the caller's scope, kept
    ``STAGE_FIGURES_SECONDS`` per scope and day: each reads every late first review or every
    application that left a stage in 90 days, which a page view should not repeat."""
    province = None if is_ministry(user) else user.province_id
    key = f"review-stage-figures:{province or 'national'}:{on.isoformat()}:{since.date()}"
    found = cache.get(key)
    if found is None:
        found = (first_reviews_overdue(user, on=on), stage_median_hours(user, since=since))
        cache.set(key, found, STAGE_FIGURES_SECONDS)
    return found


def first_reviews_overdue(user, *, on: dt.date) -> dict[str | None, int]:
    """Applications waiting for the provider's first review past their ``provider_deadline``
    (before ``on``), per province code, in the caller's scope (SPEC §12). Reads the partial
    index ``application_provider_late_idx``, which holds only the applications at that stage,
    and the filing of each late one for its province."""
    if not is_reviewer(user):
        return {}
    late = Application.objects.filter(
        closed_at__isnull=True, status=Status.PROVIDER_REVIEW, provider_deadline__lt=on
    )
    if not is_ministry(user):
        late = late.filter(filing__province_id=user.province_id)
    return dict(late.values_list("filing__province_id").annotate(n=Count("*")).order_by())


def stage_median_hours(user, *, since: dt.datetime) -> dict[str, float | None]:
    """The median hours spent in the first review (arrival to pass, ``submitted_at`` to
    ``provider_passed_at``) and in the SMS verification (the last code sent to the
    confirmation, ``verification_sent_at`` to ``verified_at``) by the applications that left
    them since ``since``, in the caller's scope: ``{status: hours or None}``.

    Read from the partial covering indexes ``application_passed_idx`` and
    ``application_verified_idx`` (see docs/decisions.md)."""
    if not is_reviewer(user):
        return dict.fromkeys(_STAGE_TIMES)
    province = None if is_ministry(user) else user.province_id
    return {
        status: _median_hours(ended, started, since=since, province=province)
        for status, (ended, started) in _STAGE_TIMES.items()
    }


def _median_hours(
    ended: str, started: str, *, since: dt.datetime, province: str | None
) -> float | None:
    applications = Application.objects.filter(
        **{f"{ended}__gte": since, f"{started}__isnull": False}
    )
    if province is not None:
        applications = applications.filter(filing__province_id=province)
    if connection.vendor != "postgresql":
        spans = sorted(
            (end - start).total_seconds() / 3600
            for end, start in applications.values_list(ended, started)
        )
        return statistics.median(spans) if spans else None
    join = (
        f"JOIN {rawsql.table(Filing)} f ON f.id = a.filing_id AND f.province_id = %s "
        if province is not None
        else ""
    )
    sql = (
        "SELECT percentile_cont(0.5) WITHIN GROUP "  # noqa: S608 - columns are the model's
        f"(ORDER BY EXTRACT(EPOCH FROM a.{ended} - a.{started})) / 3600 "
        f"FROM {rawsql.table(Application)} a {join}"
        f"WHERE a.{ended} >= %s AND a.{started} IS NOT NULL"
    )
    params = [province, since] if province is not None else [since]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (hours,) = cursor.fetchone()
    return float(hours) if hours is not None else None


def volume_figures(
    user, *, on: dt.date, since: dt.datetime
) -> tuple[dict[str | None, int], dict[str | None, dict[int, int]]]:
    """``(empty shells, decision durations)`` of the caller's scope, kept
    ``STAGE_FIGURES_SECONDS`` per scope and day as ``stage_figures`` are: the empty shells
    per province, and per province how many decisions since ``since`` took each number of
    working days. Both read rows in proportion to the country's filings (a few shells per
    thousand websites; every decision of 90 days), so a page view does not repeat them; the
    counts by status and the overdue items stay exact (``review.tally``)."""
    province = None if is_ministry(user) else user.province_id
    key = f"review-volume-figures:{province or 'national'}:{on.isoformat()}:{since.date()}"
    found = cache.get(key)
    if found is None:
        found = (empty_shells_by_province(user), decision_durations(user, since=since))
        cache.set(key, found, STAGE_FIGURES_SECONDS)
    return found


def empty_shells_by_province(user) -> dict[str | None, int]:
    """Empty shells (SPEC §12) by province code in the caller's scope: a few per thousand
    websites, read from ``website_shell_idx``."""
    shell_rows = Website.every_kind.filter(shell_since__isnull=False, number__isnull=False)
    if not is_ministry(user):
        shell_rows = shell_rows.filter(filing__province_id=user.province_id)
    return dict(shell_rows.values_list("filing__province_id").annotate(n=Count("*")).order_by())


def decision_durations(user, *, since: dt.datetime) -> dict[str | None, dict[int, int]]:
    """Per province code, how many decisions since ``since`` took each number of working
    days from the latest submission: ``{province: {days: count}}``."""
    calendar = working_calendar()
    decided_pairs = list(
        filings_in_scope(user)
        .filter(
            decided_at__gte=since,
            submitted_at__isnull=False,
            status__in=[Status.APPROVED, Status.REJECTED, Status.REVOKED],
        )
        .annotate(sub=TruncDate("submitted_at"), dec=TruncDate("decided_at"))
        .values_list("province_id", "sub", "dec")
        # COUNT(*), not COUNT(id): every column read is in filing_decided_idx (index only).
        .annotate(n=Count("*"))
        .order_by()
    )
    numbers = _working_day_numbers(
        calendar, {day for _p, sub, dec, _n in decided_pairs for day in (sub, dec)}
    )
    durations: dict[str | None, dict[int, int]] = {}
    for province_id, submitted, decided, count in decided_pairs:
        days = max(numbers[decided] - numbers[submitted], 0)
        by_days = durations.setdefault(province_id, {})
        by_days[days] = by_days.get(days, 0) + count
    return durations


def review_statistics(user, *, on: dt.date | None = None, weeks: int = 12) -> Statistics:
    """Counts by status, overdue items, decisions per week and the median working days from
    the latest submission to the decision (decisions of the last 90 days), nationally and per
    province for the ministry, for the caller's province otherwise. ``weeks`` is how many
    weeks of decisions to list, up to ``on`` (today by default). ``stages``: the stages
    before the bureau (SPEC §12) with their counts (exact) and median hours; each province's
    ``first_reviews_overdue`` (both through ``stage_figures``, kept a few minutes). The empty
    shells and the decisions' working days are kept as long (``volume_figures``); the counts
    by status, the overdue items and the decisions per week are read anew each time."""
    on = on or today()
    period_days = 90
    scope = filings_in_scope(user)
    ministry = is_ministry(user)

    if tally.enabled():
        # The same counts from the tally the triggers keep (see review.tally).
        counted = _tally_in_scope(user)
        status_counts = (
            counted.values_list("province_id", "status").annotate(n=Sum("delta")).filter(n__gt=0)
        )
        overdue_counts = (
            counted.filter(status__in=Filing.OPEN_STATUSES, review_deadline__lt=on)
            .values_list("province_id")
            .annotate(n=Sum("delta"))
            .filter(n__gt=0)
        )
    else:
        status_counts = scope.values_list("province_id", "status").annotate(n=Count("id"))
        overdue_counts = (
            scope.filter(status__in=Filing.OPEN_STATUSES, review_deadline__lt=on)
            .values_list("province_id")
            .annotate(n=Count("id"))
        )
    by_status: dict[str | None, dict[str, int]] = defaultdict(dict)
    for province_id, status, count in status_counts.order_by():
        by_status[province_id][status] = count
    overdue: dict[str | None, int] = dict(overdue_counts.order_by())
    since = timezone.now() - dt.timedelta(days=period_days)
    late_first_reviews, medians = (
        stage_figures(user, on=on, since=since) if is_reviewer(user) else ({}, {})
    )

    shells, durations = volume_figures(user, on=on, since=since)

    audits = AuditLog.objects.filter(action__in=list(DECISION_ACTIONS))
    if not ministry:
        audits = audits.filter(province_id=user.province_id)
    week_start = on - dt.timedelta(days=on.weekday() + 7 * (weeks - 1))
    # From local midnight, so that the partial index on created_at serves the range.
    audits = audits.filter(
        created_at__gte=timezone.make_aware(dt.datetime.combine(week_start, dt.time.min))
    )
    per_week: dict[dt.date, dict[str, int]] = {
        week_start + dt.timedelta(weeks=i): {"approved": 0, "rejected": 0, "revoked": 0}
        for i in range(weeks)
    }
    decisions_by_province: dict[str | None, int] = defaultdict(int)
    for week, province_id, action, count in (
        audits.annotate(week=TruncWeek("created_at"))
        .values_list("week", "province_id", "action")
        .annotate(n=Count("*"))
        .order_by()
    ):
        week_date = week.date() if isinstance(week, dt.datetime) else week
        if week_date in per_week:
            per_week[week_date][DECISION_ACTIONS[action]] += count
        decisions_by_province[province_id] += count

    def stats_for(province: Province | None, keys: list[str | None]) -> ProvinceStats:
        counts: dict[str, int] = defaultdict(int)
        pairs: dict[int, int] = defaultdict(int)
        for key in keys:
            for status, n in by_status.get(key, {}).items():
                counts[status] += n
            for days, n in durations.get(key, {}).items():
                pairs[days] += n
        return ProvinceStats(
            province=province,
            by_status=dict(counts),
            overdue=sum(overdue.get(k, 0) for k in keys),
            median_days=_weighted_median(pairs),
            decisions=sum(decisions_by_province.get(k, 0) for k in keys),
            first_reviews_overdue=sum(late_first_reviews.get(k, 0) for k in keys),
            empty_shells=sum(shells.get(k, 0) for k in keys),
        )

    if ministry:
        provinces = list(Province.objects.order_by("code"))
        rows = [stats_for(p, [p.code]) for p in provinces]
        national = stats_for(
            None,
            list(
                set(by_status)
                | set(overdue)
                | set(durations)
                | set(decisions_by_province)
                | set(late_first_reviews)
                | set(shells)
            ),
        )
    else:
        province = user.province
        rows = [stats_for(province, [province.code])]
        national = rows[0]
    top = max((sum(w.values()) for w in per_week.values()), default=0) or 1
    week_rows = [
        {
            "start": start,
            **counts,
            "total": sum(counts.values()),
            "percent": round(100 * sum(counts.values()) / top),
        }
        for start, counts in per_week.items()
    ]
    return Statistics(
        national=national,
        provinces=rows,
        weeks=week_rows,
        statuses=[(s.value, s.label) for s in Status if s != Status.DRAFT],
        period_days=period_days,
        stages=[
            StageFigure(
                status=status,
                label=Status(status).label,
                count=national.by_status.get(status, 0),
                median_hours=medians.get(status),
            )
            for status in Filing.STAGE_STATUSES
        ],
    )


# The audit log ---------------------------------------------------------------------------------


def audit_entries(user, *, action: str = "", province: str = "") -> QuerySet[AuditLog]:
    """The audit log, newest first: a bureau sees its province's entries, the ministry all of
    them (or one ``province``, by code); ``action`` (one of ``AUDIT_ACTIONS``) filters."""
    qs = AuditLog.objects.select_related("actor", "province").order_by("-created_at", "-id")
    if is_ministry(user):
        if province:
            qs = qs.filter(province_id=province)
    else:
        qs = qs.filter(province_id=user.province_id)
    if action:
        qs = qs.filter(action=action)
    return qs


AUDIT_ACTIONS = [
    "filing.approve",
    "filing.approve_amendment",
    "filing.reject",
    "filing.reject_amendment",
    "filing.recheck",
    "filing.revoke",
    "revocation.approve",
    "revocation.refuse",
    "account.password_reset",
]


def provinces_for_filter(user) -> list[Province]:
    """Every province, by code, for the ministry's filter; none for a bureau."""
    return list(Province.objects.order_by("code")) if is_ministry(user) else []


def recent_escalations(user, *, limit: int = 100) -> list[Escalation]:
    """Overdue items reported to the ministry, newest first, at most ``limit`` (a bureau sees
    its own province's)."""
    qs = Escalation.objects.select_related("filing", "province").order_by("-escalated_at", "-id")
    if not is_ministry(user):
        qs = qs.filter(province_id=user.province_id)
    return list(qs[:limit])
