"""Helpers for the provider tests: provider staff, approved filings, a webhook receiver."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.utils import timezone

from accounts.models import User
from filings.models import Filing
from filings.publishing import publish, unpublish
from tests.factories import AccessProviderFactory, FilingFactory, UserFactory, WebsiteFactory

_numbers = iter(range(1, 10**6))


def gating_path(domain: str) -> str:
    """The gating call for one domain (SPEC §6)."""
    return f"/api/v1/provider/domains/{domain}/"


def provider_staff(provider=None, **kwargs) -> User:
    provider = provider or AccessProviderFactory()
    return UserFactory(
        role=User.Role.PROVIDER, origin=User.Origin.STAFF, provider=provider, **kwargs
    )


def approved_filing(*, domains: list[str], provider=None, filed_by=None, **filing_kwargs):
    """A Beijing filing approved and published with one website holding ``domains``."""
    n = next(_numbers)
    filing = FilingFactory(status=Filing.Status.DRAFT, filed_by_provider=filed_by, **filing_kwargs)
    website = WebsiteFactory(
        filing=filing,
        domains=domains,
        homepage=f"http://www.{domains[0]}/",
        access_provider=provider,
        access_provider_other=provider is None,
    )
    filing.number = f"京ICP备2026{n:06d}号"
    filing.status = Filing.Status.APPROVED
    filing.approved_at = filing.first_approved_at = timezone.now()
    filing.save()
    website.number = f"{filing.number}-1"
    website.save()
    publish(filing=filing)
    return filing


def revoke(filing: Filing) -> Filing:
    filing.status = Filing.Status.REVOKED
    filing.revoked_at = timezone.now()
    filing.save()
    unpublish(filing=filing)
    return filing


# Set as settings.PROVIDER_WEBHOOK_RESOLVE by tests that send webhooks to a Receiver.
RECEIVERS: dict[str, str] = {}


class Receiver:
    """A webhook receiver on 127.0.0.1 that records requests and answers scripted statuses."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[dict] = []
        self.statuses = list(statuses or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"receiver-{self.server.server_address[1]}.hooks.test"

    @property
    def url(self) -> str:
        # Webhooks go to ports 80 and 443 only; the test's name is mapped to the receiver's
        # port the way PROVIDER_WEBHOOK_RESOLVE maps a local trial's (``RECEIVERS``).
        return f"http://{self.host}/hooks/beian"

    def __enter__(self) -> Receiver:
        RECEIVERS[self.host] = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def json(self, i: int = -1) -> dict:
        return json.loads(self.requests[i]["body"])
