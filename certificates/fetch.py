"""Fetching a page of an owner's website for the compliance checker, through the one
outbound-HTTP function (``beian.outbound``: the SSRF guard and a deadline on every read).

At most three redirects, each hop checked afresh; ``COMPLIANCE_CONNECT_TIMEOUT`` per connect,
``COMPLIANCE_READ_TIMEOUT`` per read and ``COMPLIANCE_TOTAL_TIMEOUT`` for the whole exchange,
enforced on the socket. Requests to one host are spaced ``COMPLIANCE_HOST_INTERVAL_SECONDS``
apart across workers. ``COMPLIANCE_ALLOW_PRIVATE_TARGETS`` (tests and local trials only;
refused in production) lifts the address rule; ``COMPLIANCE_RESOLVE`` maps a host to
``ip:port`` like curl --resolve.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_noop

from beian import outbound
from beian.normalforms.domains import domain_unicode

MAX_REDIRECTS = 3
USER_AGENT = "BeianComplianceChecker/1.0 (+ICP filing system)"


class FetchError(Exception):
    """The page could not be fetched; ``reason`` is a ComplianceCheck.Reason value."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class FetchResult:
    url: str
    status: int
    body: bytes
    content_type: str


def _reason(error: outbound.OutboundError) -> str:
    return error.reason if error.reason in {"refused", "too_large"} else "unreachable"


def resolve(host: str, port: int) -> tuple[str, int]:
    """The one address (and port) the checker's request for ``host`` will connect to."""
    try:
        return outbound.resolve(
            host,
            port,
            allow_private=settings.COMPLIANCE_ALLOW_PRIVATE_TARGETS,
            overrides=settings.COMPLIANCE_RESOLVE,
        )
    except outbound.OutboundError as exc:
        raise FetchError(_reason(exc), exc.detail) from exc


def _polite_wait(host: str, deadline: float) -> None:
    """At most one request per host every COMPLIANCE_HOST_INTERVAL_SECONDS (across workers)."""
    interval = settings.COMPLIANCE_HOST_INTERVAL_SECONDS
    if interval <= 0:
        return
    key = f"compliance:host:{host}"
    while not cache.add(key, 1, timeout=max(1, round(interval))):
        if time.monotonic() + 0.2 > deadline:
            raise outbound.OutboundError(
                "unreachable",
                gettext_noop("%(host)s: busy with other checks; try again later."),
                host=domain_unicode(host),
            )
        time.sleep(0.2)


def fetch(url: str, *, max_bytes: int) -> FetchResult:
    """GET ``url`` following at most three redirects, each hop checked afresh; raises
    ``FetchError`` (reason ``refused``, ``unreachable`` or ``too_large``)."""
    try:
        answer = outbound.request(
            "GET",
            url,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity", "Accept": "*/*"},
            allow_private=settings.COMPLIANCE_ALLOW_PRIVATE_TARGETS,
            resolve_overrides=settings.COMPLIANCE_RESOLVE,
            connect_timeout=settings.COMPLIANCE_CONNECT_TIMEOUT,
            read_timeout=settings.COMPLIANCE_READ_TIMEOUT,
            total_timeout=settings.COMPLIANCE_TOTAL_TIMEOUT,
            max_bytes=max_bytes,
            max_redirects=MAX_REDIRECTS,
            before_connect=_polite_wait,
        )
    except outbound.OutboundError as exc:
        raise FetchError(_reason(exc), exc.detail) from exc
    return FetchResult(
        url=answer.url, status=answer.status, body=answer.body, content_type=answer.content_type
    )
