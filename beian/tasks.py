"""Delivery and calendar tasks. Each takes ids, re-reads state and is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import outbox
from .limits import forget_expired
from .models import Message
from .sending import deliver
from .workdays import sync_from_package


@shared_task(name="beian.delivery.send", bind=True, acks_late=True, max_retries=None)
def send_message(self, message_id: int) -> str:
    """One attempt at the queued message ``message_id`` (``beian.outbox.attempt``): ``"sent"``,
    ``"failed"`` or ``"skipped"``; retried with backoff after a temporary failure."""
    return outbox.attempt(self, Message, message_id, send=deliver)


@shared_task(name="beian.delivery.sweep", acks_late=True)
def sweep_queued_messages() -> int:
    """Re-enqueue messages left queued too long (lost between commit and enqueue), and at once
    those the broker did not take when they were saved; returns how many."""
    return outbox.sweep(send_message, Message)


@shared_task(name="beian.calendar.sync", acks_late=True)
def sync_calendar() -> int:
    """Pick up holidays from a newer chinesecalendar release without touching manual days."""
    return sync_from_package()


@shared_task(name="beian.limits.forget_expired", acks_late=True)
def forget_expired_rate_counters() -> int:
    """Delete the rate-limit windows the database kept while Redis was away, once closed."""
    return forget_expired()
