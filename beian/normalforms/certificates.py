"""Certificate numbers (证件号码) of sponsors and responsible persons.

Every number is first compacted: format characters dropped, NFKC (full-width letters and
digits), spaces and hyphens removed, letters in capitals. Then each type has its own rules:

- ``uscc``, Unified Social Credit Code (统一社会信用代码), GB 32100-2015: 18 characters of
  the 31-character alphabet (no I, O, S, V, Z), digits in places 3–8 (the GB/T 2260 region),
  the 18th a check character (MOD 31, weights 3^i mod 31), computed by ``python-stdnum``.
- ``resident_id``, resident identity card (居民身份证), GB 11643-1999: 17 digits and a check
  digit or X (ISO 7064 MOD 11-2, computed by ``python-stdnum``), the first two a province
  (or 81/82/83 for the residence permits of Hong Kong, Macao and Taiwan residents), digits
  7–14 a real birth date. 15-digit numbers (before 1999) are no longer valid.
- ``foreign_permanent_resident``, Foreign Permanent Resident ID Card (外国人永久居留身份证):
  the 2023 card (GA 2102-2023, issued from 1 December 2023) has 18 characters, 17 digits and
  a check digit or X computed as for the resident identity card, the first digit 9 (a
  foreigner), digits 7–14 the birth date; the older card still in use has 15 characters,
  three Latin letters (the nationality) and 12 digits, with no published check character.
- passports and the travel permits by their printed shape.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from .text import folded

# The certificate types (SPEC §10 ``id_type``); ``filings.models.Filing.IdType`` labels them.
USCC = "uscc"
RESIDENT_ID = "resident_id"
PASSPORT = "passport"
HK_MACAO_PERMIT = "hk_macao_permit"
TAIWAN_PERMIT = "taiwan_permit"
FOREIGN_PERMANENT_RESIDENT = "foreign_permanent_resident"
OTHER = "other"

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―]")


def compact(value: str | None) -> str:
    """A certificate number as it is stored: ``"\\u202d１１０１０５ 1990-0307 123x"`` →
    ``"1101051990030712 3X"`` without the space and hyphen."""
    return _SEPARATORS.sub("", folded(value)).upper()


# GB 32100-2015 ----------------------------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_SHAPE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")


def uscc_check_character(first17: str) -> str:
    """The 18th character of a Unified Social Credit Code (GB 32100-2015)."""
    return stdnum_uscc.calc_check_digit(first17)


def validate_uscc(value: str | None) -> str:
    """The compact code; ``ValidationError`` (``uscc_format``, ``uscc_check``) when wrong."""
    code = compact(value)
    if not _USCC_SHAPE.fullmatch(code):
        raise ValidationError(
            _(
                "A unified social credit code has 18 characters: digits and capital letters "
                "other than I, O, S, V and Z, with digits in places 3 to 8."
            ),
            code="uscc_format",
        )
    if uscc_check_character(code[:17]) != code[17]:
        raise ValidationError(
            _(
                "The 18th character (the check character) of the unified social credit code "
                "is wrong: compare the code with the business licence or registration "
                "certificate."
            ),
            code="uscc_check",
        )
    return code


# GB 11643-1999 ----------------------------------------------------------------------------

# The characters an 18th place can hold.
ID_CHECK_CHARACTERS = "0123456789X"
_ID18_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
# First two digits: a province (GB/T 2260), or 81/82/83 for the residence permits of Hong
# Kong, Macao and Taiwan residents.
RESIDENT_ID_REGIONS = frozenset(
    {
        *(str(n) for n in range(11, 16)),
        *(str(n) for n in range(21, 24)),
        *(str(n) for n in range(31, 38)),
        *(str(n) for n in range(41, 47)),
        *(str(n) for n in range(50, 55)),
        *(str(n) for n in range(61, 66)),
        "71",
        "81",
        "82",
        "83",
    }
)


def resident_id_check_digit(first17: str) -> str:
    """The 18th character of an identity number (GB 11643-1999, ISO 7064 MOD 11-2); the
    2023 Foreign Permanent Resident ID Card uses the same."""
    return stdnum_ric.calc_check_digit(first17 + "0")


def _birth_date_is_real(number: str, today: dt.date | None) -> bool:
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return birth.year >= 1900 and birth <= (today or timezone.localdate())


def _birth_date_error() -> ValidationError:
    return ValidationError(
        _(
            "Digits 7 to 14 of the identity number are the date of birth "
            "(YYYYMMDD) and are not a real date."
        ),
        code="resident_id_birth",
    )


def _check_digit_error() -> ValidationError:
    return ValidationError(
        _(
            "The last character (the check digit) of the identity number is wrong: "
            "compare it with the identity card."
        ),
        code="resident_id_check",
    )


def validate_resident_id(value: str | None, *, today: dt.date | None = None) -> str:
    """The compact number; ``ValidationError`` coded ``resident_id_old``, ``_format``,
    ``_foreign``, ``_region``, ``_birth`` or ``_check`` when wrong."""
    number = compact(value)
    if len(number) == 15 and number.isdigit():
        raise ValidationError(
            _("15-digit identity numbers are no longer valid: enter the 18-character number."),
            code="resident_id_old",
        )
    if not _ID18_SHAPE.fullmatch(number):
        raise ValidationError(
            _("A resident identity number has 18 characters: 17 digits and a last digit or X."),
            code="resident_id_format",
        )
    if number[0] == "9":
        raise ValidationError(
            _(
                "A number starting with 9 is a Foreign Permanent Resident ID Card: choose "
                "that certificate type."
            ),
            code="resident_id_foreign",
        )
    if number[:2] not in RESIDENT_ID_REGIONS:
        raise ValidationError(
            _("The first two digits of the identity number are not a province code."),
            code="resident_id_region",
        )
    if not _birth_date_is_real(number, today):
        raise _birth_date_error()
    if resident_id_check_digit(number[:17]) != number[17]:
        raise _check_digit_error()
    return number


# GA 2102-2023 and the older Foreign Permanent Resident ID Card ---------------------------

_FPR_OLD_SHAPE = re.compile(r"[A-Z]{3}[0-9]{12}")


def validate_foreign_permanent_resident(value: str | None, *, today: dt.date | None = None) -> str:
    """The compact number of a Foreign Permanent Resident ID Card, 2023 or older;
    ``ValidationError`` coded ``fpr_format``, ``resident_id_birth`` or ``resident_id_check``."""
    number = compact(value)
    if _FPR_OLD_SHAPE.fullmatch(number):
        return number
    if not (_ID18_SHAPE.fullmatch(number) and number[0] == "9"):
        raise ValidationError(
            _(
                "A Foreign Permanent Resident ID Card number has 18 characters starting with "
                "9 (cards issued since December 2023), or 15: three letters and 12 digits "
                "(older cards)."
            ),
            code="fpr_format",
        )
    if not _birth_date_is_real(number, today):
        raise _birth_date_error()
    if resident_id_check_digit(number[:17]) != number[17]:
        raise _check_digit_error()
    return number


# Printed shapes ---------------------------------------------------------------------------

_OTHER_SHAPES = {
    # Passports: Chinese ones are a letter and 8 digits; foreign ones vary.
    PASSPORT: (
        re.compile(r"[A-Z0-9]{5,20}"),
        gettext_noop("A passport number has 5 to 20 letters and digits, like E12345678."),
    ),
    # 港澳居民来往内地通行证: H (Hong Kong) or M (Macao) and 8 or 10 digits.
    HK_MACAO_PERMIT: (
        re.compile(r"[HM][0-9]{8}([0-9]{2})?"),
        gettext_noop(
            "A Mainland travel permit for Hong Kong and Macao residents is H or M and 8 or "
            "10 digits, like H12345678."
        ),
    ),
    # 台湾居民来往大陆通行证: 8 digits (older permits 10, with the issue count).
    TAIWAN_PERMIT: (
        re.compile(r"[0-9]{8}([0-9]{2})?"),
        gettext_noop(
            "A Mainland travel permit for Taiwan residents has 8 or 10 digits, like 12345678."
        ),
    ),
    OTHER: (
        re.compile(r"[A-Z0-9()]{4,64}"),
        gettext_noop("Enter the certificate number as printed: 4 to 64 letters and digits."),
    ),
}

ID_TYPES = (
    USCC,
    RESIDENT_ID,
    PASSPORT,
    HK_MACAO_PERMIT,
    TAIWAN_PERMIT,
    FOREIGN_PERMANENT_RESIDENT,
    OTHER,
)


def validate_certificate(id_type: str, value: str | None) -> str:
    """The compact number of a certificate of ``id_type`` (one of ``ID_TYPES``);
    ``ValidationError`` with a message saying how to correct it."""
    if id_type == USCC:
        return validate_uscc(value)
    if id_type == RESIDENT_ID:
        return validate_resident_id(value)
    if id_type == FOREIGN_PERMANENT_RESIDENT:
        return validate_foreign_permanent_resident(value)
    number = compact(value)
    shape, message = _OTHER_SHAPES[id_type]
    if not shape.fullmatch(number):
        raise ValidationError(_(message), code="id_format")
    return number
