"""Sending one saved message through its channel (SPEC §9): email through Django's mail
backend (``EMAIL_URL``), SMS through the backend ``SMS_BACKEND`` names. ``beian.tasks``
calls ``deliver`` for each attempt (``beian.outbox.attempt``); queuing is ``beian.delivery``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import requests
from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from .models import Message
from .outbox import PermanentDeliveryError, TemporaryDeliveryError


def deliver(message: Message) -> None:
    """Hand one saved message to its channel (email through Django's mail backend, SMS
    through ``sms_backend()``). Raises ``TemporaryDeliveryError`` when the channel may take
    it later, ``PermanentDeliveryError`` when it never will."""
    if message.channel == Message.Channel.EMAIL:
        _send_email(message)
    else:
        sms_backend().send(message)


def _send_email(message: Message) -> None:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers={"X-Message-Key": str(message.idempotency_key)},
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")
    for item in message.attachments:
        email.attach(item["filename"], base64.b64decode(item["content_b64"]), item["mimetype"])
    try:
        email.send()
    except (ConnectionError, TimeoutError, OSError) as exc:
        raise TemporaryDeliveryError(str(exc)) from exc


class OutboxSmsBackend:
    """Development and tests: the delivery log row is the message; nothing leaves the machine."""

    def send(self, message: Message) -> None:
        return None


class HttpSmsBackend:
    """A JSON gateway: HMAC-SHA256 signed, with the message's idempotency key.

    The gateway answers 2xx when it has accepted the message (or had accepted the same key
    before), 429 or 5xx when it may accept it later, and any other 4xx when it never will.
    """

    def __init__(self, url: str, key_id: str, secret: str, timeout: float) -> None:
        self.url = url
        self.key_id = key_id
        self.secret = secret.encode()
        self.timeout = timeout

    def sign(self, timestamp: str, body: bytes) -> str:
        return hmac.new(self.secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()

    def send(self, message: Message) -> None:
        """POST the message; raises ``TemporaryDeliveryError`` when the gateway is unreachable
        or answers 429 or 5xx, ``PermanentDeliveryError`` for any other non-2xx answer."""
        body = json.dumps(
            {"id": str(message.idempotency_key), "to": message.to, "text": message.body},
            ensure_ascii=False,
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": str(message.idempotency_key),
            "X-Key-Id": self.key_id,
            "X-Timestamp": timestamp,
            "X-Signature": self.sign(timestamp, body),
        }
        try:
            response = requests.post(self.url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise TemporaryDeliveryError(f"gateway unreachable: {exc}") from exc
        if 200 <= response.status_code < 300:
            return
        detail = f"gateway answered {response.status_code}: {response.text[:200]}"
        if response.status_code == 429 or response.status_code >= 500:
            raise TemporaryDeliveryError(detail)
        raise PermanentDeliveryError(detail)


def sms_backend() -> OutboxSmsBackend | HttpSmsBackend:
    """The SMS channel ``SMS_BACKEND`` names: ``http`` (the gateway, ``SMS_GATEWAY_*``) or
    ``outbox`` (nothing leaves the machine)."""
    if settings.SMS_BACKEND == "http":
        return HttpSmsBackend(
            url=settings.SMS_GATEWAY_URL,
            key_id=settings.SMS_GATEWAY_KEY_ID,
            secret=settings.SMS_GATEWAY_SECRET,
            timeout=settings.SMS_GATEWAY_TIMEOUT,
        )
    return OutboxSmsBackend()
