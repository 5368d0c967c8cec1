"""The HTTP SMS gateway backend against a fake gateway on 127.0.0.1 (SPEC §9).

The fake gateway checks the HMAC signature, deduplicates by the idempotency key and can be
told to fail: refuse for a while, accept and then lose its answer, hang, or reject outright.
Whatever it does, every message ends ``sent`` and is delivered once, or ends ``failed``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings
from django.db import connection

from beian.celery import app
from beian.delivery import queue_sms
from beian.models import Message
from beian.sending import HttpSmsBackend
from tests.worker_support import start_worker, stop_worker

SECRET = "gateway-test-secret"


class FakeGateway:
    """``plan(n, key)`` picks the answer to the n-th request (1-based) for a key:
    ``ok``, ``busy`` (503, not accepted), ``lost`` (accepted, then 500), ``hang`` (accepted,
    then no answer until released), ``reject`` (400)."""

    def __init__(self, plan=None) -> None:
        self.plan = plan or (lambda n, key: "ok")
        self.lock = threading.Lock()
        self.requests: dict[str, int] = {}
        self.delivered: dict[str, dict] = {}
        self.bad_signatures = 0
        self.hanging = threading.Event()
        self.release = threading.Event()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = hmac.new(
                    SECRET.encode(),
                    self.headers["X-Timestamp"].encode() + b"." + body,
                    hashlib.sha256,
                ).hexdigest()
                if not hmac.compare_digest(expected, self.headers.get("X-Signature", "")):
                    with gateway.lock:
                        gateway.bad_signatures += 1
                    return self._answer(401, {"error": "bad signature"})
                payload = json.loads(body)
                key = self.headers["Idempotency-Key"]
                assert payload["id"] == key
                with gateway.lock:
                    gateway.requests[key] = gateway.requests.get(key, 0) + 1
                    n = gateway.requests[key]
                action = gateway.plan(n, key)
                if action == "busy":
                    return self._answer(503, {"error": "busy"})
                if action == "reject":
                    return self._answer(400, {"error": "number blocked"})
                with gateway.lock:
                    gateway.delivered.setdefault(key, payload)
                if action == "lost":
                    return self._answer(500, {"error": "answer lost"})
                if action == "hang":
                    gateway.hanging.set()
                    gateway.release.wait(60)
                return self._answer(200, {"status": "accepted", "id": key})

            def _answer(self, status, data):
                raw = json.dumps(data).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_sms(settings):
    def use(gateway: FakeGateway, secret: str = SECRET, timeout: float = 2.0):
        settings.SMS_BACKEND = "http"
        settings.SMS_GATEWAY_URL = gateway.url
        settings.SMS_GATEWAY_SECRET = secret
        settings.SMS_GATEWAY_KEY_ID = "test"
        settings.SMS_GATEWAY_TIMEOUT = timeout

    return use


pytestmark = pytest.mark.django_db(transaction=True)


def test_a_message_is_posted_signed_with_its_idempotency_key(http_sms):
    with FakeGateway() as gateway:
        http_sms(gateway)
        message = queue_sms(to="13800138000", template="test_notice", context={"name": "网关"})
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    delivered = gateway.delivered[str(message.idempotency_key)]
    assert delivered["to"] == "13800138000" and "网关" in delivered["text"]


def test_the_gateway_failing_then_recovering_delivers_every_message_once(http_sms, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 6

    def plan(n, key):
        # Each message: busy, then accepted with the answer lost, then fine.
        return {1: "busy", 2: "lost"}.get(n, "ok")

    with FakeGateway(plan) as gateway:
        http_sms(gateway)
        messages = [
            queue_sms(to=f"1380013{i:04d}", template="test_notice", context={"name": i})
            for i in range(15)
        ]
    for message in messages:
        message.refresh_from_db()
        assert message.status == Message.Status.SENT
        assert message.attempts == 3
    assert len(gateway.delivered) == 15
    assert all(count == 3 for count in gateway.requests.values())


def test_a_timeout_is_retried_and_the_gateway_counts_the_message_once(http_sms):
    def plan(n, key):
        return "hang" if n == 1 else "ok"

    with FakeGateway(plan) as gateway:
        http_sms(gateway, timeout=0.5)
        message = queue_sms(to="13800138000", template="test_notice", context={"name": "t"})
        gateway.release.set()
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.attempts == 2
    assert gateway.requests[str(message.idempotency_key)] == 2
    assert len(gateway.delivered) == 1


def test_a_refusal_is_final(http_sms):
    with FakeGateway(lambda n, key: "reject") as gateway:
        http_sms(gateway)
        message = queue_sms(to="13800138000", template="test_notice", context={"name": "r"})
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.FAILED, 1)
    assert "400" in message.last_error


def test_a_wrong_secret_is_refused_by_the_gateway_and_recorded(http_sms):
    with FakeGateway() as gateway:
        http_sms(gateway, secret="not-the-secret")
        message = queue_sms(to="13800138000", template="test_notice", context={"name": "s"})
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert gateway.bad_signatures == 1 and gateway.delivered == {}


def test_an_unreachable_gateway_ends_failed_after_the_last_attempt(http_sms, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 3
    gateway = FakeGateway()
    gateway.server.server_close()  # nothing listens on that port any more
    http_sms(gateway)
    message = queue_sms(to="13800138000", template="test_notice", context={"name": "u"})
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.FAILED, 3)
    assert "unreachable" in message.last_error


def test_the_signature_covers_the_timestamp_and_body():
    backend = HttpSmsBackend(url="http://x", key_id="k", secret=SECRET, timeout=1)
    assert backend.sign("1", b"{}") != backend.sign("2", b"{}")
    assert backend.sign("1", b"{}") != backend.sign("1", b"{ }")


# A real worker killed in the middle of a send -------------------------------------------------

needs_services = pytest.mark.skipif(
    not django_settings.REDIS_URL or connection.vendor != "postgresql",
    reason="needs PostgreSQL and Redis (run with CI=true)",
)


def _start_worker(gateway: FakeGateway, name: str) -> subprocess.Popen:
    return start_worker(
        name=name,
        env={
            "SMS_BACKEND": "http",
            "SMS_GATEWAY_URL": gateway.url,
            "SMS_GATEWAY_SECRET": SECRET,
            "SMS_GATEWAY_KEY_ID": "test",
            "SMS_GATEWAY_TIMEOUT": "30",
            # A message whose worker died is handed out again after this many seconds.
            "CELERY_VISIBILITY_TIMEOUT": "2",
        },
    )


_stop = stop_worker


@needs_services
@pytest.mark.worker
def test_a_worker_killed_mid_send_loses_nothing_and_the_gateway_counts_the_message_once():
    app.conf.task_always_eager = False
    app.control.purge()
    workers = []
    try:
        with FakeGateway(lambda n, key: "hang" if n == 1 else "ok") as gateway:
            workers.append(_start_worker(gateway, "doomed"))
            message = queue_sms(to="13800138000", template="test_notice", context={"name": "k"})
            assert gateway.hanging.wait(60), "the worker never reached the gateway"
            os.kill(workers[0].pid, signal.SIGKILL)
            workers[0].wait(timeout=20)
            gateway.release.set()
            message.refresh_from_db()
            # The send's transaction died with the worker: the row is still queued.
            assert (message.status, message.attempts) == (Message.Status.QUEUED, 0)
            time.sleep(3)  # past the visibility timeout
            workers.append(_start_worker(gateway, "rescuer"))
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                message.refresh_from_db()
                if message.status != Message.Status.QUEUED:
                    break
                assert workers[1].poll() is None, workers[1].stdout.read().decode()
                time.sleep(0.3)
            key = str(message.idempotency_key)
            assert message.status == Message.Status.SENT
            assert gateway.requests[key] == 2
            assert list(gateway.delivered) == [key]
    finally:
        app.conf.task_always_eager = True
        for worker in workers:
            _stop(worker)
