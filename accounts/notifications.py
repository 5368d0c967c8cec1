"""Messages to an account holder on their own contacts, in their language (SPEC §9)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from beian.delivery import Attachment, queue_email, queue_sms
from beian.models import Message

from .models import User

EMAIL = Message.Channel.EMAIL
SMS = Message.Channel.SMS


def notify_owner(
    owner: User,
    template: str,
    context: dict[str, Any],
    *,
    channels: Iterable[str] = (EMAIL, SMS),
    confirmed_only: bool = False,
    attachments: Iterable[Attachment] = (),
) -> list[Message]:
    """Queue ``messages/<template>`` to the account's email and mobile (``channels``: those of
    ``EMAIL`` and ``SMS`` the template exists for), each rendered in ``owner.language`` with
    ``context``. A contact the account lacks, or with ``confirmed_only`` one it has not
    confirmed, is skipped. ``attachments`` go with the email. Call it inside the transaction
    that causes the message: sending starts after commit (``beian.delivery``). Returns the
    queued rows (email first); raises nothing of its own."""
    channels = tuple(channels)
    queued: list[Message] = []
    if EMAIL in channels and owner.email and (owner.email_verified_at or not confirmed_only):
        queued.append(
            queue_email(
                to=owner.email,
                template=template,
                context=context,
                language=owner.language,
                attachments=attachments,
            )
        )
    if SMS in channels and owner.mobile and (owner.mobile_verified_at or not confirmed_only):
        queued.append(
            queue_sms(to=owner.mobile, template=template, context=context, language=owner.language)
        )
    return queued
