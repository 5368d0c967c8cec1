"""Typed and pasted text before any check: invisible characters and width.

Phones and office software put invisible *format characters* (Unicode category Cf: U+200B
zero width space, U+202A–U+202E bidirectional embeddings such as the U+202D…U+202C iOS wraps
around a copied contact's number, U+2060 word joiner, U+FEFF byte-order mark, U+00AD soft
hyphen, …) into what they copy. A person cannot see them, so no check may count them: they
are dropped first. Full-width letters, digits and punctuation (Ａ１２，（）) typed with a
Chinese input method are folded to their ordinary forms by NFKC (Unicode Standard Annex #15)
wherever the kind of value has no meaning in width (numbers, codes, domains, addresses).
"""

from __future__ import annotations

import unicodedata

from django.utils.translation import gettext as _


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
    return any("\ud800" <= ch <= "\udfff" for ch in value)


def lone_surrogate_message() -> str:
    """What a person is told about a field holding a lone surrogate."""
    return _(
        "This text holds a broken character (half of a UTF-16 surrogate pair, often what is "
        "left of a cut-off emoji): type it again."
    )
