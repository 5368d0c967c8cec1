"""Access gating (Q7, Q8): is a domain filed? One indexed query per batch.

A domain counts as filed when it, or any parent of it, is a published (approved) domain of a
filing whose approved data is valid (``Filing.is_filed``: approved once and not revoked, whatever
application is open, at the bureau or at a stage before it, SPEC §12). The answer's ``number`` is the website number (``…号-n``) of the
website that holds the matching domain: that is what a provider shows and what the public
query and the certificate list for the site; the sponsor number is its prefix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from beian import rawsql
from beian.normalforms.domains import domain_for_lookup, parent_domains
from beian.replicas import read_connection
from filings.models import Domain, Filing, PublishedDomain


@dataclass(frozen=True)
class GatingAnswer:
    """One domain's answer (SPEC §6, §12): ``access`` whether the asking provider holds an
    approved access to the filed website."""

    domain: str
    filed: bool
    number: str | None
    status: str | None
    access: bool = False

    def as_json(self) -> dict:
        return {
            "domain": self.domain,
            "filed": self.filed,
            "number": self.number,
            "status": self.status,
            "access": self.access,
        }


def _filed(status: str) -> bool:
    """Whether a filing holding published rows is filed. Published rows are written only when
    an approval lands (so ``first_approved_at`` is set) and removed on revocation, whose
    domains are then found in the working copy (``_revoked_numbers``); the status check keeps
    the answer right inside the revocation's own transaction."""
    return status != Filing.Status.REVOKED


def check_domains(domains: list[str], *, provider_id: int | None = None) -> list[GatingAnswer]:
    """Answers in the order asked, each with ``domain`` exactly as it was asked; ``access``
    true where the provider ``provider_id`` holds an approved access to the filed website
    holding the domain (SPEC §12: a provider may serve only those). One query, two when some
    domains are not published."""
    normals = [domain_for_lookup(asked) if isinstance(asked, str) else None for asked in domains]
    wanted: dict[str, tuple[str, ...]] = {}
    for normal in normals:
        if normal and normal not in wanted:
            wanted[normal] = parent_domains(normal) or (normal,)
    names = {name for chain in wanted.values() for name in chain}
    published: dict[str, tuple[str, str, bool]] = {}
    if names:
        for name, number, status, providers in _published(sorted(names)):
            # Prefer an entry that is currently filed over a stale one.
            if name not in published or (_filed(status) and not _filed(published[name][1])):
                held = provider_id is not None and _holds(providers, provider_id)
                published[name] = (number, status, held)
    revoked = _revoked_numbers(
        [n for n, chain in wanted.items() if not any(c in published for c in chain)]
    )
    answers = []
    for asked, normal in zip(domains, normals, strict=True):
        if not normal:
            answers.append(GatingAnswer(str(asked), False, None, None))
            continue
        hit = next((published[c] for c in wanted[normal] if c in published), None)
        if hit is not None:
            number, status, held = hit
            filed = _filed(status)
            answers.append(GatingAnswer(asked, filed, number, status, filed and held))
            continue
        gone = next((revoked[c] for c in wanted[normal] if c in revoked), None)
        if gone is not None:
            answers.append(GatingAnswer(asked, False, gone, Filing.Status.REVOKED))
        else:
            answers.append(GatingAnswer(asked, False, None, None))
    return answers


def _holds(providers, provider_id: int) -> bool:
    """Whether ``provider_id`` is among a published row's ``access_providers`` as the driver
    gives the JSON column: its text (read raw, as Django's PostgreSQL backend leaves JSON to
    the field) or a list. The text is parsed only when the id's digits occur in it, which in
    a batch of a thousand is the few rows the provider may hold."""
    if isinstance(providers, str):
        if str(provider_id) not in providers:
            return False
        providers = json.loads(providers or "[]")
    return provider_id in (providers or [])


def _published(names: list[str]) -> list[tuple[str, str, str, Any]]:
    """(domain, website number, filing status, access providers) of the published domains
    among ``names``, by domain: one indexed read of one table (``PublishedDomain`` carries
    the rest). Plain SQL: gating is called for every site a provider serves, and building
    the statement with the ORM cost more than running it."""
    sql = (
        "SELECT name, website_number, filing_status, access_providers "  # noqa: S608
        f"FROM {rawsql.table(PublishedDomain)} "
        f"WHERE {rawsql.one_of('name', names)} ORDER BY name, website_id"
    )
    with read_connection(PublishedDomain).cursor() as cursor:
        cursor.execute(sql, rawsql.one_of_params(names))
        return cursor.fetchall()


def _revoked_numbers(normals: list[str]) -> dict[str, str]:
    """For domains no approved filing holds: the website number of a revoked filing that did,
    so a provider can tell "never filed" from "revoked" (one query for the batch)."""
    names = {name for n in normals for name in (parent_domains(n) or (n,))}
    if not names:
        return {}
    found: dict[str, str] = {}
    for name, number in (
        Domain.objects.filter(
            name__in=names, filing__status=Filing.Status.REVOKED, website__number__isnull=False
        )
        .order_by("name", "-filing__revoked_at")
        .values_list("name", "website__number")
    ):
        found.setdefault(name, number)
    return found
