"""Webhook delivery and import tasks. Each takes ids, re-reads state and is safe to run twice."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from beian.delivery import PermanentDeliveryError, TemporaryDeliveryError
from beian.tasks import backoff_seconds

from .import_jobs import RUN_IMPORT_TASK, import_job_process_chunk
from .models import ImportJob, WebhookDelivery
from .webhooks import post

logger = logging.getLogger(__name__)


@shared_task(name="providers.webhook.send", bind=True, acks_late=True, max_retries=None)
def send_webhook(self, delivery_id: int) -> str:
    """One attempt at a queued delivery; the row lock makes a concurrent duplicate skip."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("provider")
            .filter(id=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != WebhookDelivery.Status.QUEUED:
            return "skipped"
        delivery.attempts += 1
        fields = ["attempts", "last_error", "response_status", "status", "updated_at"]
        try:
            delivery.response_status = post(delivery, delivery.provider.webhook_secret)
        except TemporaryDeliveryError as exc:
            delivery.last_error = str(exc)[:2000]
            delivery.response_status = getattr(exc, "status_code", None)
            if delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
                delivery.status = WebhookDelivery.Status.FAILED
                delivery.save(update_fields=fields)
                logger.warning(
                    "webhook %s failed after %s attempts", delivery.id, delivery.attempts
                )
                return "failed"
            delivery.save(update_fields=fields)
            retry_in = backoff_seconds(delivery.attempts)
        except PermanentDeliveryError as exc:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.last_error = str(exc)[:2000]
            delivery.save(update_fields=fields)
            return "failed"
        else:
            delivery.status = WebhookDelivery.Status.SENT
            delivery.sent_at = timezone.now()
            delivery.last_error = ""
            delivery.save(update_fields=[*fields, "sent_at"])
            return "sent"
    if self.request.is_eager:
        # In-process execution has no broker to wait on: try again at once.
        return send_webhook.run(delivery_id)
    raise self.retry(countdown=retry_in)


@shared_task(name="providers.webhook.sweep", acks_late=True)
def sweep_queued_webhooks() -> int:
    """Re-enqueue deliveries left queued too long (lost between commit and enqueue)."""
    cutoff = timezone.now() - dt.timedelta(seconds=settings.DELIVERY_SWEEP_AFTER_SECONDS)
    ids = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.QUEUED, updated_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:1000]
    )
    for delivery_id in ids:
        send_webhook.delay(delivery_id)
    return len(ids)


@shared_task(name=RUN_IMPORT_TASK, bind=True, acks_late=True, max_retries=None)
def run_import(self, job_id: int) -> str:
    """Process the next chunk of an import, then enqueue the rest.

    Each chunk commits with its results, so a worker that dies mid-chunk leaves its rows
    pending for the next task (or the sweeper); chunks keep every task well inside the time
    limit.
    """
    while True:
        state = import_job_process_chunk(job_id=job_id, limit=settings.PROVIDER_IMPORT_CHUNK_ROWS)
        if state != ImportJob.Status.RUNNING:
            return state
        if not self.request.is_eager:
            run_import.delay(job_id)
            return state


@shared_task(name="providers.import.sweep", acks_late=True)
def sweep_stalled_imports() -> int:
    """Restart imports whose worker vanished (no progress for a while)."""
    cutoff = timezone.now() - dt.timedelta(seconds=settings.DELIVERY_SWEEP_AFTER_SECONDS)
    ids = list(
        ImportJob.objects.filter(
            status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING], updated_at__lt=cutoff
        ).values_list("id", flat=True)[:100]
    )
    for job_id in ids:
        run_import.delay(job_id)
    return len(ids)
