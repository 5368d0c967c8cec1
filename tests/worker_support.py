"""A real Celery worker process on the test database, for tests that need one."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def start_worker(*, name: str, queues: str = "delivery", env: dict | None = None):
    """Start a solo worker consuming ``queues`` on the test database (PostgreSQL)."""
    db = settings.DATABASES["default"]
    environment = dict(os.environ)
    environment.update(
        {
            "DATABASE_URL": (
                f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
                f"{db['NAME']}"
            ),
            "CELERY_TASK_ALWAYS_EAGER": "false",
        }
    )
    environment.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "beian", "worker", "-Q", queues,
         "--pool=solo", "--concurrency=1", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "-l", "warning", "-n", f"{name}-{os.getpid()}@%h"],
        cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
