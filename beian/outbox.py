"""Rows waiting to go out (an email or SMS, a webhook delivery) and the one way they go
(SPEC §9; the shape of GOV.UK Notify's provider tasks).

An outbox row is saved in the transaction that causes it and has ``status`` (``queued``,
``sent``, ``failed``: ``model.Status``), ``attempts``, ``last_error``, ``updated_at`` and
``sent_at``. Its task is handed to the broker only after that transaction commits
(``enqueue_after_commit``); the task makes one ``attempt``, which re-reads the row under a
lock and acts only while it is still queued, so running it twice sends once. A sender raises
``TemporaryDeliveryError`` (retried with backoff, ``DELIVERY_MAX_ATTEMPTS`` in all, then
``failed``) or ``PermanentDeliveryError`` (``failed`` at once). The periodic ``sweep`` hands
rows left queued to their task again: after ``DELIVERY_SWEEP_AFTER_SECONDS``, or at its next
run when the broker did not take the task at commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any

from celery import Task
from django.conf import settings
from django.db import DatabaseError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from .queueing import enqueue

logger = logging.getLogger(__name__)

# Written on a queued row whose task the broker did not take; the sweeper hands such rows to
# their task at its next run instead of waiting DELIVERY_SWEEP_AFTER_SECONDS. A message id, so
# that the provider console shows it in the reader's language (beian.coded).
NOT_ENQUEUED = gettext_noop(
    "not handed to the task queue (broker unreachable); waiting for the sweeper"
)

# How much of an error's text a row keeps.
ERROR_CHARS = 2000


class TemporaryDeliveryError(Exception):
    """The receiver may accept the row later: retry with backoff."""


class PermanentDeliveryError(Exception):
    """The row can never be delivered as it is: record it as failed."""


def backoff_seconds(attempt: int) -> int:
    """Seconds to wait after failed attempt number ``attempt`` (1, 2, …): the base
    ``DELIVERY_BACKOFF_BASE_SECONDS``, doubled for every attempt after the first."""
    return settings.DELIVERY_BACKOFF_BASE_SECONDS * (2 ** max(attempt - 1, 0))


def enqueue_after_commit(task: Task, model: type[models.Model], ids: Iterable[int]) -> None:
    """Hand ``task`` each of ``ids`` (rows of ``model``) once the current transaction commits.
    When the broker refuses one, it and the rest are marked ``NOT_ENQUEUED`` for the sweeper
    at once, rather than each waiting on the unreachable broker; nothing is raised."""
    ids = list(ids)
    if not ids:
        return

    def hand_over() -> None:
        for position, pk in enumerate(ids):
            if not enqueue(task, pk):
                _mark_not_enqueued(model, ids[position:])
                return

    transaction.on_commit(hand_over)


def _mark_not_enqueued(model: type[models.Model], ids: list[int]) -> None:
    try:
        model.objects.filter(id__in=ids, status=model.Status.QUEUED, attempts=0).update(
            last_error=NOT_ENQUEUED
        )
    except DatabaseError:
        # The rows stay queued all the same; the sweeper finds them after the usual delay.
        logger.warning("could not mark %s %s rows as not enqueued", len(ids), model.__name__)


def attempt(
    task: Task,
    model: type[models.Model],
    pk: int,
    *,
    send: Callable[[Any], None],
    related: tuple[str, ...] = (),
    recorded: tuple[str, ...] = (),
) -> str:
    """One attempt at the queued row ``pk`` of ``model``, for the bound Celery ``task`` that
    takes the row's id. ``send(row)`` delivers it (and may set the fields named in
    ``recorded``, saved with the outcome); ``related`` is passed to ``select_related``.

    Returns ``"sent"``, ``"failed"`` or ``"skipped"`` (no such row, or no longer queued: a
    concurrent duplicate waits on the row lock and then skips). After a temporary failure the
    task is retried in ``backoff_seconds(attempts)`` (raises ``celery.exceptions.Retry``), or
    at once when it runs in-process."""
    with transaction.atomic():
        row = model.objects.select_for_update().select_related(*related).filter(pk=pk).first()
        if row is None or row.status != model.Status.QUEUED:
            return "skipped"
        row.attempts += 1
        fields = ["attempts", "status", "last_error", "updated_at", *recorded]
        try:
            send(row)
        except TemporaryDeliveryError as exc:
            row.last_error = str(exc)[:ERROR_CHARS]
            if row.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
                row.status = model.Status.FAILED
                row.save(update_fields=fields)
                logger.warning("%s %s failed after %s attempts", model.__name__, pk, row.attempts)
                return "failed"
            row.save(update_fields=fields)
            retry_in = backoff_seconds(row.attempts)
        except PermanentDeliveryError as exc:
            row.status = model.Status.FAILED
            row.last_error = str(exc)[:ERROR_CHARS]
            row.save(update_fields=fields)
            return "failed"
        else:
            row.status = model.Status.SENT
            row.sent_at = timezone.now()
            row.last_error = ""
            row.save(update_fields=[*fields, "sent_at"])
            return "sent"
    if task.request.is_eager:
        # In-process execution has no broker to wait on: try again at once.
        return task.run(pk)
    raise task.retry(countdown=retry_in)


def sweep(task: Task, model: type[models.Model], *, limit: int = 1000) -> int:
    """Hand ``task`` again the rows of ``model`` still queued ``DELIVERY_SWEEP_AFTER_SECONDS``
    after their last change (lost between commit and enqueue, or by a worker), and at once
    those marked ``NOT_ENQUEUED``; at most ``limit``, oldest first. Returns how many."""
    cutoff = timezone.now() - dt.timedelta(seconds=settings.DELIVERY_SWEEP_AFTER_SECONDS)
    ids = list(
        model.objects.filter(status=model.Status.QUEUED)
        .filter(Q(updated_at__lt=cutoff) | Q(attempts=0, last_error=NOT_ENQUEUED))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    for pk in ids:
        task.delay(pk)
    # Enqueued now: from here on the usual delay applies, so a long queue is not swept again
    # every minute (updated_at is left alone).
    model.objects.filter(id__in=ids, last_error=NOT_ENQUEUED).update(last_error="")
    return len(ids)
