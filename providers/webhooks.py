"""Signed webhook calls to access providers (SPEC §6).

Each call is a POST of a JSON body with two headers:

- ``X-Beian-Timestamp``: Unix seconds at the time of this attempt;
- ``X-Beian-Signature``: hex HMAC-SHA256 with the provider's webhook secret over
  ``f"{timestamp}.".encode() + body``.

The receiver recomputes the signature over the raw body it received and refuses a timestamp
more than five minutes from its own clock (replay window); ``X-Beian-Delivery`` is the same
on every retry of one event, so a receiver can drop duplicates. ``docs/provider-api.md``
shows a receiver.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import time
from urllib.parse import urlsplit

from django.conf import settings

from beian.delivery import PermanentDeliveryError, TemporaryDeliveryError

from .models import WebhookDelivery

REPLAY_WINDOW_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(
    *, secret: str, timestamp: str, signature: str, body: bytes, now: float | None = None
) -> bool:
    """What a receiver does: a matching signature and a timestamp inside the replay window."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - sent_at) > REPLAY_WINDOW_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 address that carries an IPv4 one (mapped, 6to4, Teredo) reaches that one.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not _is_public(str(embedded)):
            return False
    return ip.is_global and not (
        ip.is_multicast or ip.is_reserved or ip.is_private or ip.is_loopback or ip.is_link_local
    )


DEFAULT_PORTS = {"http": 80, "https": 443}


def check_target(url: str) -> tuple[str, int]:
    """The checked address (and port) to send ``url``'s webhook to.

    Refuses URLs that point into the portal's own network (SSRF), unless allowed by settings:
    tests and local development run a receiver on 127.0.0.1 with
    ``PROVIDER_WEBHOOK_ALLOW_PRIVATE`` on; production leaves it off. The caller connects to
    exactly this address, so a DNS answer that changes after the check (rebinding) cannot
    steer the call inside.
    """
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise PermanentDeliveryError(f"not an http(s) URL: {url}")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError as exc:
        raise PermanentDeliveryError(f"not a valid port: {url}") from exc
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TemporaryDeliveryError(f"cannot resolve {parts.hostname}: {exc}") from exc
    if not infos:
        raise TemporaryDeliveryError(f"cannot resolve {parts.hostname}")
    if not settings.PROVIDER_WEBHOOK_ALLOW_PRIVATE:
        for info in infos:
            if not _is_public(info[4][0]):
                raise PermanentDeliveryError(
                    f"{parts.hostname} resolves to a non-public address ({info[4][0]})"
                )
    return infos[0][4][0], port


def post(delivery: WebhookDelivery, secret: str) -> int:
    """Send one attempt; returns the HTTP status, or raises Temporary/PermanentDeliveryError.

    Every answer but 2xx is retried (receivers are often briefly down or misconfigured);
    redirects are not followed, so a signed body never lands somewhere unexpected.
    """
    import urllib3

    ip, port = check_target(delivery.url)
    parts = urlsplit(delivery.url)
    host = parts.hostname
    body = bytes(delivery.body)
    timestamp = str(int(time.time()))
    named_host = f"[{host}]" if ":" in host else host
    headers = {
        "Host": named_host if port == DEFAULT_PORTS[parts.scheme] else f"{named_host}:{port}",
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "beian-webhook/1",
        "X-Beian-Event": delivery.event,
        "X-Beian-Delivery": str(delivery.idempotency_key),
        "X-Beian-Timestamp": timestamp,
        "X-Beian-Signature": sign(secret, timestamp, body),
    }
    timeout = urllib3.Timeout(
        connect=settings.PROVIDER_WEBHOOK_TIMEOUT, read=settings.PROVIDER_WEBHOOK_TIMEOUT
    )
    common = {"port": port, "timeout": timeout, "retries": False, "maxsize": 1}
    if parts.scheme == "https":
        # Connect to the checked address, but verify the certificate of the named host.
        pool = urllib3.HTTPSConnectionPool(
            ip, server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED", **common
        )
    else:
        pool = urllib3.HTTPConnectionPool(ip, **common)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers=headers,
            redirect=False,
            assert_same_host=False,
            preload_content=False,
        )
        # Only the start of an answer is kept (for the console's "last error").
        start = response.read(1024, decode_content=True) if response.status >= 300 else b""
        response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        raise TemporaryDeliveryError(f"unreachable: {type(exc).__name__}: {exc}") from exc
    finally:
        pool.close()
    if 200 <= response.status < 300:
        return response.status
    text = start.decode("utf-8", "replace")[:200]
    error = TemporaryDeliveryError(f"answered {response.status}: {text}")
    error.status_code = response.status
    raise error
