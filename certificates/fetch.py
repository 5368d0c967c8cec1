"""Fetching a page of an owner's website without becoming a tool for SSRF.

Every hop (the first request and each redirect) resolves the host once, refuses private,
loopback, link-local, reserved, multicast and other non-global addresses, and then connects to
exactly the address it checked, so a DNS answer that changes between check and connect
(rebinding) cannot steer the request inside. Only ports 80 and 443, at most three redirects,
timeouts on connect, on each read and on the whole exchange, and a cap on the bytes read.

``COMPLIANCE_ALLOW_PRIVATE_TARGETS`` (tests and local trials only; refused in production)
lifts the address rule. ``COMPLIANCE_RESOLVE`` maps a host to ``ip:port`` like curl --resolve.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings
from django.core.cache import cache

MAX_REDIRECTS = 3
ALLOWED_PORTS = {"http": 80, "https": 443}
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


def _ip_is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        else:
            # 6to4 and Teredo addresses carry an IPv4 address that a relay would reach: it
            # must be public too (2002:7f00:1:: is 127.0.0.1 behind a 6to4 relay).
            embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
            if embedded is not None and not _ip_is_public(embedded):
                return False
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


def resolve(host: str, port: int) -> tuple[str, int]:
    """The one address (and port) the request for ``host`` will connect to."""
    allow_private = settings.COMPLIANCE_ALLOW_PRIVATE_TARGETS
    override = settings.COMPLIANCE_RESOLVE.get(host)
    if override:
        ip_text, _, port_text = override.rpartition(":")
        candidates = [(ip_text.strip("[]"), int(port_text))]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError("unreachable", f"{host}: the name does not resolve") from exc
        candidates = [(info[4][0], port) for info in infos]
    if not candidates:
        raise FetchError("unreachable", f"{host}: the name does not resolve")
    for ip_text, _port in candidates:
        ip = ipaddress.ip_address(ip_text.split("%", 1)[0])
        # All answers must be public: a name that also points inside is refused whole.
        if not allow_private and not _ip_is_public(ip):
            raise FetchError("refused", f"{host} resolves to a non-public address {ip}")
    return candidates[0]


def _polite_wait(host: str, deadline: float) -> None:
    """At most one request per host every COMPLIANCE_HOST_INTERVAL_SECONDS (across workers)."""
    interval = settings.COMPLIANCE_HOST_INTERVAL_SECONDS
    if interval <= 0:
        return
    key = f"compliance:host:{host}"
    while not cache.add(key, 1, timeout=max(1, round(interval))):
        if time.monotonic() + 0.2 > deadline:
            raise FetchError("unreachable", f"{host}: busy with other checks, try again later")
        time.sleep(0.2)


def _one_request(url: str, *, max_bytes: int, deadline: float) -> tuple[int, dict, bytes]:
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    host = (parts.hostname or "").lower()
    if scheme not in ALLOWED_PORTS or not host:
        raise FetchError("refused", f"{url}: only http and https addresses are fetched")
    try:
        port = parts.port or ALLOWED_PORTS[scheme]
    except ValueError as exc:
        raise FetchError("refused", f"{url}: bad port") from exc
    if port not in ALLOWED_PORTS.values() and host not in settings.COMPLIANCE_RESOLVE:
        raise FetchError("refused", f"{url}: only ports 80 and 443 are fetched")
    ip, connect_port = resolve(host, port)
    _polite_wait(host, deadline)
    remaining = max(0.5, deadline - time.monotonic())
    timeout = urllib3.Timeout(
        connect=min(settings.COMPLIANCE_CONNECT_TIMEOUT, remaining),
        read=min(settings.COMPLIANCE_READ_TIMEOUT, remaining),
    )
    host_header = host if port == ALLOWED_PORTS[scheme] else f"{host}:{port}"
    common = {"port": connect_port, "timeout": timeout, "retries": False, "maxsize": 1}
    if scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            ip, server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED", **common
        )
    else:
        pool = urllib3.HTTPConnectionPool(ip, **common)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        response = pool.urlopen(
            "GET",
            path,
            headers={
                "Host": host_header,
                "User-Agent": USER_AGENT,
                "Accept-Encoding": "identity",
                "Accept": "*/*",
            },
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
    except urllib3.exceptions.HTTPError as exc:
        raise FetchError("unreachable", f"{url}: {type(exc).__name__}") from exc
    try:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.stream(16 * 1024, decode_content=True):
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError("too_large", f"{url}: larger than {max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise FetchError("unreachable", f"{url}: took too long")
                chunks.append(chunk)
        except urllib3.exceptions.HTTPError as exc:
            raise FetchError("unreachable", f"{url}: {type(exc).__name__}") from exc
        return response.status, dict(response.headers), b"".join(chunks)
    finally:
        response.release_conn()
        pool.close()


def fetch(url: str, *, max_bytes: int) -> FetchResult:
    """GET ``url`` following at most three redirects, each hop checked afresh."""
    deadline = time.monotonic() + settings.COMPLIANCE_TOTAL_TIMEOUT
    for _hop in range(MAX_REDIRECTS + 1):
        status, headers, body = _one_request(url, max_bytes=max_bytes, deadline=deadline)
        lowered = {k.lower(): v for k, v in headers.items()}
        if status in (301, 302, 303, 307, 308) and lowered.get("location"):
            url = urljoin(url, lowered["location"])
            continue
        return FetchResult(
            url=url, status=status, body=body, content_type=lowered.get("content-type", "")
        )
    raise FetchError("unreachable", f"more than {MAX_REDIRECTS} redirects")
