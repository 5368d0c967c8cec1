"""Names of sponsors (主办单位全称 or a person's name), websites and responsible persons.

A name is *stored* as typed, cleaned of what nobody sees or means: format characters
dropped, runs of white space made one space and trimmed, and every look-alike of the middle
dot in transliterated names (阿卜杜·热合曼) written as U+00B7 MIDDLE DOT, the character the
national standards (GB 18030, the resident identity card) use.

A name is *compared and searched* by its key (``name_key``), in which two writings a person
reads as the same name are equal:

- format characters dropped, then NFKC: full-width brackets, letters and digits are the
  ordinary ones (``（深圳）`` = ``(深圳)``);
- the middle-dot look-alikes are one character, and so is a full stop (``.``, or the
  full-width ``．`` through NFKC) between two letters of a script other than Latin
  (``阿卜杜.热合曼`` = ``阿卜杜·热合曼``), while ``Example.com Ltd`` keeps its dot;
- Traditional characters are folded to Simplified with OpenCC's ``t2s`` conversion
  (``華為`` = ``华为``);
- white space carries no meaning next to a Chinese character (``北京 猎虫`` = ``北京猎虫``)
  and is kept, as one space, only between two Latin letters or digits (``ABC Tech``);
- Latin letters are case-folded.

Conflict detection (Q17) compares these keys and the public query (Q20) searches them; both
are stored beside the names (``Filing.sponsor_name_key``, ``PublishedWebsite.*_search``).
NFKC can make a key much longer than its name (``㍿`` is four characters, ``ﷺ`` eighteen):
the compared key (``name_key``) is bounded for its B-tree index, and a long one ends in a
digest of the whole key, so that cutting never makes two different names equal; the searched
key (``name_search_key``) is kept whole.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

import opencc

from .text import drop_format_characters

# Characters written for the middle dot of transliterated names, by people and by software:
# MIDDLE DOT, GREEK ANO TELEIA, BULLET, HYPHENATION POINT, BULLET OPERATOR, DOT OPERATOR,
# KATAKANA MIDDLE DOT, HALFWIDTH KATAKANA MIDDLE DOT, WORD SEPARATOR MIDDLE DOT, LATIN LETTER
# SINOLOGICAL DOT, HANGUL LETTER ARAEA, RUNIC SINGLE PUNCTUATION, Z NOTATION SPOT, ONE DOT
# LEADER, DOT ABOVE (U+02D9, which NFKC would turn into a space and a combining mark); SMALL /
# FULLWIDTH-less variants come through NFKC to one of these.
MIDDLE_DOT = "\u00b7"
MIDDLE_DOT_LOOKALIKES = (
    "\u00b7\u0387\u2022\u2027\u2219\u22c5\u30fb\uff65\u2e31\ua78f\u318d\u16eb\u2981\u2024\u02d9"
)
# A full stop between two letters of a non-Latin script (after NFKC, which makes U+FF0E a
# full stop); Latin letters are those of the Latin-1 to Latin Extended-B and Latin Extended
# Additional blocks.
_NON_LATIN_LETTER = "[^\\W\\d_\u0000-\u024f\u1e00-\u1eff]"
_FULL_STOP_AS_DOT = re.compile(f"(?<={_NON_LATIN_LETTER})\\.(?={_NON_LATIN_LETTER})")
_DOTS = str.maketrans(dict.fromkeys(MIDDLE_DOT_LOOKALIKES, MIDDLE_DOT))
_SPACE_RUN = re.compile(r"\s+")
# A space is kept only between two ASCII letters or digits.
_MEANINGLESS_SPACE = re.compile(r"(?<![0-9a-z]) | (?![0-9a-z])")

MAX_KEY_LENGTH = 128
# A key longer than MAX_KEY_LENGTH keeps its first characters and ends in "#" and 16 hex
# digits of the SHA-256 of the whole key.
_DIGEST_LENGTH = 16


@lru_cache(maxsize=1)
def _to_simplified():
    return opencc.OpenCC("t2s")


def clean_name(value: str | None) -> str:
    """The form a name is stored and shown in (see the module's docstring)."""
    text = drop_format_characters(value or "").translate(_DOTS)
    return _SPACE_RUN.sub(" ", text).strip()


def _key(value: str | None, *, simplify: bool) -> str:
    text = drop_format_characters(value or "").translate(_DOTS)
    text = unicodedata.normalize("NFKC", text).translate(_DOTS)
    text = _FULL_STOP_AS_DOT.sub(MIDDLE_DOT, text)
    if simplify and not text.isascii():
        text = _to_simplified().convert(text)
    text = _SPACE_RUN.sub(" ", text).strip().casefold()
    return _MEANINGLESS_SPACE.sub("", text)


def _bounded(key: str) -> str:
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:_DIGEST_LENGTH]
    return f"{key[: MAX_KEY_LENGTH - _DIGEST_LENGTH - 1]}#{digest}"


@lru_cache(maxsize=65536)
def name_key(value: str | None) -> str:
    """The key a name is compared by (at most 128 characters; Q17 conflicts).

    ``name_key("北京猎虫（北京） 科技") == name_key("北京獵蟲(北京)科技")``. A key longer than
    128 characters is its first 111, ``#`` and 16 hex digits of the SHA-256 of the whole key,
    so two names have one key only when their whole keys are equal (but for a 64-bit digest
    collision).
    """
    return _bounded(_key(value, simplify=True))


@lru_cache(maxsize=65536)
def name_search_key(value: str | None) -> str:
    """The whole key a name is searched by (the public query, Q20), of any length: a part
    of a name is found in it as a substring."""
    return _key(value, simplify=True)


def written_in_other_script(a: str, b: str) -> bool:
    """True when two names have one key only because Traditional characters were folded to
    Simplified (``華為`` and ``华为``): the reviewer is told so, since the writings differ
    in more than spacing, width or punctuation."""
    return name_key(a) == name_key(b) and _key(a, simplify=False) != _key(b, simplify=False)
