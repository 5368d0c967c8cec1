"""Delivery and calendar tasks. Each takes ids, re-reads state and is safe to run twice."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .delivery import NOT_ENQUEUED, PermanentDeliveryError, TemporaryDeliveryError, deliver
from .models import Message

logger = logging.getLogger(__name__)


def backoff_seconds(attempt: int) -> int:
    return settings.DELIVERY_BACKOFF_BASE_SECONDS * (2 ** max(attempt - 1, 0))


@shared_task(name="beian.delivery.send", bind=True, acks_late=True, max_retries=None)
def send_message(self, message_id: int) -> str:
    """Send one queued message. The row lock makes a concurrent duplicate wait and then skip."""
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(id=message_id).first()
        if message is None or message.status != Message.Status.QUEUED:
            return "skipped"
        message.attempts += 1
        try:
            deliver(message)
        except TemporaryDeliveryError as exc:
            message.last_error = str(exc)[:2000]
            if message.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
                message.status = Message.Status.FAILED
                message.save(update_fields=["attempts", "last_error", "status", "updated_at"])
                logger.warning("message %s failed after %s attempts", message.id, message.attempts)
                return "failed"
            message.save(update_fields=["attempts", "last_error", "updated_at"])
            retry_in = backoff_seconds(message.attempts)
        except PermanentDeliveryError as exc:
            message.status = Message.Status.FAILED
            message.last_error = str(exc)[:2000]
            message.save(update_fields=["attempts", "last_error", "status", "updated_at"])
            return "failed"
        else:
            message.status = Message.Status.SENT
            message.sent_at = timezone.now()
            message.last_error = ""
            message.save(
                update_fields=["attempts", "status", "sent_at", "last_error", "updated_at"]
            )
            return "sent"
    if self.request.is_eager:
        # In-process execution has no broker to wait on: try again at once.
        return send_message.run(message_id)
    raise self.retry(countdown=retry_in)


@shared_task(name="beian.delivery.sweep", acks_late=True)
def sweep_queued_messages() -> int:
    """Re-enqueue messages left queued too long (lost between commit and enqueue), and at once
    those the broker did not take when they were saved."""
    cutoff = timezone.now() - dt.timedelta(seconds=settings.DELIVERY_SWEEP_AFTER_SECONDS)
    ids = list(
        Message.objects.filter(status=Message.Status.QUEUED)
        .filter(Q(updated_at__lt=cutoff) | Q(attempts=0, last_error=NOT_ENQUEUED))
        .order_by("id")
        .values_list("id", flat=True)[:1000]
    )
    for message_id in ids:
        send_message.delay(message_id)
    # Enqueued now: from here on the usual delay applies, so a long queue is not swept again
    # every minute (updated_at is left alone).
    Message.objects.filter(id__in=ids, last_error=NOT_ENQUEUED).update(last_error="")
    return len(ids)


@shared_task(name="beian.calendar.sync", acks_late=True)
def sync_calendar() -> int:
    """Pick up holidays from a newer chinesecalendar release without touching manual days."""
    from .workdays import sync_from_package

    return sync_from_package()


@shared_task(name="beian.limits.forget_expired", acks_late=True)
def forget_expired_rate_counters() -> int:
    """Delete the rate-limit windows the database kept while Redis was away, once closed."""
    from .limits import forget_expired

    return forget_expired()
