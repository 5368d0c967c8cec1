"""A real Celery worker process on the test database, for tests that need one."""

import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    """The URL of the database the tests run on (PostgreSQL), for a worker process."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
        f"{db['NAME']}"
    )


def start_worker(
    *,
    name: str,
    queues: str = "delivery",
    env: dict | None = None,
    output=subprocess.PIPE,
    loglevel: str = "warning",
) -> subprocess.Popen:
    """Start a solo worker consuming ``queues`` on the test database; its log goes to
    ``output`` (a pipe, or an open file)."""
    environment = dict(os.environ)
    environment.update({"DATABASE_URL": test_database_url(), "CELERY_TASK_ALWAYS_EAGER": "false"})
    environment.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "beian", "worker", "-Q", queues,
         "--pool=solo", "--concurrency=1", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "-l", loglevel, "-n", f"{name}-{os.getpid()}@%h"],
        cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
    )  # fmt: skip


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
