"""Filing numbers (备案号) as people type them (SPEC §3 [contract]).

A sponsor number is ``{abbr}ICP备{YYYY}{NNNNNN}号``, a website number that and ``-n``, an
app's ``-nA`` and a mini-program's ``-nX`` (SPEC §13; the letter typed in either case). Typed, the 号 is often left out, ICP may be in lower case or full width, spaces and
invisible characters come with a paste: ``京icp备 2026000001-2`` is ``京ICP备2026000001号-2``.
Every dash is the hyphen-minus: the full-width ``－`` through NFKC, and every character of
Unicode's dash punctuation (category Pd: ‐ ‑ ‒ – — ― ⸺ 〜 …) and the minus signs (− ➖ ﹣),
which word processors and input methods put in place of the one typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .text import folded

# Every dash a typed number may hold, with the hyphen-minus it stands for.
_DASHES = str.maketrans(
    {
        ch: "-"
        # Every dash of category Pd is in the Basic Multilingual Plane but U+10EAD.
        for ch in [*map(chr, range(0x10000)), "\U00010ead"]
        if unicodedata.category(ch) == "Pd" or ch in "\u2212\u2796\ufe63\uff0d"
    }
)

_NUMBER = re.compile(
    r"^(?P<abbr>[^\W\d_])ICP备(?P<digits>\d{10})号?(?:-(?P<n>[1-9]\d{0,4})(?P<letter>[AX])?)?$",
    re.IGNORECASE,
)

# The letter after a service's ``n`` and the kind of service it numbers (SPEC §13 [contract]).
SERVICE_LETTERS = {"": "website", "A": "app", "X": "mini_program"}


@dataclass(frozen=True)
class FilingNumber:
    sponsor: str  # 京ICP备2026000001号
    service: str | None = None  # 京ICP备2026000001号-2, -1A or -1X; None for a sponsor number
    kind: str | None = None  # the service's: "website", "app" or "mini_program"

    @property
    def website(self) -> str | None:
        """A website's number (``…号-2``); None for a sponsor's, an app's or a
        mini-program's."""
        return self.service if self.kind == "website" else None

    @property
    def text(self) -> str:
        return self.service or self.sponsor


def parse_filing_number(value: str | None) -> FilingNumber | None:
    """The number typed in ``value`` in its written form, or None when it is not one:
    ``parse_filing_number("京icp备2026000001-1a").service == "京ICP备2026000001号-1A"``."""
    compact = "".join(folded(value).translate(_DASHES).split())
    match = _NUMBER.match(compact)
    if not match:
        return None
    sponsor = f"{match['abbr']}ICP备{match['digits']}号"
    if not match["n"]:
        return FilingNumber(sponsor)
    letter = (match["letter"] or "").upper()
    return FilingNumber(sponsor, f"{sponsor}-{match['n']}{letter}", SERVICE_LETTERS[letter])
