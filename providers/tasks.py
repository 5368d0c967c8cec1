"""Webhook delivery and import tasks. Each takes ids, re-reads state and is safe to run twice."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from beian import outbox
from beian.outbox import TemporaryDeliveryError

from .import_jobs import RUN_IMPORT_TASK, import_job_process_chunk
from .models import ImportJob, WebhookDelivery
from .webhooks import SEND_WEBHOOK_TASK, post


def _post_and_record(delivery: WebhookDelivery) -> None:
    """``webhooks.post`` one attempt, keeping the receiver's HTTP status on the row."""
    try:
        delivery.response_status = post(delivery, delivery.provider.webhook_secret)
    except TemporaryDeliveryError as exc:
        delivery.response_status = getattr(exc, "status_code", None)
        raise


@shared_task(name=SEND_WEBHOOK_TASK, bind=True, acks_late=True, max_retries=None)
def send_webhook(self, delivery_id: int) -> str:
    """One attempt at the queued delivery ``delivery_id`` (``beian.outbox.attempt``):
    ``"sent"``, ``"failed"`` or ``"skipped"``; retried with backoff after a temporary failure."""
    return outbox.attempt(
        self,
        WebhookDelivery,
        delivery_id,
        send=_post_and_record,
        related=("provider",),
        recorded=("response_status",),
    )


@shared_task(name="providers.webhook.sweep", acks_late=True)
def sweep_queued_webhooks() -> int:
    """Re-enqueue deliveries left queued too long (lost between commit and enqueue), and at
    once those the broker did not take when they were saved; returns how many."""
    return outbox.sweep(send_webhook, WebhookDelivery)


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
