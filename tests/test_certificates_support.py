"""Shared helpers of the certificate tests (this module holds no tests itself)."""

from __future__ import annotations

import http.server
import threading

from django.utils import timezone

from beian.models import Province
from tests.factories import FilingFactory, UserFactory, WebsiteFactory


def approved_filing(
    *,
    owner=None,
    domains=("example.cn",),
    province="11",
    provider=None,
    submitted_by=None,
    accesses=None,
):
    """An approved filing with its published data and its first certificate; its website has
    ``accesses`` (``Access`` fields, ``[]`` an empty shell) or the factory's one access."""
    from certificates.services import certificate_issue
    from filings.numbers import allocate_sponsor_number, allocate_website_numbers
    from filings.publishing import publish

    owner = owner or UserFactory()
    now = timezone.now()
    filing = FilingFactory(
        owner=owner,
        submitted_by=submitted_by or owner,
        status="approved",
        province=Province.objects.get(code=province),
        filed_by_provider=provider,
        submitted_at=now,
        approved_at=now,
        first_approved_at=now,
    )
    extra = {} if accesses is None else {"accesses": accesses}
    WebsiteFactory(filing=filing, homepage=f"http://{domains[0]}/", domains=list(domains), **extra)
    filing.number = allocate_sponsor_number(province=filing.province, year=now.year)
    filing.save()
    allocate_website_numbers(filing=filing)
    publish(filing=filing)
    certificate_issue(filing=filing)
    return filing


def reissue(filing):
    """What the approval of an amendment does to the certificate."""
    from certificates.services import certificate_issue
    from filings.publishing import publish

    publish(filing=filing)
    return certificate_issue(filing=filing)


class LocalSite:
    """A website on 127.0.0.1 for the checker: ``pages[path] = (status, headers, body)``."""

    def __init__(self) -> None:
        site = self
        self.pages: dict[str, tuple[int, dict, bytes]] = {}
        self.requests: list[tuple[str, str]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                site.requests.append((self.headers.get("Host", ""), self.path))
                status, headers, body = site.pages.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, path: str, body: bytes | str, *, status: int = 200, headers=None) -> None:
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.pages[path] = (status, headers or {"Content-Type": "text/html; charset=utf-8"}, body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
