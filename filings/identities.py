"""Which website of the record each website of filing data is (SPEC §3, §12).

A website is its row of the working copy: its ``id`` in the filing JSON and, once approved,
its ``number``, which the bureau gives at approval and never gives again. Data the owner keeps
(saved changes, an API write, an approved version put back) names the row, and the row decides
the number: a draft saved while the website had no number yet reads with the number the
approval gave it since, so that an edit is an edit of that website and its number stays.

A website of the data is the row that, in this order:

1. its ``id`` names (a row of this filing);
2. its ``number`` names (data written before websites carried their id);
3. holds one of its domains, when that row is an approved website the data names in no other
   way (a client that rebuilt the list without ids, a website removed and typed again): the
   domain is what the public query and gating know a website by, so it keeps its number.

Each row is one website at most. A website of the data that is none of the rows is new: no id,
no number, and approval numbers it. A numbered website the data leaves out is one the owner
removed on purpose (or a ``cancel_website`` application's), whose number is retired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beian.normalforms.domains import domain_for_lookup

from .models import Domain, Filing, Website


@dataclass(frozen=True)
class Known:
    """A website row of a filing: its id, its number (None before approval) and its domains
    (lower-case A-labels)."""

    pk: int
    number: str | None
    domains: frozenset[str]


def known_websites(filing: Filing, websites: list[Website] | None = None) -> list[Known]:
    """The website rows of a saved ``filing`` (none for a new one), in page order: from
    ``websites`` (its rows, when the caller read them already) and its domains, one query
    each."""
    if filing.pk is None:
        return []
    domains: dict[int, set[str]] = {}
    for website_id, name in Domain.objects.filter(filing=filing).values_list("website_id", "name"):
        domains.setdefault(website_id, set()).add(name)
    if websites is None:
        websites = list(Website.objects.filter(filing=filing).only("pk", "number", "position"))
    return [
        Known(pk=w.pk, number=w.number, domains=frozenset(domains.get(w.pk, ())))
        for w in sorted(websites, key=lambda w: (w.position, w.pk))
    ]


def _id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _domain_keys(website: dict[str, Any]) -> set[str]:
    domains = website.get("domains")
    if isinstance(domains, str):
        domains = domains.split()
    if not isinstance(domains, list):
        return set()
    return {key for d in domains if isinstance(d, str) and (key := domain_for_lookup(d))}


def match_websites(websites: list[Any], known: list[Known]) -> list[Known | None]:
    """The row (``Known``) each website of ``websites`` (filing JSON, any state of typing) is,
    in order, or None for a new one: by id, then by number, then an approved row sharing a
    domain that nothing else names (see the module). Each row is matched once; reads
    nothing."""
    matched: list[Known | None] = [None] * len(websites)
    claimed: set[int] = set()
    by_pk = {k.pk: k for k in known}
    by_number = {k.number: k for k in known if k.number}
    items = [w if isinstance(w, dict) else {} for w in websites]

    def claim(index: int, row: Known | None) -> None:
        if row is not None and row.pk not in claimed and matched[index] is None:
            matched[index] = row
            claimed.add(row.pk)

    for index, website in enumerate(items):
        claim(index, by_pk.get(_id(website.get("id"))))
    for index, website in enumerate(items):
        number = website.get("number")
        claim(index, by_number.get(number) if isinstance(number, str) else None)
    for index, website in enumerate(items):
        if matched[index] is not None:
            continue
        keys = _domain_keys(website)
        for row in known:
            if row.number and row.pk not in claimed and row.domains & keys:
                claim(index, row)
                break
    return matched


def with_identities(filing: Filing, data: Any, known: list[Known] | None = None) -> Any:
    """``data`` (filing JSON, changed in place and returned) with each website's, app's and
    mini-program's ``id`` and ``number`` those of the row it is (``match_websites``; ``known`` the filing's rows, read
    when not given), both None for a new website. Anything not in the filing shape is left
    as it is, for the structure checks to report."""
    if not isinstance(data, dict):
        return data
    if isinstance(data.get("websites"), list):
        if known is None:
            known = known_websites(filing)
        _identify(data["websites"], known)
    others = [part for part in OTHER_PARTS if isinstance(data.get(part), list) and data[part]]
    if others:
        rows = known_other_services(filing)
        for part in others:
            _identify(data[part], rows[OTHER_PARTS[part]])
    return data


def _identify(services: list[Any], known: list[Known]) -> None:
    for service, row in zip(services, match_websites(services, known), strict=True):
        if isinstance(service, dict):
            service["id"] = row.pk if row is not None else None
            service["number"] = row.number if row is not None else None


# The filing JSON's lists of apps and mini-programs (SPEC §13), and their rows' kind.
OTHER_PARTS = {"apps": Website.Kind.APP, "mini_programs": Website.Kind.MINI_PROGRAM}


def known_other_services(filing: Filing) -> dict[str, list[Known]]:
    """The app rows and the mini-program rows of a saved ``filing``, each kind in page order
    (one query; empty for a new filing). An app or a mini-program is matched by its id, then
    its number (``match_websites``: it has no domains of a website's)."""
    found: dict[str, list[Known]] = {kind: [] for kind in OTHER_PARTS.values()}
    if filing.pk is None:
        return found
    for pk, kind, number in (
        Website.every_kind.filter(filing=filing, kind__in=list(OTHER_PARTS.values()))
        .order_by("position", "pk")
        .values_list("pk", "kind", "number")
    ):
        found[kind].append(Known(pk=pk, number=number, domains=frozenset()))
    return found
