"""Validators for account data, shared by registration, provider imports and the filing forms.

Each validator raises ``ValidationError`` with a message that says how to fix the value, and
returns the normalised value so that callers store one form only.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from beian.normalforms.emails import normalize_email
from beian.normalforms.mobiles import normalize_mobile
from beian.normalforms.text import folded


def validate_mainland_mobile(value: str) -> str:
    """A mainland China mobile number; returns its 11-digit national form
    (``beian.normalforms.mobiles``)."""
    return normalize_mobile(value)


def normalise_mainland_mobile(value: str) -> str:
    """The 11-digit form of a mobile number (raises ``ValidationError`` if it is not one)."""
    return normalize_mobile(value)


def validate_real_email(value: str) -> str:
    """An address that can receive mail, with a lower-case domain
    (``beian.normalforms.emails``)."""
    return normalize_email(value)


_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{3,31}")


def validate_username(value: str) -> str:
    """4 to 32 letters, digits, ``_``, ``.`` or ``-``, starting with a letter."""
    username = folded(value)
    if not _USERNAME.fullmatch(username):
        raise ValidationError(
            _("Use 4 to 32 letters, digits, underscores, dots or hyphens, starting with a letter."),
            code="invalid_username",
        )
    return username


def code_normal_form(value: str | None) -> str:
    """A typed verification or authenticator code (验证码, 动态码) as it is checked: format
    characters dropped, full-width digits folded (``"３３４４１２"`` and ``"508765\\u200b"``
    become ``"334412"`` and ``"508765"``), surrounding spaces trimmed. Every entrance that
    takes a code (pages, API, services) checks this form."""
    return folded(value)
