"""Messages to an account holder on their own contacts, in their language (SPEC §9), and the
one language each kind of recipient reads: an owner and a staff member their account's, an
access provider's contact address the provider's (the deployment's, ``LANGUAGE_CODE``, as a
provider keeps none). Whoever's request or task causes a message, it is rendered in its
recipient's language, never in the language that request happened to run in."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from beian.delivery import Attachment, Email, queue_email, queue_sms
from beian.models import Message

from .models import AccessProvider, User

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


def provider_language(provider: AccessProvider) -> str:
    """The language of ``provider``'s emails: its own if it keeps one, else the deployment's
    ``LANGUAGE_CODE`` (a provider is an organisation; its staff's accounts have their own)."""
    return getattr(provider, "language", "") or settings.LANGUAGE_CODE


def staff_language(member: User) -> str:
    """The language of a staff member's emails (bureau, ministry): the account's, else the
    deployment's ``LANGUAGE_CODE``."""
    return member.language or settings.LANGUAGE_CODE


def provider_email(provider: AccessProvider, template: str, context: dict[str, Any]) -> Email:
    """An email of ``messages/<template>`` to ``provider``'s contact address, rendered in
    ``provider_language``; queue it with ``beian.delivery.queue_emails``."""
    return Email(
        to=provider.email, template=template, context=context, language=provider_language(provider)
    )


def staff_email(member: User, template: str, context: dict[str, Any]) -> Email:
    """An email of ``messages/<template>`` to a staff member, rendered in ``staff_language``;
    queue it with ``beian.delivery.queue_emails``."""
    return Email(
        to=member.email, template=template, context=context, language=staff_language(member)
    )
