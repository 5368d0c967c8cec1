"""A real Celery worker takes a task from Redis and its effect lands in PostgreSQL."""

import time

import pytest
from django.conf import settings
from django.db import connection

from beian.celery import app
from beian.delivery import queue_sms
from beian.models import Message
from tests.worker_support import start_worker, stop_worker

needs_services = pytest.mark.skipif(
    not settings.REDIS_URL or connection.vendor != "postgresql",
    reason="needs PostgreSQL and Redis (run with CI=true)",
)


@pytest.fixture
def real_worker():
    """A worker process on the test database, consuming the delivery queue."""
    app.conf.task_always_eager = False
    app.control.purge()
    worker = start_worker(name="test")
    try:
        yield worker
    finally:
        app.conf.task_always_eager = True
        stop_worker(worker)


@needs_services
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_sends_a_queued_sms(real_worker):
    message = queue_sms(to="13800138000", template="test_notice", context={"name": "worker"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        message.refresh_from_db()
        if message.status == Message.Status.SENT:
            break
        assert real_worker.poll() is None, real_worker.stdout.read().decode()
        time.sleep(0.2)
    assert message.status == Message.Status.SENT
    assert message.attempts == 1
