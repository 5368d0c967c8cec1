"""Outbound reads that cannot hang (issue: a server sending one byte a second kept a fetch alive
far past its total timeout, and the public certificate check held a web worker meanwhile)."""

import socket
import threading
import time

import pytest
from django.urls import reverse

from beian import outbound
from certificates.fetch import FetchError, fetch
from providers import webhooks
from providers.models import WebhookDelivery
from tests.factories import AccessProviderFactory

pytestmark = pytest.mark.django_db


class DrippingServer:
    """Answers every connection with headers, then one byte of body a second, for ever."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            while not self.stop.is_set():
                conn.sendall(b"x")
                time.sleep(1)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        time.sleep(0.25)
        self.listener.close()


@pytest.fixture
def dripping():
    server = DrippingServer()
    yield server
    server.close()


def test_a_dripping_server_cannot_stretch_a_fetch_past_its_total_timeout(dripping):
    started = time.monotonic()
    with pytest.raises(outbound.OutboundError) as failed:
        outbound.request(
            "GET",
            "http://drip.example.cn/",
            allow_private=True,
            resolve_overrides={"drip.example.cn": f"127.0.0.1:{dripping.port}"},
            connect_timeout=2,
            read_timeout=2,
            total_timeout=2.5,
            max_bytes=1_000_000,
        )
    assert time.monotonic() - started < 2.5 + 1
    assert failed.value.reason == "unreachable"


def test_the_certificate_checker_ends_within_its_total_timeout(dripping, settings):
    settings.COMPLIANCE_ALLOW_PRIVATE_TARGETS = True
    settings.COMPLIANCE_RESOLVE = {"drip.example.cn": f"127.0.0.1:{dripping.port}"}
    settings.COMPLIANCE_HOST_INTERVAL_SECONDS = 0
    settings.COMPLIANCE_TOTAL_TIMEOUT = 2
    started = time.monotonic()
    with pytest.raises(FetchError) as failed:
        fetch("http://drip.example.cn/cert/bazs.cert", max_bytes=1_000_000)
    assert time.monotonic() - started < 2 + 1
    assert failed.value.reason == "unreachable"


def test_a_webhook_receiver_that_drips_is_cut_off_at_the_webhook_timeout(dripping, settings):
    settings.PROVIDER_WEBHOOK_ALLOW_PRIVATE = True
    settings.PROVIDER_WEBHOOK_RESOLVE = {"drip.example.cn": f"127.0.0.1:{dripping.port}"}
    settings.PROVIDER_WEBHOOK_TIMEOUT = 2
    delivery = WebhookDelivery.objects.create(
        provider=AccessProviderFactory(),
        event="approved",
        url="http://drip.example.cn/hooks/beian",
        body=b"{}",
    )
    started = time.monotonic()
    with pytest.raises(webhooks.TemporaryDeliveryError):
        webhooks.post(delivery, "secret")
    assert time.monotonic() - started < 2 + 1


def test_the_public_certificate_check_answers_at_once_and_shows_the_result_when_ready(
    client, settings, django_capture_on_commit_callbacks, monkeypatch
):
    """The page hands the check to the ``checks`` queue: the request itself never reads from
    the website, however slow its server; the result page shows the answer once written."""
    from certificates import tasks
    from tests.test_certificates_support import approved_filing

    approved_filing(domains=("slow-site.cn",))
    queued = []
    monkeypatch.setattr(tasks.check_public_domain, "delay", lambda *args: queued.append(args))
    started = time.monotonic()
    answer = client.post(reverse("certificates:verify-domain"), {"domain": "slow-site.cn"})
    assert time.monotonic() - started < 1
    assert answer.status_code == 302
    (check_id, domain) = queued[0]
    assert domain == "slow-site.cn"
    waiting = client.get(answer["Location"])
    assert waiting.context["domain_check"]["state"] == "pending"
    assert b'hx-trigger="every 2s"' in waiting.content

    # The worker runs it (the website's server answers nothing useful here).
    settings.COMPLIANCE_ALLOW_PRIVATE_TARGETS = False
    settings.COMPLIANCE_RESOLVE = {"slow-site.cn": "127.0.0.1:80"}
    tasks.check_public_domain.run(check_id, domain)
    ready = client.get(answer["Location"], HTTP_HX_REQUEST="true")
    assert ready.status_code == 200
    assert ready.context["domain_answer"] == "refused"
    assert b"hx-trigger" not in ready.content
    assert [t.name for t in ready.templates][0] == "certificates/includes/domain_check.html"


def test_an_unknown_or_expired_check_is_not_found(client):
    answer = client.get(reverse("certificates:verify-domain-result", args=["no-such-check"]))
    assert answer.status_code == 404


def test_a_check_of_a_domain_no_filing_covers_answers_not_filed_without_fetching(
    client, monkeypatch
):
    from beian import outbound as outbound_module

    monkeypatch.setattr(
        outbound_module, "request", lambda *a, **k: pytest.fail("nothing is fetched")
    )
    answer = client.post(
        reverse("certificates:verify-domain"), {"domain": "nobody-filed.cn"}, follow=True
    )
    assert answer.context["domain_answer"] == "not_filed"
