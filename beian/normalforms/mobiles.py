"""Mainland China mobile numbers (手机号码).

Stored as the 11-digit national number. Accepted as people write and paste them: with
spaces, hyphens or brackets, with +86 or 0086 in front (ITU-T E.164), in full-width digits,
and wrapped in the invisible characters phones copy with a contact
(``"\\u202d13800138000\\u202c"``). Whether a number is a mobile one follows the numbering
plan of +86 as ``phonenumbers`` (libphonenumber) knows it.
"""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .text import folded

_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def normalize_mobile(value: str | None) -> str:
    """The 11-digit national form of a mainland mobile number; ``ValidationError`` coded
    ``invalid_mobile`` or ``not_mobile``.

    ``normalize_mobile("+86 138-0013-8000") == "13800138000"``.
    """
    raw = folded(value)
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
