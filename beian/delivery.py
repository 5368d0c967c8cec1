"""Message delivery (SPEC §9): every email and SMS is first a row in the delivery log.

``queue_email`` and ``queue_sms`` render a template in the recipient's language, save the row
in the caller's transaction and enqueue the sending task only after that transaction commits.
If the process dies between commit and enqueue, or the broker (Redis) cannot take the task,
the request still succeeds and the periodic sweeper finds the row still queued and enqueues it
again; the sending task is safe to run twice.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Message

logger = logging.getLogger(__name__)


class TemporaryDeliveryError(Exception):
    """The gateway may accept the message later: retry with backoff."""


class PermanentDeliveryError(Exception):
    """The message can never be delivered as it is: record it as failed."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str = "application/octet-stream"


def _render(template: str, suffix: str, context: dict[str, Any]) -> str:
    return render_to_string(f"messages/{template}.{suffix}", context).strip()


def _context(context: dict[str, Any] | None) -> dict[str, Any]:
    return {"portal_url": settings.PORTAL_URL, **(context or {})}


@dataclass(frozen=True)
class Email:
    """One email to queue with ``queue_emails``: the arguments of ``queue_email``."""

    to: str
    template: str
    context: dict[str, Any] | None = None
    language: str | None = None
    attachments: tuple[Attachment, ...] = ()


def _email_message(email: Email) -> Message:
    language = email.language or translation.get_language() or settings.LANGUAGE_CODE
    ctx = _context(email.context)
    with translation.override(language):
        subject = " ".join(_render(email.template, "subject.txt", ctx).split())
        body = _render(email.template, "txt", ctx)
        try:
            html_body = _render(email.template, "html", ctx)
        except Exception:  # noqa: BLE001 - the HTML part is optional
            html_body = ""
    return Message(
        channel=Message.Channel.EMAIL,
        to=email.to,
        template=email.template,
        language=language,
        subject=subject,
        body=body,
        html_body=html_body,
        attachments=[
            {
                "filename": a.filename,
                "mimetype": a.mimetype,
                "content_b64": base64.b64encode(a.content).decode("ascii"),
            }
            for a in email.attachments
        ],
    )


def queue_email(
    *,
    to: str,
    template: str,
    context: dict[str, Any] | None = None,
    language: str | None = None,
    attachments: Iterable[Attachment] = (),
) -> Message:
    """Save an email rendered from ``messages/<template>.subject.txt|.txt|.html``."""
    message = _email_message(
        Email(
            to=to,
            template=template,
            context=context,
            language=language,
            attachments=tuple(attachments),
        )
    )
    message.save(force_insert=True)
    _enqueue_after_commit(message)
    return message


def queue_emails(emails: Iterable[Email]) -> list[Message]:
    """``queue_email`` for many emails: the rows in one insert, the tasks enqueued after
    commit. When the broker refuses one, the rest are left to the sweeper at once rather than
    each waiting on the unreachable broker."""
    messages = [_email_message(email) for email in emails]
    if not messages:
        return []
    Message.objects.bulk_create(messages)
    _enqueue_many_after_commit([m.id for m in messages])
    return messages


def queue_sms(
    *, to: str, template: str, context: dict[str, Any] | None = None, language: str | None = None
) -> Message:
    """Save an SMS rendered from ``messages/<template>.sms.txt``."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        body = _render(template, "sms.txt", _context(context))
    message = Message.objects.create(
        channel=Message.Channel.SMS, to=to, template=template, language=language, body=body
    )
    _enqueue_after_commit(message)
    return message


# Written on a queued message whose task the broker did not take; the sweeper sends such
# messages at its next run instead of waiting DELIVERY_SWEEP_AFTER_SECONDS.
NOT_ENQUEUED = "not handed to the task queue (broker unreachable); waiting for the sweeper"


def _enqueue_after_commit(message: Message) -> None:
    from .queueing import enqueue_on_commit
    from .tasks import send_message

    message_id = message.id

    def mark_not_enqueued() -> None:
        try:
            Message.objects.filter(id=message_id, status=Message.Status.QUEUED, attempts=0).update(
                last_error=NOT_ENQUEUED
            )
        except DatabaseError:
            # The row stays queued all the same; the sweeper finds it after the usual delay.
            logger.warning("could not mark message %s as not enqueued", message_id)

    enqueue_on_commit(send_message, message_id, on_failure=mark_not_enqueued)


def _enqueue_many_after_commit(message_ids: list[int]) -> None:
    from django.db import transaction

    from .queueing import enqueue
    from .tasks import send_message

    def send() -> None:
        for position, message_id in enumerate(message_ids):
            if not enqueue(send_message, message_id):
                try:
                    Message.objects.filter(
                        id__in=message_ids[position:], status=Message.Status.QUEUED, attempts=0
                    ).update(last_error=NOT_ENQUEUED)
                except DatabaseError:
                    logger.warning(
                        "could not mark %s messages as not enqueued", len(message_ids) - position
                    )
                return

    transaction.on_commit(send)


def delivery_delayed(*, recipients: Iterable[str], older_than_seconds: int = 60) -> bool:
    """True when a message to one of ``recipients`` is waiting longer than it should: the
    broker did not take it, or it has been queued for more than ``older_than_seconds``."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    return (
        Message.objects.filter(to__in=list(recipients), status=Message.Status.QUEUED)
        .filter(Q(last_error=NOT_ENQUEUED) | Q(created_at__lt=cutoff))
        .exists()
    )


# Backends -----------------------------------------------------------------------------------


def deliver(message: Message) -> None:
    """Hand one message to its channel; raises Temporary/PermanentDeliveryError."""
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
        import requests

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
    if settings.SMS_BACKEND == "http":
        return HttpSmsBackend(
            url=settings.SMS_GATEWAY_URL,
            key_id=settings.SMS_GATEWAY_KEY_ID,
            secret=settings.SMS_GATEWAY_SECRET,
            timeout=settings.SMS_GATEWAY_TIMEOUT,
        )
    return OutboxSmsBackend()


def outbox(*, to: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Every outgoing message, newest first, in the [contract] shape of the outbox command."""
    rows = Message.objects.order_by("-created_at", "-id")
    if to:
        rows = rows.filter(to__iexact=to.strip())
    return [
        {
            "channel": m.channel,
            "to": m.to,
            "subject": m.subject,
            "body": m.body,
            "sent_at": m.sent_at.isoformat() if m.sent_at else None,
        }
        for m in rows[:limit]
    ]
