"""Fetching a page of an owner's website for the compliance checker, through the one
outbound-HTTP function (``beian.outbound``: the SSRF guard and a deadline on every read).

What is the checker's own: at most three redirects, ``COMPLIANCE_CONNECT_TIMEOUT`` per
connect, ``COMPLIANCE_READ_TIMEOUT`` per read and ``COMPLIANCE_TOTAL_TIMEOUT`` for the whole
exchange, the size limit its caller gives, and politeness: requests to one host are spaced
``COMPLIANCE_HOST_INTERVAL_SECONDS`` apart across workers. ``COMPLIANCE_ALLOW_PRIVATE_TARGETS``
(tests and local trials only; refused in production) lifts the address rule;
``COMPLIANCE_RESOLVE`` maps a host to ``ip:port`` like curl --resolve.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_noop

from beian import outbound
from beian.normalforms.domains import domain_unicode

from .models import ComplianceCheck

MAX_REDIRECTS = 3
USER_AGENT = "BeianComplianceChecker/1.0 (+ICP filing system)"

# What each outbound failure means for a check (ComplianceCheck.Reason): a name that does not
# resolve is a site that cannot be reached.
CHECK_REASONS = {
    "refused": ComplianceCheck.Reason.REFUSED.value,
    "too_large": ComplianceCheck.Reason.TOO_LARGE.value,
    "unresolved": ComplianceCheck.Reason.UNREACHABLE.value,
    "unreachable": ComplianceCheck.Reason.UNREACHABLE.value,
}


class FetchError(Exception):
    """The page could not be fetched; ``reason`` is a ComplianceCheck.Reason value
    (``refused``, ``unreachable`` or ``too_large``), ``detail`` the English text of the coded
    message (``beian.outbound.OutboundError.detail``)."""

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


def _polite_wait(host: str, deadline: float) -> None:
    """At most one request per host every COMPLIANCE_HOST_INTERVAL_SECONDS (across workers);
    raises ``OutboundError`` (``unreachable``) when the turn would come after ``deadline``."""
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
    """GET ``url`` (at most ``max_bytes`` of body) following at most three redirects, each hop
    checked afresh. Raises ``FetchError`` (reason ``refused``, ``unreachable`` or
    ``too_large``); an HTTP error status is a ``FetchResult`` like any other."""
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
        raise FetchError(CHECK_REASONS[exc.reason], exc.detail) from exc
    return FetchResult(
        url=answer.url, status=answer.status, body=answer.body, content_type=answer.content_type
    )
