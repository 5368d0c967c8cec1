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
import time

from django.conf import settings
from django.utils.translation import gettext_noop

from beian import outbound
from beian.normalforms.domains import normalize_domain
from beian.outbox import PermanentDeliveryError, TemporaryDeliveryError

from .models import WebhookDelivery

REPLAY_WINDOW_SECONDS = 300
# The Celery task that makes one attempt at a delivery (``providers.tasks.send_webhook``).
SEND_WEBHOOK_TASK = "providers.webhook.send"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Beian-Signature`` of ``body`` sent at ``timestamp`` (Unix seconds, as text):
    hex HMAC-SHA256 with ``secret`` over ``f"{timestamp}.".encode() + body``."""
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


def normal_url(url: str) -> str:
    """``url`` with its host in the domain normal form (``beian.normalforms.domains``: the
    RFC 3490 separators ``。．｡`` are full stops, stored as lower-case A-labels); an IP
    literal is kept as written. Raises ``ValueError`` when the host is no domain or address.
    ``normal_url("http://例子。中国/h") == "http://xn--fsqu00a.xn--fiqs8s/h"``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("no scheme")
    authority, path = rest, ""
    for mark in "/?#":
        if mark in authority:
            authority, tail = authority.split(mark, 1)
            path = mark + tail + path
            break
    userinfo, at, hostport = authority.rpartition("@")
    if hostport.startswith("["):
        host, bracket, port = hostport.partition("]")
        host, port = host + bracket, port
    else:
        host, colon, port = hostport.partition(":")
        port = colon + port
        try:
            ipaddress.ip_address(host)
        except ValueError:
            host = normalize_domain(host)
    return f"{scheme.lower()}://{userinfo}{at}{host}{port}{path}"


def post(delivery: WebhookDelivery, secret: str) -> int:
    """Send one attempt of ``delivery`` signed with ``secret``; returns the HTTP status (2xx).

    Raises ``TemporaryDeliveryError`` (with ``status_code`` when the receiver answered) for
    every answer but 2xx (receivers are often briefly down or misconfigured) and for a
    receiver that cannot be reached now, ``PermanentDeliveryError`` for a target the SSRF
    guard refuses (``beian.outbound``: http(s) on ports 80 and 443, public addresses only,
    unless ``PROVIDER_WEBHOOK_ALLOW_PRIVATE`` or a host mapped by ``PROVIDER_WEBHOOK_RESOLVE``:
    local trials, refused in production). Redirects are not followed, so a signed body never
    lands somewhere unexpected. The whole call, every read included, ends within
    ``PROVIDER_WEBHOOK_TIMEOUT`` seconds.
    """
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
    timeout = settings.PROVIDER_WEBHOOK_TIMEOUT
    try:
        answer = outbound.request(
            "POST",
            delivery.url,
            body=body,
            headers=headers,
            allow_private=settings.PROVIDER_WEBHOOK_ALLOW_PRIVATE,
            resolve_overrides=settings.PROVIDER_WEBHOOK_RESOLVE,
            connect_timeout=timeout,
            read_timeout=timeout,
            total_timeout=timeout,
            # Only the start of an answer is kept (for the console's "last error").
            max_bytes=64 * 1024,
        )
    except outbound.OutboundError as exc:
        # A target the guard refuses stays refused; a name that does not resolve, or a
        # receiver that does not answer, may do so later.
        if exc.reason == "refused":
            raise PermanentDeliveryError(exc.detail) from exc
        raise TemporaryDeliveryError(exc.detail) from exc
    if 200 <= answer.status < 300:
        return answer.status
    text = answer.body[:1024].decode("utf-8", "replace")[:200]
    # Kept in English, the message id, and read in the provider's language (beian.coded).
    error = TemporaryDeliveryError(
        gettext_noop("The receiver answered HTTP %(status)s: %(text)s")
        % {"status": answer.status, "text": text}
    )
    error.status_code = answer.status
    raise error
