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
    return ip.is_global and not ip.is_multicast


def check_target(url: str) -> None:
    """Refuse URLs that point into the portal's own network (SSRF), unless allowed by settings.

    Tests and local development run a receiver on 127.0.0.1 with
    ``PROVIDER_WEBHOOK_ALLOW_PRIVATE`` on; production leaves it off.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise PermanentDeliveryError(f"not an http(s) URL: {url}")
    if settings.PROVIDER_WEBHOOK_ALLOW_PRIVATE:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TemporaryDeliveryError(f"cannot resolve {parts.hostname}: {exc}") from exc
    for info in infos:
        if not _is_public(info[4][0]):
            raise PermanentDeliveryError(
                f"{parts.hostname} resolves to a non-public address ({info[4][0]})"
            )


def post(delivery: WebhookDelivery, secret: str) -> int:
    """Send one attempt; returns the HTTP status, or raises Temporary/PermanentDeliveryError.

    Every answer but 2xx is retried (receivers are often briefly down or misconfigured);
    redirects are not followed, so a signed body never lands somewhere unexpected.
    """
    import requests

    check_target(delivery.url)
    body = bytes(delivery.body)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "beian-webhook/1",
        "X-Beian-Event": delivery.event,
        "X-Beian-Delivery": str(delivery.idempotency_key),
        "X-Beian-Timestamp": timestamp,
        "X-Beian-Signature": sign(secret, timestamp, body),
    }
    try:
        response = requests.post(
            delivery.url,
            data=body,
            headers=headers,
            timeout=settings.PROVIDER_WEBHOOK_TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise TemporaryDeliveryError(f"unreachable: {exc}") from exc
    if 200 <= response.status_code < 300:
        return response.status_code
    error = TemporaryDeliveryError(f"answered {response.status_code}: {response.text[:200]}")
    error.status_code = response.status_code
    raise error
