"""Provider import of N rows end to end: the CSV path's job, processed by a real worker."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.db import transaction

from accounts.models import User
from beian.celery import app
from providers.import_jobs import import_job_create
from providers.models import ImportJob

ROOT = Path(__file__).resolve().parent.parent


def free_mobile_block() -> str:
    """Two digits ``nn`` such that no account has a mobile number starting ``19nn``: each run's
    clients get ``19nn`` and a seven-digit row number (counted on over the run's rounds), so
    runs never collide. The seed's own owners are ``1900…`` up to 10,000,000 sponsors."""
    for n in range(100):
        if not User.objects.filter(
            mobile__gte=f"19{n:02d}0000000", mobile__lte=f"19{n:02d}9999999"
        ).exists():
            return f"{n:02d}"
    raise SystemExit("every block of bench mobile numbers is used: reseed the database")


def row_payload(run: str, i: int, block: str = "00") -> dict:
    domain = f"imp{run}-{i}.cn"
    return {
        "client": {
            "username": f"imp{run}-{i}",
            "email": f"imp{run}-{i}@bench-import.example.cn",
            "mobile": f"19{block}{i:07d}",
        },
        "filing": {
            "sponsor": {
                "nature": "enterprise",
                "name": f"导入基准{run}{i}科技有限公司",
                "id_type": "uscc",
                "id_number": "91350100M000100Y43",
                "province": "11",
                "address": "北京市海淀区中关村大街1号",
                "principal": {
                    "name": "张三",
                    "id_type": "resident_id",
                    "id_number": "11010519491231002X",
                    "mobile": f"13{int(run, 16) % 10:01d}{i:08d}",
                    "email": f"principal-{run}-{i}@bench-import.example.cn",
                },
            },
            "websites": [
                {
                    "name": f"导入网站{i}",
                    "homepage": f"http://www.{domain}/",
                    "domains": [domain],
                    "ips": ["120.79.1.10"],
                    "services": ["corporate"],
                    "commercial": False,
                    "preapprovals": [],
                    "server_location": "11",
                    "access_provider": "other",
                }
            ],
        },
    }


def measure_import(*, provider, rows: int, block: str, first: int = 0) -> tuple[float, int]:
    """Rows per second from upload to the job's end, and the worker's peak RSS in KiB. The
    clients' mobiles are ``19`` + ``block`` + row numbers from ``first`` (``first + rows`` at
    most 10,000,000, else ValueError); raises SystemExit when the job does not create every
    row."""
    if first + rows > 10_000_000:
        raise ValueError("a block of mobile numbers holds 10,000,000 rows")
    run = uuid.uuid4().hex[:6]
    payloads = [(i - first + 2, row_payload(run, i, block)) for i in range(first, first + rows)]
    # As in production: without DEBUG, which would keep the text of every query in memory.
    env = dict(
        os.environ, CELERY_TASK_ALWAYS_EAGER="false", DEBUG="false", ALLOWED_HOSTS="127.0.0.1"
    )
    worker = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "celery", "-A", "beian", "worker", "-Q", "imports",
         "--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-l", "warning", "-n", f"bench-import-{run}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(3)
        app.conf.task_always_eager = False
        started = time.monotonic()
        with transaction.atomic():
            job = import_job_create(
                provider=provider.provider, by=provider, rows=payloads, filename="bench.csv"
            )
        deadline = started + float(os.environ.get("BENCH_IMPORT_TIMEOUT", "900"))
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        status = Path(f"/proc/{worker.pid}/status").read_text()
        peak = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
        if job.status != ImportJob.Status.DONE or job.created_count != rows:
            raise SystemExit(
                f"import ended {job.status}: {job.created_count} created, "
                f"{job.error_count} errors of {rows}"
            )
        return rows / elapsed, peak
    finally:
        worker.terminate()
        worker.wait(timeout=30)
