"""Deadline tracking (SPEC §4), run by beat every morning.

``review.deadlines.digest``: each bureau's staff get one email a working day listing the items
due within 5 working days (and how many are overdue). ``review.deadlines.escalate``: items past
their deadline are recorded as escalations, once per deadline, and the ministry gets the new
ones by email. Both are safe to run twice: a digest is recorded once per province and day, an
escalation once per filing and deadline, and the ministry email covers only rows not yet
notified. ``review.tally.compact`` folds the statistics tally every five minutes.

``review.arrivals.notify``: each application reaching the bureau is emailed to the province's
active bureau staff (``REVIEW_ARRIVAL_EMAILS``). The move hands it the ids after commit; beat
runs it every five minutes without ids for any the broker did not take. An arrival is claimed
once (``Application.bureau_told_at``, rows taken with ``SKIP LOCKED``), so two runs send one
email each.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.notifications import staff_email, staff_language
from beian.delivery import Email, queue_email, queue_emails
from beian.models import Province
from beian.workdays import working_calendar
from filings.models import Application, Filing

from . import tally
from .models import DeadlineDigest, Escalation
from .selectors import DUE_SOON_WORKING_DAYS, KIND_LABELS

logger = logging.getLogger(__name__)

# At most this many items are listed in one email; the console has all of them.
LISTED_ITEMS = 50


def _open() -> QuerySet[Filing]:
    return Filing.objects.filter(status__in=Filing.OPEN_STATUSES)


@shared_task(name="review.deadlines.digest", acks_late=True)
def send_deadline_digests() -> int:
    """Email each bureau the items due within 5 working days. Returns digests sent."""
    on = timezone.localdate()
    calendar = working_calendar()
    if not calendar.is_workday(on):
        return 0
    limit = calendar.add_working_days(on, DUE_SOON_WORKING_DAYS)
    due = dict(
        _open()
        .filter(review_deadline__gte=on, review_deadline__lte=limit)
        .values_list("province_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    overdue = dict(
        _open()
        .filter(review_deadline__lt=on)
        .values_list("province_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    sent = 0
    for code in sorted(set(due) | set(overdue)):
        if code and send_province_digest(
            province_code=code,
            on=on,
            limit=limit,
            due=due.get(code, 0),
            overdue=overdue.get(code, 0),
        ):
            sent += 1
    return sent


def send_province_digest(
    *, province_code: str, on: dt.date, limit: dt.date, due: int, overdue: int
) -> bool:
    staff = list(
        User.objects.filter(role=User.Role.BUREAU, province_id=province_code, is_active=True)
        .exclude(email="")
        .order_by("id")
    )
    if not staff:
        return False
    province = Province.objects.get(code=province_code)
    calendar = working_calendar()
    items = [
        {
            "id": f.id,
            "sponsor_name": f.sponsor_name,
            "kind": KIND_LABELS.get(f.review_kind, ""),
            "deadline": f.review_deadline,
            "days_left": calendar.working_days_between(on, f.review_deadline),
        }
        for f in _open()
        .filter(province_id=province_code, review_deadline__gte=on, review_deadline__lte=limit)
        .only("id", "sponsor_name", "status", "review_deadline")
        .order_by("review_deadline", "id")[:LISTED_ITEMS]
    ]
    # The overdue items are named too, the longest overdue first: a count alone sends the
    # reader hunting for them.
    overdue_items = [
        {
            "id": f.id,
            "sponsor_name": f.sponsor_name,
            "kind": KIND_LABELS.get(f.review_kind, ""),
            "deadline": f.review_deadline,
            "days_overdue": calendar.working_days_between(f.review_deadline, on),
        }
        for f in _open()
        .filter(province_id=province_code, review_deadline__lt=on)
        .only("id", "sponsor_name", "status", "review_deadline")
        .order_by("review_deadline", "id")[:LISTED_ITEMS]
    ]
    try:
        with transaction.atomic():
            DeadlineDigest.objects.create(
                province=province,
                date=on,
                due_count=due,
                overdue_count=overdue,
                recipients=len(staff),
            )
            for member in staff:
                queue_email(
                    to=member.email,
                    template="review_deadline_digest",
                    context={
                        "province": province.name_in(staff_language(member)),
                        "date": on,
                        "due": due,
                        "overdue": overdue,
                        "items": items,
                        "more": max(due - len(items), 0),
                        "overdue_items": overdue_items,
                        "more_overdue": max(overdue - len(overdue_items), 0),
                        "console_path": reverse("review:deadlines"),
                    },
                    language=staff_language(member),
                )
    except IntegrityError:
        return False  # already sent today by an earlier run
    return True


@shared_task(name="review.deadlines.escalate", acks_late=True)
def escalate_overdue() -> int:
    """Record every item past its deadline once, and tell the ministry. Returns new escalations."""
    on = timezone.localdate()
    already = Escalation.objects.filter(
        filing_id=OuterRef("pk"), review_deadline=OuterRef("review_deadline")
    )
    created = 0
    while True:
        batch = list(
            _open()
            .filter(review_deadline__lt=on, province__isnull=False)
            .exclude(Exists(already))
            .values_list("id", "province_id", "review_deadline")
            .order_by("id")[:1000]
        )
        if not batch:
            break
        # A concurrent run may have recorded some of them: the unique constraint keeps one.
        Escalation.objects.bulk_create(
            [Escalation(filing_id=i, province_id=p, review_deadline=d) for i, p, d in batch],
            ignore_conflicts=True,
        )
        created += len(batch)
        if len(batch) < 1000:
            break
    notify_ministry_of_escalations()
    return created


def notify_ministry_of_escalations() -> int:
    """One email to each ministry administrator about the escalations not yet notified.

    The rows are claimed by stamping them in one UPDATE: a concurrent run waits on those rows,
    then finds nothing left to claim, so nothing is reported twice.
    """
    on = timezone.localdate()
    stamp = timezone.now()
    with transaction.atomic():
        claimed = Escalation.objects.filter(notified_at__isnull=True).update(notified_at=stamp)
        if not claimed:
            return 0
        ministry = list(
            User.objects.filter(role=User.Role.MINISTRY, is_active=True)
            .exclude(email="")
            .order_by("id")
        )
        if not ministry:
            return claimed
        batch = Escalation.objects.filter(notified_at=stamp)
        provinces = {p.code: p for p in Province.objects.all()}
        by_province = sorted(
            batch.values_list("province_id").annotate(n=Count("id")).order_by(),
            key=lambda row: (-row[1], row[0]),
        )
        calendar = working_calendar()
        items = [
            {
                "id": e.filing_id,
                "province": provinces.get(e.province_id),
                "sponsor_name": e.filing.sponsor_name,
                "deadline": e.review_deadline,
                "days_overdue": calendar.working_days_between(e.review_deadline, on),
            }
            for e in batch.select_related("filing").order_by("review_deadline", "id")[:LISTED_ITEMS]
        ]
        for member in ministry:
            language = staff_language(member)

            # Province names in the reader's language.
            def name(province, code, language=language):
                return province.name_in(language) if province else code

            context = {
                "date": on,
                "count": claimed,
                "provinces": [
                    {"name": name(provinces.get(code), code), "count": n} for code, n in by_province
                ],
                "items": [{**item, "province": name(item["province"], "")} for item in items],
                "more": max(claimed - len(items), 0),
                "console_path": reverse("review:deadlines"),
            }
            queue_email(
                to=member.email,
                template="review_escalation",
                context=context,
                language=language,
            )
        return claimed


# At most this many arrivals are claimed in one transaction.
ARRIVALS_BATCH = 200


@shared_task(name="review.arrivals.notify", acks_late=True)
def tell_bureau_of_arrivals(application_ids: list[int] | None = None) -> int:
    """Email the active bureau staff of each province of the applications (``application_ids``,
    or every one still untold when None) that reached the bureau and are still open there,
    one email per application, in each member's language; mark them told. With
    ``REVIEW_ARRIVAL_EMAILS`` off they are marked and nothing is sent. Returns how many
    arrivals were told."""
    told = 0
    while True:
        with transaction.atomic():
            untold = (
                Application.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    closed_at__isnull=True,
                    bureau_told_at__isnull=True,
                    reached_bureau_at__isnull=False,
                )
                .select_related("filing", "filing__province")
                .order_by("reached_bureau_at", "id")
            )
            if application_ids is not None:
                untold = untold.filter(pk__in=application_ids)
            batch = list(untold[:ARRIVALS_BATCH])
            if not batch:
                return told
            now = timezone.now()
            Application.objects.filter(pk__in=[a.pk for a in batch]).update(bureau_told_at=now)
            at_bureau = [a for a in batch if a.status in Filing.OPEN_STATUSES]
            if settings.REVIEW_ARRIVAL_EMAILS:
                queue_emails(_arrival_emails(at_bureau))
            told += len(at_bureau)


def _arrival_emails(applications: list[Application]) -> list[Email]:
    provinces = {a.filing.province_id for a in applications if a.filing.province_id}
    staff: dict[str, list[User]] = {}
    for member in (
        User.objects.filter(role=User.Role.BUREAU, province_id__in=provinces, is_active=True)
        .exclude(email="")
        .order_by("id")
    ):
        staff.setdefault(member.province_id, []).append(member)
    emails = []
    for application in applications:
        filing = application.filing
        for member in staff.get(filing.province_id, []):
            emails.append(
                staff_email(
                    member,
                    "review_arrival",
                    {
                        "sponsor_name": filing.sponsor_name,
                        # The application's own kind, as the console shows it.
                        "kind_label": Application.Kind(application.kind).label,
                        "bureau": filing.province.bureau_in(staff_language(member)),
                        # ISO dates read the same in every language.
                        "arrived": timezone.localdate(application.reached_bureau_at).isoformat(),
                        "deadline": (
                            filing.review_deadline.isoformat() if filing.review_deadline else ""
                        ),
                        "filing_path": reverse("review:detail", args=[filing.pk]),
                    },
                )
            )
    return emails


@shared_task(name="review.tally.compact", acks_late=True)
def compact_filing_tally() -> int:
    """Fold the statistics tally into one row per key (the counts stay the same); safe to run
    twice or concurrently, the runs take turns. Returns the rows written."""
    return tally.compact()
