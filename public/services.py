"""Writes of the public services: cache invalidation and the annual review (SPEC §7, §8)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.notifications import notify_owner
from beian import limits
from beian.audit import audit
from filings.models import Filing

from .answer_cache import renew_versions
from .models import AnnualReview
from .selectors import (
    QUERY_COUNT_WINDOW,
    REVIEWED_STATUSES,
    Window,
    annual_review_window,
    filings_due_for_review,
    query_count_key,
)


def published_data_changed(
    *,
    domains: Iterable[str] = (),
    numbers: Iterable[str] = (),
    identifiers: Iterable[str] = (),
) -> None:
    """The published copy of filings with these domains, sponsor numbers and app identifiers
    or mini-program ids changed (called after publish and unpublish): the cached answers
    about them, and every cached name search, are stale."""
    renew_versions(domains=domains, numbers=numbers, identifiers=identifiers)


def on_published_data_changed(
    sender,
    *,
    domains: list[str],
    numbers: list[str],
    identifiers: list[str] = (),
    **kwargs,
) -> None:
    """Receiver of ``filings.publishing.published_data_changed`` (connected in
    ``PublicConfig.ready``): drops the cached answers as ``published_data_changed`` does."""
    published_data_changed(domains=domains, numbers=numbers, identifiers=identifiers)


# Annual review ------------------------------------------------------------------------------------

OPENING = "opening"
FINAL = "final"
_REMINDED_FIELD = {OPENING: "reminded_open_at", FINAL: "reminded_final_at"}
BATCH_SIZE = 500


class AnnualReviewError(Exception):
    """The annual review cannot be confirmed now; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@transaction.atomic
def annual_review_confirm(
    *, filing: Filing, by: User, today: dt.date | None = None
) -> list[AnnualReview]:
    """The owner confirms that the filing is current: this year's review and any overdue one;
    the reviews confirmed, oldest year first. ``today`` is the day in Asia/Shanghai, today by
    default.

    Raises ``PermissionDenied`` when ``by`` is not the filing's owner, ``AnnualReviewError``
    when the filing is neither ``approved`` nor ``amendment_pending`` or has no review to
    confirm, and ``Filing.DoesNotExist`` when the filing is gone."""
    locked = Filing.objects.select_for_update().get(pk=filing.pk)
    if locked.owner_id != by.pk:
        raise PermissionDenied
    if locked.status not in REVIEWED_STATUSES or not locked.is_filed:
        raise AnnualReviewError(_("Only an approved filing takes part in the annual review."))
    today = today or timezone.localdate()
    window = annual_review_window(today.year)
    if window.is_open(today) and filings_due_for_review(window).filter(pk=locked.pk).exists():
        # The owner may come before the opening sweep has created this year's row.
        AnnualReview.objects.get_or_create(filing=locked, year=window.year)
    reviews = list(
        AnnualReview.objects.select_for_update()
        .filter(filing=locked, confirmed_at__isnull=True)
        .order_by("year")
    )
    if not reviews:
        raise AnnualReviewError(_("There is no annual review to confirm at the moment."))
    now = timezone.now()
    for review in reviews:
        review.confirmed_at = now
        review.confirmed_by = by
        review.save(update_fields=["confirmed_at", "confirmed_by"])
    audit(
        actor=by,
        action="annual_review.confirm",
        target=locked,
        after={
            "years": [r.year for r in reviews],
            "late": [r.year for r in reviews if r.overdue_flagged_at],
        },
        province=locked.province_id,
    )
    return reviews


def annual_review_open(*, window: Window) -> int:
    """Create ``window``'s review for every filing due for it, 500 rows a transaction; safe to
    repeat or to race. Returns how many were created."""
    created = 0
    due = filings_due_for_review(window).exclude(annual_reviews__year=window.year)
    for ids in _id_batches(due):
        with transaction.atomic():
            rows = AnnualReview.objects.bulk_create(
                [AnnualReview(filing_id=pk, year=window.year) for pk in ids],
                ignore_conflicts=True,
            )
        created += len(rows)
    return created


def reminders_due(*, window: Window, stage: str, today: dt.date) -> Iterator[list[int]]:
    """Batches (``BATCH_SIZE`` ids each) of the reviews of ``window`` that still need the
    ``stage`` (``OPENING`` or ``FINAL``) reminder on ``today``; none outside the window, and
    for ``FINAL`` none before ``final_reminder_on``."""
    if not window.is_open(today):
        return
    reviews = AnnualReview.objects.filter(
        year=window.year, confirmed_at__isnull=True, filing__status__in=REVIEWED_STATUSES
    )
    if stage == OPENING:
        reviews = reviews.filter(reminded_open_at__isnull=True)
    else:
        if today < window.final_reminder_on:
            return
        # Never both reminders on one day: the final one waits for a day after the first.
        reviews = reviews.filter(
            reminded_final_at__isnull=True, reminded_open_at__lt=_local_midnight(today)
        )
    yield from _id_batches(reviews)


@transaction.atomic
def annual_review_remind(*, stage: str, review_ids: Iterable[int]) -> int:
    """Email and SMS the owners of these reviews, each at most once per ``stage`` (``OPENING``
    or ``FINAL``; ``KeyError`` for another); returns how many reviews were reminded."""
    reminded_field = _REMINDED_FIELD[stage]
    reviews = list(
        AnnualReview.objects.select_for_update(of=("self",))
        .filter(
            pk__in=list(review_ids),
            confirmed_at__isnull=True,
            filing__status__in=REVIEWED_STATUSES,
            **{f"{reminded_field}__isnull": True},
        )
        .select_related("filing__owner")
        .order_by("id")
    )
    if not reviews:
        return 0
    windows: dict[int, Window] = {}
    for review in reviews:
        window = windows.setdefault(review.year, annual_review_window(review.year))
        _send_reminder(review, window=window, final=stage == FINAL)
    AnnualReview.objects.filter(pk__in=[r.pk for r in reviews]).update(
        **{reminded_field: timezone.now()}
    )
    return len(reviews)


def _send_reminder(review: AnnualReview, *, window: Window, final: bool) -> None:
    owner = review.filing.owner
    context = {
        "username": owner.username,
        "number": review.filing.number,
        "sponsor_name": review.filing.sponsor_name,
        "year": review.year,
        "ends_on": window.ends_on,
        # Calendar days up to and including the last day of the window, as sent.
        "days_left": max((window.ends_on - timezone.localdate()).days + 1, 0),
        "final": final,
        "path": reverse("public:annual_review"),
    }
    notify_owner(owner, "annual_review_reminder", context)


def annual_review_credit_amendments(*, window: Window) -> int:
    """An amendment submitted inside the window counts as the year's confirmation (Q9);
    returns how many reviews it confirmed."""
    submitted = Filing.objects.filter(
        pk=OuterRef("filing_id"),
        submitted_at__gte=window.opens_at,
        submitted_at__lt=window.closes_at,
    )
    return (
        AnnualReview.objects.filter(year=window.year, confirmed_at__isnull=True)
        .filter(
            filing__submitted_at__gte=window.opens_at, filing__submitted_at__lt=window.closes_at
        )
        .update(
            confirmed_at=Subquery(submitted.values("submitted_at")[:1]),
            confirmed_by=Subquery(submitted.values("submitted_by")[:1]),
            confirmed_by_amendment=True,
        )
    )


def annual_review_flag_overdue(*, window: Window, today: dt.date) -> int:
    """After the window (``today`` past its last day), credit amendments, then flag every
    unconfirmed review of a still-filed record; returns how many were flagged (0 while the
    window lasts)."""
    if today <= window.ends_on:
        return 0
    annual_review_credit_amendments(window=window)
    return AnnualReview.objects.filter(
        year=window.year,
        confirmed_at__isnull=True,
        overdue_flagged_at__isnull=True,
        filing__status__in=REVIEWED_STATUSES,
    ).update(overdue_flagged_at=timezone.now())


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _id_batches(queryset) -> Iterator[list[int]]:
    """The ids of ``queryset`` in batches, by keyset: no long-lived cursor, millions of rows."""
    last = 0
    while True:
        batch = list(
            queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH_SIZE]
        )
        if not batch:
            return
        yield batch
        last = batch[-1]


def query_count_add(address: str) -> int:
    """Count one page query from ``address`` (an IP address) in its hour's window
    (``QUERY_COUNT_WINDOW`` seconds); the new count."""
    return limits.count(query_count_key(address), QUERY_COUNT_WINDOW)[0]
