"""Message delivery (SPEC §9): every email and SMS is first a row in the delivery log.

``queue_email`` and ``queue_sms`` render a template in the recipient's language, save the row
in the caller's transaction and enqueue the sending task only after that transaction commits.
If the process dies between commit and enqueue, or the broker (Redis) cannot take the task,
the request still succeeds and the periodic sweeper finds the row still queued and enqueues it
again; the sending task is safe to run twice (``beian.outbox``). Sending itself is
``beian.sending``.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from . import tasks
from .models import Message
from .outbox import NOT_ENQUEUED, enqueue_after_commit


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str = "application/octet-stream"


def _render(template: str, suffix: str, context: dict[str, Any]) -> str:
    return render_to_string(f"messages/{template}.{suffix}", context).strip()


def _template_context(context: dict[str, Any] | None) -> dict[str, Any]:
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
    ctx = _template_context(email.context)
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
    """Save an email rendered from ``messages/<template>.subject.txt|.txt|.html`` (the HTML
    part only if that template exists) in ``language`` (default: the active one) with
    ``context`` and ``portal_url``; it is sent after the caller's transaction commits. Returns
    the saved ``Message``; raises ``TemplateDoesNotExist`` for a missing subject or text."""
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
    _enqueue_after_commit([message])
    return message


def queue_emails(emails: Iterable[Email]) -> list[Message]:
    """``queue_email`` for many emails: the rows in one insert, the tasks enqueued after
    commit. When the broker refuses one, the rest are left to the sweeper at once rather than
    each waiting on the unreachable broker."""
    messages = [_email_message(email) for email in emails]
    if not messages:
        return []
    Message.objects.bulk_create(messages)
    _enqueue_after_commit(messages)
    return messages


def queue_sms(
    *, to: str, template: str, context: dict[str, Any] | None = None, language: str | None = None
) -> Message:
    """Save an SMS to the mobile ``to`` rendered from ``messages/<template>.sms.txt`` in
    ``language`` (default: the active one); it is sent after the caller's transaction
    commits. Returns the saved ``Message``; raises ``TemplateDoesNotExist``."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        body = _render(template, "sms.txt", _template_context(context))
    message = Message.objects.create(
        channel=Message.Channel.SMS, to=to, template=template, language=language, body=body
    )
    _enqueue_after_commit([message])
    return message


@dataclass(frozen=True)
class Sms:
    """One SMS to queue with ``queue_sms_many``: the arguments of ``queue_sms``."""

    to: str
    template: str
    context: dict[str, Any] | None = None
    language: str | None = None


def queue_sms_many(messages: Iterable[Sms]) -> list[Message]:
    """``queue_sms`` for many messages: the rows in one insert, the tasks enqueued after
    commit."""
    rows = []
    for sms in messages:
        language = sms.language or translation.get_language() or settings.LANGUAGE_CODE
        with translation.override(language):
            body = _render(sms.template, "sms.txt", _template_context(sms.context))
        rows.append(
            Message(
                channel=Message.Channel.SMS,
                to=sms.to,
                template=sms.template,
                language=language,
                body=body,
            )
        )
    if not rows:
        return []
    Message.objects.bulk_create(rows)
    _enqueue_after_commit(rows)
    return rows


def _enqueue_after_commit(messages: list[Message]) -> None:
    # The task is looked up when called, so that a test may stand a broken broker in for it.
    enqueue_after_commit(tasks.send_message, Message, [m.id for m in messages])


def delivery_delayed(*, recipients: Iterable[str], older_than_seconds: int = 60) -> bool:
    """True when a message to one of ``recipients`` is waiting longer than it should: the
    broker did not take it, or it has been queued for more than ``older_than_seconds``."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    return (
        Message.objects.filter(to__in=list(recipients), status=Message.Status.QUEUED)
        .filter(Q(last_error=NOT_ENQUEUED) | Q(created_at__lt=cutoff))
        .exists()
    )


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
