"""Faults between the stages of an application (SPEC §12): a Celery worker killed while it
moves applications on leaves nothing half-moved, and the next beat run moves what is due.

The worker runs the beat's task ``filings.verification.lapse`` on the test database. The test
holds the delivery log's table locked from another connection, so the worker stops inside its
transaction, after it changed the applications and before it could queue their messages; then
it is killed. They need PostgreSQL and Redis; without them (no ``CI=true``) they skip.
"""

from __future__ import annotations

import datetime as dt
import signal
import time

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from beian.celery import app
from beian.models import AuditLog, Message
from filings.models import Application, Filing
from filings.tasks import verification_lapse
from tests import filings_support as fs
from tests.factories import UserFactory
from tests.worker_support import start_worker, stop_worker
from tests.worker_support import test_database_url as worker_database_url

ON_POSTGRES = connection.vendor == "postgresql"

pytestmark = [
    pytest.mark.stages,
    pytest.mark.worker,
    pytest.mark.usefixtures("fast_password_hashing"),
    pytest.mark.skipif(
        not (ON_POSTGRES and django_settings.REDIS_URL),
        reason="needs PostgreSQL and Redis (run with CI=true)",
    ),
]


@pytest.fixture
def reference_data(transactional_db):
    from tests.conftest import ensure_reference_data

    ensure_reference_data()


def waiting_for_verification(n: int) -> Filing:
    owner = UserFactory(username=f"lapse{n}", email=f"lapse{n}@example.cn")
    website = fs.website(homepage=f"http://www.lapse{n}.cn/", domains=[f"lapse{n}.cn"])
    sponsor = {
        "name": f"超时演练公司{n}",
        "principal": {**fs.SPONSOR["principal"], "mobile": f"1370001{n:04d}"},
    }
    filing = fs.submitted_filing(owner, fs.data(sponsor=sponsor, websites=[website]))
    assert filing.status == Filing.Status.VERIFICATION
    return filing


def _wait_until_blocked(conninfo: str, timeout: float = 60) -> None:
    """Wait until some other session waits for a lock: the worker, stopped at the table."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(conninfo, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).fetchone()[0]
            if waiting:
                return
            time.sleep(0.2)
    raise AssertionError("the worker never reached the delivery log")


def test_a_worker_killed_while_returning_lapsed_verifications_leaves_them_for_the_next_run(
    reference_data,
):
    filings = [waiting_for_verification(n) for n in range(3)]
    Application.objects.filter(filing__in=filings).update(
        verification_expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    returned_sms = Message.objects.filter(template="application_returned")
    assert not returned_sms.exists()

    conninfo = worker_database_url().replace("postgres://", "postgresql://")
    app.conf.task_always_eager = False
    app.control.purge()
    worker = start_worker(name="lapse-doomed", queues="default")
    try:
        with psycopg.connect(conninfo) as holder:
            holder.execute("LOCK TABLE beian_message IN EXCLUSIVE MODE")
            verification_lapse.apply_async()
            _wait_until_blocked(conninfo)
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=20)
            holder.rollback()
    finally:
        stop_worker(worker)
        app.conf.task_always_eager = True
        app.control.purge()

    # The worker's transaction died with it: nothing half-moved, nothing sent.
    for filing in filings:
        filing.refresh_from_db()
        assert filing.status == Filing.Status.VERIFICATION
        assert Application.objects.get(filing=filing, closed_at=None).status == "verification"
    assert not returned_sms.exists()
    assert not AuditLog.objects.filter(action="application.verification_lapsed").exists()

    # The next beat run returns every one, each owner told once.
    assert verification_lapse() == 3
    assert verification_lapse() == 0
    for filing in filings:
        filing.refresh_from_db()
        application = Application.objects.get(filing=filing, closed_at=None)
        assert (filing.status, application.status) == ("returned", "returned")
        assert [r["field"] for r in application.returns] == ["sponsor.principal.mobile"]
        assert returned_sms.filter(to=filing.owner.mobile).count() == 1
        # One email when it reached the verification, one when it was returned.
        assert (
            Message.objects.filter(to=filing.owner.email, template="application_moved").count() == 2
        )
