"""A real Celery worker takes a task from Redis and its effect lands in PostgreSQL."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from beian.celery import app
from beian.delivery import queue_sms
from beian.models import Message

ROOT = Path(__file__).resolve().parent.parent

needs_services = pytest.mark.skipif(
    not settings.REDIS_URL or connection.vendor != "postgresql",
    reason="needs PostgreSQL and Redis (run with CI=true)",
)


@pytest.fixture
def real_worker():
    """A worker process on the test database, consuming the delivery queue."""
    app.conf.task_always_eager = False
    env = dict(os.environ)
    db = settings.DATABASES["default"]
    env["DATABASE_URL"] = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env["CELERY_TASK_ALWAYS_EAGER"] = "false"
    app.control.purge()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "beian",
            "worker",
            "-Q",
            "delivery",
            "--pool=solo",
            "--concurrency=1",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "warning",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield worker
    finally:
        app.conf.task_always_eager = True
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


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
