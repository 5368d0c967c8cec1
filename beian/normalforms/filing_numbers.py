"""Filing numbers (备案号) as people type them (SPEC §3 [contract]).

A sponsor number is ``{abbr}ICP备{YYYY}{NNNNNN}号`` and a website number that and ``-n``.
Typed, the 号 is often left out, ICP may be in lower case or full width, spaces and
invisible characters come with a paste: ``京icp备 2026000001-2`` is ``京ICP备2026000001号-2``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import folded

_NUMBER = re.compile(
    r"^(?P<abbr>[^\W\d_])ICP备(?P<digits>\d{10})号?(?:-(?P<n>[1-9]\d{0,4}))?$", re.IGNORECASE
)


@dataclass(frozen=True)
class FilingNumber:
    sponsor: str  # 京ICP备2026000001号
    website: str | None  # 京ICP备2026000001号-2, or None for a sponsor number

    @property
    def text(self) -> str:
        return self.website or self.sponsor


def parse_filing_number(value: str | None) -> FilingNumber | None:
    """The number typed in ``value`` in its written form, or None when it is not one."""
    compact = "".join(folded(value).split())
    match = _NUMBER.match(compact)
    if not match:
        return None
    sponsor = f"{match['abbr']}ICP备{match['digits']}号"
    return FilingNumber(sponsor, f"{sponsor}-{match['n']}" if match["n"] else None)
