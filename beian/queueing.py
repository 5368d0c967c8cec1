"""Handing a task to the broker without letting a broker outage break the request.

The work a task does is always recorded in PostgreSQL first (a queued message, webhook
delivery or import job) and a sweeper re-enqueues what stays queued. So when Redis cannot
take the task, the request that committed the work still succeeds: the failure is logged and
the row waits for the sweeper.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

BROKER_ERRORS = (BrokerOperationalError, RedisConnectionError, RedisTimeoutError, OSError)


def enqueue(task, *args: Any) -> bool:
    """``task.delay(*args)``; False (logged) when the broker cannot be reached."""
    try:
        task.delay(*args)
    except BROKER_ERRORS as exc:
        logger.warning("could not enqueue %s%r, left for the sweeper: %s", task.name, args, exc)
        return False
    return True


def enqueue_on_commit(task, *args: Any, on_failure: Callable[[], None] | None = None) -> None:
    """Enqueue after the current transaction commits; ``on_failure`` runs if the broker is down."""

    def send() -> None:
        if not enqueue(task, *args) and on_failure is not None:
            on_failure()

    transaction.on_commit(send)
