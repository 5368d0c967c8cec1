"""The annual review sweep (SPEC §8), run daily by beat. Every step is safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from . import services
from .selectors import annual_review_window

logger = logging.getLogger(__name__)


@shared_task(name="public.annual_review.daily", acks_late=True)
def annual_review_daily() -> dict:
    """Open this year's window, send the reminders that are due, flag what is overdue.

    Last year's window is flagged too, so a beat that was down on the first day after a
    window still flags it later.
    """
    today = timezone.localdate()
    window = annual_review_window(today.year)
    summary = {"created": 0, "opening": 0, "final": 0, "credited": 0, "overdue": 0}
    if window.is_open(today):
        summary["created"] = services.annual_review_open(window=window)
        summary["credited"] = services.annual_review_credit_amendments(window=window)
        for stage in (services.OPENING, services.FINAL):
            for batch in services.reminders_due(window=window, stage=stage, today=today):
                annual_review_remind.delay(stage, batch)
                summary[stage] += len(batch)
    for past in (annual_review_window(today.year - 1), window):
        summary["overdue"] += services.annual_review_flag_overdue(window=past, today=today)
    logger.info("annual review %s: %s", today, summary)
    return summary


@shared_task(
    name="public.annual_review.remind",
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=10,
    max_retries=8,
)
def annual_review_remind(stage: str, review_ids: list[int]) -> int:
    """Remind the owners of these reviews; a review already reminded at this stage is skipped."""
    return services.annual_review_remind(stage=stage, review_ids=review_ids)
