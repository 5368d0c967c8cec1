"""Issue 9, faults: nothing is lost and nothing is done twice when something breaks.

The five faults and where each is proven:

1. A Celery worker killed in the middle of a delivery:
   ``test_delivery_gateway.test_a_worker_killed_mid_send_loses_nothing_…`` (checked below).
2. Redis stopped and started again while owners register: here, against a Redis server of
   this test's own (the machine's shared one is never touched).
3. PostgreSQL going away during a burst of submissions: here, by terminating the test
   database's connections in the middle of submissions and then refusing new ones, which is
   what a restart does to the portal (the shared cluster itself is never restarted).
4. Two reviewers approving at once: ``test_review_numbers`` (numbers stay unique, checked
   below) and here the same filing approved twice through the console.
5. A provider re-sending an import after a timeout: ``test_providers_imports`` (sent again
   after the first answer, checked below) and here sent again while the first still runs.

They need PostgreSQL and Redis; without them (no ``CI=true``) they skip.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection, connections
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from beian import cache as resilient_cache
from beian.celery import app
from beian.delivery import NOT_ENQUEUED
from beian.models import AuditLog, Message
from beian.tasks import sweep_queued_messages
from certificates.models import Certificate
from filings.models import Domain, Filing, FilingDraft, FilingNumberSequence, FilingVersion
from tests.accounts_support import PASSWORD, last_code
from tests.review_support import beijing_reviewer, filing_data
from tests.worker_support import start_worker, stop_worker

ROOT = Path(__file__).resolve().parent.parent
ON_POSTGRES = connection.vendor == "postgresql"

needs_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (run with CI=true)")
needs_services = pytest.mark.skipif(
    not (ON_POSTGRES and django_settings.REDIS_URL),
    reason="needs PostgreSQL and Redis (run with CI=true)",
)


# The faults proven elsewhere -----------------------------------------------------------------

PROVEN_ELSEWHERE = {
    "a worker killed in the middle of a delivery": (
        "tests.test_delivery_gateway",
        "test_a_worker_killed_mid_send_loses_nothing_and_the_gateway_counts_the_message_once",
    ),
    "bureaus approving different filings at the same moment": (
        "tests.test_review_numbers",
        "test_parallel_approvals_get_distinct_consecutive_numbers",
    ),
    "an import sent again after its answer": (
        "tests.test_providers_imports",
        "test_sending_the_same_rows_again_creates_nothing_twice",
    ),
}


@pytest.mark.parametrize("fault", sorted(PROVEN_ELSEWHERE))
def test_the_faults_proven_elsewhere_keep_their_tests(fault):
    # Imported here, not at the top: a test function imported into this module would run twice.
    module_name, test_name = PROVEN_ELSEWHERE[fault]
    module = importlib.import_module(module_name)
    assert callable(getattr(module, test_name, None)), f"{fault}: {module_name}.{test_name} is gone"


@pytest.fixture
def reference_data(transactional_db):
    """The provinces and the calendar of the data migration, which an earlier transactional
    test's flush emptied (cheaper than ``serialized_rollback``, which reloads every row)."""
    from tests.conftest import ensure_reference_data

    ensure_reference_data()


def run_at_once(*calls):
    """Run the calls in threads released together; their results (or exceptions) in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=20)
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - the caller asserts on it
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a concurrent call did not finish within 60 s"
    return results


# 4. Two reviewers approve the same filing at once ---------------------------------------------


def submitted_filing(n: int = 0, *, owner=None) -> Filing:
    from filings.services import filing_create, filing_save_data, filing_submit
    from tests.factories import UserFactory

    owner = owner or UserFactory()
    filing = filing_create(owner=owner)
    filing_save_data(
        filing=filing,
        by=owner,
        data=filing_data(
            name=f"故障演练公司{n}",
            domains=[f"fault{n}.cn"],
            mobile=f"1370000{n:04d}",
            email=f"fault{n}@example.cn",
        ),
    )
    return filing_submit(filing=filing, by=owner)


@needs_postgres
@pytest.mark.usefixtures("fast_password_hashing")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_two_reviewers_approving_the_same_filing_at_once_one_wins_and_the_other_is_told(
    otp_client,
):
    filing = submitted_filing()
    clients = [otp_client(beijing_reviewer()), otp_client(beijing_reviewer())]
    for client in clients:
        client.cookies["django_language"] = "en"
    url = f"/review/filings/{filing.pk}/approve/"

    answers = run_at_once(*(lambda c=c: c.post(url) for c in clients))

    assert not [a for a in answers if isinstance(a, Exception)], answers
    assert sorted(a.status_code for a in answers) == [302, 400]
    refused = next(a for a in answers if a.status_code == 400)
    assert "Only a filing waiting for review can be approved." in refused.content.decode()
    filing.refresh_from_db()
    assert filing.status == "approved" and filing.number
    assert FilingNumberSequence.objects.get(province_id="11").last_value == 1
    assert Certificate.objects.filter(filing=filing).count() == 1
    assert Message.objects.filter(to=filing.owner.email, template="review_approved").count() == 1
    assert AuditLog.objects.filter(action="filing.approve").count() == 1
    assert FilingVersion.objects.filter(filing=filing, kind="approved").count() == 1


# 5. A provider re-sends an import while the first request still runs --------------------------


@needs_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_an_import_sent_again_while_the_first_still_runs_creates_every_client_once():
    from tests.providers_support import provider_staff
    from tests.test_providers_imports import row

    staff = provider_staff()
    rows = [row(n) for n in range(1, 7)]

    def send():
        api = APIClient()
        api.force_authenticate(staff)
        return api.post("/api/v1/provider/imports/", {"rows": rows}, format="json")

    first, again = run_at_once(send, send)

    assert (first.status_code, again.status_code) == (200, 200), (first.content, again.content)
    answers = [first.json()["results"], again.json()["results"]]
    for i in range(len(rows)):
        statuses = sorted(answer[i]["status"] for answer in answers)
        # Whichever request reached a row first created it; the other reports it as there.
        assert statuses == ["created", "exists"], (
            i,
            answers[0][i]["errors"],
            answers[1][i]["errors"],
        )
        assert answers[0][i]["filing"]["id"] == answers[1][i]["filing"]["id"]
    for n in range(1, 7):
        user = User.objects.get(username=f"client{n}")
        assert Filing.objects.filter(owner=user).count() == 1
        submitted = Message.objects.filter(to=user.email, template="filing_submitted")
        assert submitted.count() == 1


# 2. Redis stops and starts again while owners register ----------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A throwaway redis-server on a free port, no persistence: a restart loses everything."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                assert self.process.poll() is None, "redis-server exited at start"
                time.sleep(0.05)
        raise AssertionError(f"redis-server on port {self.port} did not answer within 10 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


def point_celery_at(url: str) -> None:
    """Publish to ``url`` from now on. The app's pools are looked up again by URL (kombu keeps
    one per broker), so the pool of the shared broker is left open for the tests after this."""
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


def start_delivery_worker(redis_url: str, log) -> subprocess.Popen:
    return start_worker(
        name="faults",
        env={"REDIS_URL": redis_url, "SMS_BACKEND": "outbox", "EMAIL_URL": "memorymail://"},
        output=log,
    )


@pytest.fixture
def own_redis(settings):
    """The test process's cache and broker on a Redis server of this test's own."""
    if not shutil.which("redis-server"):
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true needs redis-server to start a Redis of the test's own")
        pytest.skip("needs redis-server")
    server = RedisServer()
    server.start()
    old_broker = app.conf.broker_url
    settings.CACHES = {
        "default": {
            "BACKEND": "beian.cache.ResilientRedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "faults",
            "OPTIONS": {
                "socket_connect_timeout": 1.0,
                "socket_timeout": 2.0,
                "FALLBACK_RETRY_SECONDS": 0.5,
            },
        }
    }
    point_celery_at(server.url)
    app.conf.task_always_eager = False
    resilient_cache.reset()
    try:
        yield server
    finally:
        server.stop()
        app.conf.task_always_eager = True
        point_celery_at(old_broker)
        resilient_cache.reset()


def register(client: Client, n: int):
    return client.post(
        "/accounts/register/",
        {
            "username": f"outage{n}",
            "password": PASSWORD,
            "password2": PASSWORD,
            "email": f"outage{n}@example.cn",
            "mobile": f"1391000{n:04d}",
        },
        REMOTE_ADDR=f"192.0.2.{n + 1}",
    )


@needs_services
@pytest.mark.worker
@pytest.mark.usefixtures("fast_password_hashing")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_owners_register_while_redis_is_down_and_get_every_code_once_when_it_returns(
    own_redis, settings
):
    from django.core.cache import cache

    cache.set("faults:probe", "up")
    assert cache.get("faults:probe") == "up" and not resilient_cache.redis_is_down()
    own_redis.stop()

    # Down: registration answers, and says that the codes are delayed.
    owners = range(4)
    clients = {}
    for n in owners:
        client = clients[n] = Client()
        client.cookies["django_language"] = "en"
        response = register(client, n)
        assert response.status_code == 302, response.content.decode()[:2000]
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert 'id="codes-delayed"' in page.content.decode()
        assert "Sending codes is delayed for a few minutes." in page.content.decode()
    # The cache itself keeps answering (from this process's memory).
    cache.set("faults:probe", "down")
    assert cache.get("faults:probe") == "down"
    api = Client(REMOTE_ADDR="192.0.2.99").post(
        "/api/v1/accounts/register/",
        {
            "username": "outage9",
            "password": PASSWORD,
            "email": "outage9@example.cn",
            "mobile": "13910009999",
        },
        content_type="application/json",
    )
    assert api.status_code == 201, api.content

    # The limits on codes still hold, counted in this process while Redis is away.
    resent = clients[0].post("/accounts/verify/resend/", {"channel": "sms"}, follow=True)
    assert "Too many codes were sent. Try again in 1 minute." in resent.content.decode()

    usernames = [f"outage{n}" for n in owners] + ["outage9"]
    users = list(User.objects.filter(username__in=usernames))
    assert len(users) == 5
    recipients = [u.mobile for u in users] + [u.email for u in users]
    waiting = Message.objects.filter(to__in=recipients)
    assert waiting.count() == 10
    assert set(waiting.values_list("status", "attempts", "last_error")) == {
        ("queued", 0, NOT_ENQUEUED)
    }

    # Back (empty, as after a restart without persistence): the sweeper hands every waiting
    # message to a worker at its first run, and sweeping again too early sends nothing twice.
    own_redis.start()
    time.sleep(0.6)  # the cache's fallback window (FALLBACK_RETRY_SECONDS) has passed
    assert cache.get("faults:probe") is None and not resilient_cache.redis_is_down()
    with tempfile.TemporaryFile() as log:
        worker = start_delivery_worker(own_redis.url, log)
        try:
            assert sweep_queued_messages() == 10
            settings.DELIVERY_SWEEP_AFTER_SECONDS = 0
            sweep_queued_messages()  # whatever is still queued is enqueued a second time
            deadline = time.monotonic() + 60
            while Message.objects.filter(to__in=recipients, status="queued").exists():
                if worker.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"messages still queued; worker log:\n{log.read().decode()}")
                time.sleep(0.2)
        finally:
            stop_worker(worker)

    for address in recipients:
        sent = list(Message.objects.filter(to=address).values_list("status", "attempts"))
        assert sent == [("sent", 1)], (address, sent)
    # The codes that arrived are the live ones: the owner confirms the account with them.
    owner = next(u for u in users if u.username == "outage1")
    confirmed = clients[1].post(
        "/accounts/verify/",
        {"sms_code": last_code(owner.mobile), "email_code": last_code(owner.email)},
    )
    assert confirmed.status_code == 302
    owner.refresh_from_db()
    assert owner.identity_verified


# 3. PostgreSQL goes away during a burst of submissions ----------------------------------------


class Owner:
    """An owner with a complete unsubmitted filing, signed in through a real HTTP session."""

    def __init__(self, n: int, base_url: str, sessions: list) -> None:
        from filings.services import filing_create, filing_save_data
        from tests.factories import UserFactory

        self.user = UserFactory()
        self.filing = filing_create(owner=self.user)
        self.data = filing_data(
            name=f"重启演练公司{n}",
            domains=[f"restart{n}.cn"],
            mobile=f"1371000{n:04d}",
            email=f"restart{n}@example.cn",
        )
        filing_save_data(filing=self.filing, by=self.user, data=self.data)
        signed_in = Client()
        signed_in.force_login(self.user)
        self.url = f"{base_url}/filing/check/"
        self.http = requests.Session()
        sessions.append(self.http)
        self.http.cookies.set("sessionid", signed_in.cookies["sessionid"].value)
        self.http.cookies.set("django_language", "en")
        page = self.http.get(self.url, timeout=30)
        assert page.status_code == 200, page.text[:500]
        self.csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    def submit(self) -> requests.Response:
        return self.http.post(
            self.url,
            data={"csrfmiddlewaretoken": self.csrf},
            headers={"Referer": self.url},
            allow_redirects=False,
            timeout=60,
        )


def submitted_whole(owner: Owner) -> bool:
    filing = Filing.objects.get(pk=owner.filing.pk)
    if filing.status == "draft":
        return False
    assert filing.status == "pending_review"
    assert filing.submitted_at and filing.review_deadline
    assert not FilingDraft.objects.filter(filing=filing).exists()
    assert (
        list(Domain.objects.filter(filing=filing).values_list("name", flat=True))
        == (owner.data["websites"][0]["domains"])
    )
    assert FilingVersion.objects.filter(filing=filing, kind="submitted").count() == 1
    assert AuditLog.objects.filter(action="filing.submit", target_id=str(filing.pk)).count() == 1
    assert Message.objects.filter(to=owner.user.email, template="filing_submitted").count() == 1
    return True


def still_a_whole_draft(owner: Owner) -> bool:
    filing = Filing.objects.get(pk=owner.filing.pk)
    draft = FilingDraft.objects.filter(filing=filing).first()
    return (
        filing.status == "draft"
        and filing.submitted_at is None
        and filing.review_deadline is None
        and draft is not None
        and draft.data["sponsor"]["name"] == owner.data["sponsor"]["name"]
        and not Domain.objects.filter(filing=filing).exists()
        and not FilingVersion.objects.filter(filing=filing).exists()
        and not AuditLog.objects.filter(action="filing.submit", target_id=str(filing.pk)).exists()
        and not Message.objects.filter(to=owner.user.email, template="filing_submitted").exists()
    )


def is_unavailable_page(response: requests.Response) -> bool:
    return (
        response.status_code == 503
        and response.headers.get("Retry-After") == "30"
        and "The service is briefly unavailable" in response.text
        and "including your filing draft" in response.text
    )


@pytest.fixture
def http_sessions():
    """Closed at the end, so that no keep-alive request thread of the live server lingers."""
    sessions: list[requests.Session] = []
    yield sessions
    for session in sessions:
        session.close()


@pytest.fixture
def admin_connection():
    """A connection of its own, to the maintenance database, to cut the test database off."""
    db = connection.settings_dict
    conn = psycopg.connect(
        dbname="postgres",
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        autocommit=True,
    )
    try:
        yield conn
    finally:
        conn.execute(f'ALTER DATABASE "{db["NAME"]}" ALLOW_CONNECTIONS true')
        conn.close()


@needs_postgres
@pytest.mark.usefixtures("fast_password_hashing")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_postgresql_going_away_during_a_burst_of_submissions_half_writes_nothing(
    live_server, admin_connection, http_sessions, monkeypatch
):
    from filings import submission

    owners = [Owner(n, live_server.url, http_sessions) for n in range(8)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (own_pid,) = cursor.fetchone()

    # Three submissions stop in the middle of their transaction (working copy written, status
    # changed) until the database has cut every connection.
    held = {o.filing.pk for o in owners[:3]}
    arrived = threading.Semaphore(0)
    release = threading.Event()
    detect_conflicts_many = submission.detect_conflicts_many

    def detect_conflicts_held(filings):
        if {filing.pk for filing in filings} & held:
            arrived.release()
            assert release.wait(30), "never released"
        return detect_conflicts_many(filings)

    monkeypatch.setattr(submission, "detect_conflicts_many", detect_conflicts_held)

    answers: dict[int, requests.Response | Exception] = {}

    def submit(owner: Owner) -> None:
        try:
            answers[owner.filing.pk] = owner.submit()
        except Exception as exc:  # noqa: BLE001 - asserted below
            answers[owner.filing.pk] = exc

    name = connection.settings_dict["NAME"]
    threads = {o.filing.pk: threading.Thread(target=submit, args=(o,)) for o in owners}
    for t in threads.values():
        t.start()
    try:
        for _ in held:
            assert arrived.acquire(timeout=30), "a held submission never reached the database"
        for pk, t in threads.items():
            if pk not in held:
                t.join(timeout=30)
        # What a restart does to the connections open at that moment.
        admin_connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> %s",
            [name, own_pid],
        )
    finally:
        release.set()
        for t in threads.values():
            t.join(timeout=60)
    assert len(answers) == len(owners), "a submission never answered"

    failed = []
    for owner in owners:
        answer = answers[owner.filing.pk]
        assert not isinstance(answer, Exception), answer
        if answer.status_code == 302:
            assert answer.headers["Location"].endswith("/filing/submitted/")
            assert submitted_whole(owner)
        else:
            assert is_unavailable_page(answer), (answer.status_code, answer.text[:1000])
            assert still_a_whole_draft(owner), owner.filing.pk
            failed.append(owner)
    # The burst's other submissions went through; the ones cut off mid-transaction left nothing.
    assert {o.filing.pk for o in failed} == held

    # While the database restarts it refuses connections: pages and the API still answer.
    admin_connection.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    try:
        for owner in failed:
            assert is_unavailable_page(owner.submit())
        api = failed[0].http.get(f"{live_server.url}/api/v1/filings/", timeout=30)
        assert api.status_code == 503
        assert api.json()["code"] == "service_unavailable"
    finally:
        admin_connection.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    # Back: the same submissions succeed, once each.
    held.clear()
    for owner in failed:
        assert still_a_whole_draft(owner)
        answer = owner.submit()
        assert answer.status_code == 302, answer.text[:1000]
    for owner in owners:
        assert submitted_whole(owner)


# The pieces, without the services (these run everywhere) --------------------------------------


def unreachable_redis_cache(**options):
    from beian.cache import ResilientRedisCache

    return ResilientRedisCache(
        f"redis://127.0.0.1:{free_port()}/0",
        {"OPTIONS": {"socket_connect_timeout": 0.5, "FALLBACK_RETRY_SECONDS": 60, **options}},
    )


def test_the_cache_answers_from_process_memory_while_redis_is_unreachable():
    resilient_cache.reset()
    try:
        cache = unreachable_redis_cache()
        assert cache.get("missing", "default") == "default"
        assert resilient_cache.redis_is_down()
        # Counting keeps its meaning, so the limits built on it still hold.
        assert cache.add("count", 1) is True
        assert cache.add("count", 1) is False
        assert cache.incr("count") == 2
        cache.set_many({"a": 1, "b": 2})
        assert cache.get_many(["a", "b", "c"]) == {"a": 1, "b": 2}
        cache.delete("a")
        assert not cache.has_key("a")
    finally:
        resilient_cache.reset()


def test_after_a_failure_redis_is_not_asked_again_until_the_retry_window_ends(monkeypatch):
    from django.core.cache.backends.redis import RedisCache

    resilient_cache.reset()
    calls = []

    def counting_get(self, *args, **kwargs):
        calls.append(args)
        raise resilient_cache.RedisConnectionError("refused")

    monkeypatch.setattr(RedisCache, "get", counting_get)
    try:
        cache = unreachable_redis_cache(FALLBACK_RETRY_SECONDS=60)
        for _ in range(5):
            assert cache.get("key") is None
        assert len(calls) == 1  # one connection error, then memory only
        resilient_cache.reset()
        cache.get("key")
        assert len(calls) == 2
    finally:
        resilient_cache.reset()


class BrokerDown:
    name = "tests.broker_down"

    def delay(self, *args):
        from kombu.exceptions import OperationalError

        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_an_enqueue_the_broker_refuses_is_logged_not_raised(caplog):
    from beian.queueing import enqueue

    assert enqueue(BrokerDown(), 7) is False
    assert "left for the sweeper" in caplog.text


@pytest.mark.django_db
def test_a_message_the_broker_did_not_take_is_kept_and_swept_at_once(
    monkeypatch, django_capture_on_commit_callbacks
):
    from beian import tasks
    from beian.delivery import queue_sms

    send_message = tasks.send_message
    monkeypatch.setattr(tasks, "send_message", BrokerDown())
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_sms(to="13800138000", template="test_notice", context={"name": "x"})
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("queued", 0, NOT_ENQUEUED)

    monkeypatch.setattr(tasks, "send_message", send_message)
    # Not DELIVERY_SWEEP_AFTER_SECONDS later: at the sweeper's first run.
    assert sweep_queued_messages() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 1, "")
    assert sweep_queued_messages() == 0


@pytest.mark.django_db
def test_registering_while_the_broker_is_down_says_the_codes_are_delayed(
    monkeypatch, fast_password_hashing, django_capture_on_commit_callbacks
):
    from beian import tasks

    monkeypatch.setattr(tasks, "send_message", BrokerDown())
    client = Client()
    client.cookies["django_language"] = "en"
    with django_capture_on_commit_callbacks(execute=True):
        response = register(client, 1)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Sending codes is delayed for a few minutes." in page
    assert Message.objects.filter(last_error=NOT_ENQUEUED).count() == 2


@pytest.mark.django_db
def test_the_verify_page_says_nothing_of_delays_when_codes_go_out(
    fast_password_hashing, django_capture_on_commit_callbacks
):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = register(client, 2)
    page = client.get(response["Location"]).content.decode()
    assert 'id="codes-delayed"' not in page


def database_error_answer(path: str, language: str = "en"):
    from django.db import OperationalError
    from django.test import RequestFactory
    from django.utils import translation

    from beian.middleware import DatabaseUnavailableMiddleware

    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    request = RequestFactory().post(path)
    with translation.override(language):
        return middleware.process_exception(request, OperationalError("the database restarts"))


def test_a_lost_database_answers_a_clear_503_page():
    response = database_error_answer("/filing/check/")
    page = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "30" and response["Cache-Control"] == "no-store"
    assert "The service is briefly unavailable" in page
    assert "Everything you saved before is safe, including your filing draft." in page
    assert 'href="/filing/check/"' in page


def test_the_503_page_follows_the_language():
    page = database_error_answer("/filing/check/", "zh-hans").content.decode()
    assert '<html lang="zh-CN">' in page


def test_a_lost_database_answers_the_api_in_json():
    response = database_error_answer("/api/v1/filings/")
    assert response.status_code == 503
    assert json.loads(response.content)["code"] == "service_unavailable"


def test_other_errors_are_left_to_the_usual_handling():
    from django.test import RequestFactory

    from beian.middleware import DatabaseUnavailableMiddleware

    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("bug")) is None
