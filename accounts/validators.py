"""Validators for account data, shared by registration, provider imports and the filing forms.

Each validator raises ``ValidationError`` with a message that says how to fix the value, and
returns the normalised value so that callers store one form only.
"""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _

_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def validate_mainland_mobile(value: str) -> str:
    """A mainland China mobile number; returns its 11-digit national form.

    Accepts the usual ways of writing one: ``13800138000``, ``138 0013 8000``,
    ``+86 138-0013-8000``, ``008613800138000``.
    """
    raw = (value or "").strip()
    message = _("Enter a mainland China mobile number of 11 digits, like 13800138000.")
    if not raw or len(raw) > 24 or not re.fullmatch(r"[0-9+\-\s()]+", raw):
        raise ValidationError(message, code="invalid_mobile")
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(message, code="invalid_mobile") from exc
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        raise ValidationError(message, code="invalid_mobile")
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise ValidationError(
            _("This is not a mobile number. Enter the 11-digit number of a mobile phone."),
            code="not_mobile",
        )
    national = str(number.national_number)
    if len(national) != 11:
        raise ValidationError(message, code="invalid_mobile")
    return national


def normalise_mainland_mobile(value: str) -> str:
    """The 11-digit form of a mobile number (raises ``ValidationError`` if it is not one)."""
    return validate_mainland_mobile(value)


# Top-level domains that never reach a mailbox (RFC 2606, RFC 6761).
_RESERVED_TLDS = {"test", "example", "invalid", "localhost", "local", "internal", "lan", "home"}
_email_syntax = EmailValidator(allowlist=[])


def validate_real_email(value: str) -> str:
    """An address that can receive mail; returns it with the domain in lower case.

    Without network access the check is by form: a dotted domain with a real-looking top-level
    domain, no IP literals, no reserved names.
    """
    address = (value or "").strip()
    message = _("Enter an email address that can receive mail, like name@example.com.")
    try:
        _email_syntax(address)
    except ValidationError as exc:
        raise ValidationError(message, code="invalid_email") from exc
    local, _at, domain = address.rpartition("@")
    domain = domain.lower().rstrip(".")
    labels = domain.split(".")
    tld = labels[-1]
    if (
        len(labels) < 2
        or domain.startswith("[")
        or tld in _RESERVED_TLDS
        or not (tld.isalpha() or tld.startswith("xn--"))
        or len(tld) < 2
    ):
        raise ValidationError(message, code="invalid_email")
    return f"{local}@{domain}"


_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{3,31}")


def validate_username(value: str) -> str:
    """4 to 32 letters, digits, ``_``, ``.`` or ``-``, starting with a letter."""
    username = (value or "").strip()
    if not _USERNAME.fullmatch(username):
        raise ValidationError(
            _("Use 4 to 32 letters, digits, underscores, dots or hyphens, starting with a letter."),
            code="invalid_username",
        )
    return username
