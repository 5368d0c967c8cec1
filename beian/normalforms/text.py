"""Typed and pasted text before any check: invisible characters and width.

Phones and office software put invisible *format characters* (Unicode category Cf: U+200B
zero width space, U+202A–U+202E bidirectional embeddings such as the U+202D…U+202C iOS wraps
around a copied contact's number, U+2060 word joiner, U+FEFF byte-order mark, U+00AD soft
hyphen, …) into what they copy. A person cannot see them, so no check may count them: they
are dropped first. Full-width letters, digits and punctuation (Ａ１２，（）) typed with a
Chinese input method are folded to their ordinary forms by NFKC (Unicode Standard Annex #15)
wherever the kind of value has no meaning in width (numbers, codes, domains, addresses).

Control characters (Unicode category Cc in the C0 range, U+0000–U+001F, other than tab, line
feed and carriage return) are never text a person typed: U+0000 NUL in particular cannot be
stored by PostgreSQL at all. A value holding one is refused, with a message on its field, at
every entrance (``has_control_character``).
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop


def drop_format_characters(value: str) -> str:
    """``value`` without its Unicode format characters (general category Cf)."""
    if value.isascii():
        return value
    return "".join(ch for ch in value if unicodedata.category(ch) != "Cf")


def folded(value: str | None) -> str:
    """Format characters dropped, NFKC applied, surrounding white space trimmed.

    The form every number, code, domain and address is checked in: ``"\\u202d１３８\\u202c"``
    becomes ``"138"``.
    """
    text = drop_format_characters(value or "")
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return text.strip()


def has_lone_surrogate(value: str) -> bool:
    """True when ``value`` holds a UTF-16 surrogate code point (U+D800–U+DFFF) on its own.

    JSON can carry one (``"\\ud83d"``) although no Unicode text can: such a string cannot be
    encoded as UTF-8 and so can be neither stored nor shown.
    """
    if value.isascii():
        return False
    # UTF-8 encodes every code point but the surrogates (in C, without a loop in Python).
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


# C0 controls but tab, line feed and carriage return (CR LF is how a form sends a new line).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def has_control_character(value: str) -> bool:
    """True when ``value`` holds a C0 control character other than tab, line feed or carriage
    return (U+0000 NUL, U+001B ESC, …): no person types one, and PostgreSQL cannot store NUL."""
    return _CONTROL.search(value) is not None


CONTROL_CHARACTER_MESSAGE = gettext_noop(
    "This text holds an invisible control character (such as a null character): "
    "type it again rather than pasting it."
)
LONE_SURROGATE_MESSAGE = gettext_noop(
    "This text holds a broken character (half of a UTF-16 surrogate pair, often what is "
    "left of a cut-off emoji): type it again."
)


def control_character_message() -> str:
    """What a person is told about a field holding a control character."""
    return _(CONTROL_CHARACTER_MESSAGE)


def unreadable_text_code(value: str) -> str | None:
    """The message id (English, untranslated) for a string no record may hold (a lone
    surrogate or a control character), or None when ``value`` is ordinary text. Stored
    messages keep this id (``beian.coded``) and are translated when read."""
    if has_lone_surrogate(value):
        return LONE_SURROGATE_MESSAGE
    if has_control_character(value):
        return CONTROL_CHARACTER_MESSAGE
    return None


def unreadable_text_message(value: str) -> str | None:
    """``unreadable_text_code`` translated into the active language."""
    code = unreadable_text_code(value)
    return _(code) if code else None


def lone_surrogate_message() -> str:
    """What a person is told about a field holding a lone surrogate."""
    return _(LONE_SURROGATE_MESSAGE)
