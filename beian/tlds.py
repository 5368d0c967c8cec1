"""The top-level domains approved for filing, as every process reads them.

Each process keeps the list in memory and reloads it when the version stamp in the cache
changes (bumped on every save in the admin), so checking a domain never queries the database
more than once per change.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from django.core.cache import cache

from .models import TOP_LEVEL_DOMAINS_VERSION_KEY, TopLevelDomain
from .normalforms.domains import normalize_domain

_loaded: frozenset[str] | None = None
_loaded_version: str | None = None

# Shipped with the code: the list the database starts with (migration
# ``beian.0005_approved_top_level_domains``), with its source and date.
SHIPPED_LIST = Path(__file__).with_name("approved_tlds.csv")
SHIPPED_SOURCE = (
    "据工业和信息化部公布的顶级域名许可信息整理，请以最新公告核对 "
    "(compiled from MIIT's published top-level domain approvals; check against the latest notice)"
)
SHIPPED_DATE = dt.date(2026, 11, 30)


def approved_top_level_domains() -> frozenset[str]:
    """The approved top-level domains as A-labels (``{"cn", "com", "xn--fiqs8s", …}``)."""
    global _loaded, _loaded_version
    version = cache.get(TOP_LEVEL_DOMAINS_VERSION_KEY)
    if version is None:
        version = "initial"
        cache.add(TOP_LEVEL_DOMAINS_VERSION_KEY, version, timeout=None)
    # An empty list is never the ministry's: it is a database being loaded (or emptied by a
    # test), so it is read again rather than kept.
    if not _loaded or version != _loaded_version:
        _loaded = frozenset(TopLevelDomain.objects.values_list("name", flat=True))
        _loaded_version = version
    return _loaded


def shipped_top_level_domains() -> list[str]:
    """The A-labels of the shipped list, in its order."""
    with SHIPPED_LIST.open(encoding="utf-8") as handle:
        return [normalize_domain(row["tld"]) for row in csv.DictReader(handle)]
