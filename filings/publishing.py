"""What the public, the access providers and the certificate see: the approved data."""

from __future__ import annotations

import json

from django.db import transaction
from django.dispatch import Signal

from beian.normalforms.names import name_search_key

from .models import Access, Domain, Filing, PublishedDomain, PublishedWebsite, Website

# Sent once the transaction that changed the published copy has committed, with keyword
# arguments ``domains`` (the domain names whose answers changed, list[str]), ``numbers``
# (the filing numbers, list[str]) and ``providers`` (the ids of the registered providers
# whose accesses in force changed, list[int]); whoever caches answers about published data
# (the public query, SPEC §7; a provider's console) listens and drops them.
published_data_changed = Signal()


@transaction.atomic
def publish(*, filing: Filing) -> list[PublishedWebsite]:
    """Replace the published copy of ``filing`` with its working copy (on approval): each
    website with its domains, and the registered providers holding its accesses (gating's
    ``access``, SPEC §12)."""
    # Also tells the public query that its cached answers are stale.
    providers_before = unpublish(filing=filing)
    websites = list(Website.objects.filter(filing=filing).order_by("position", "id"))
    providers: dict[int, list[int | None]] = {}
    accesses: dict[int, list[dict]] = {}
    for website_id, provider_id, method, location in (
        Access.objects.filter(filing=filing)
        .order_by("position", "id")
        .values_list("website_id", "provider_id", "method", "server_location")
    ):
        providers.setdefault(website_id, []).append(provider_id)
        accesses.setdefault(website_id, []).append(
            {"provider": provider_id, "method": method, "server_location": location}
        )
    domains: dict[int, list[str]] = {}
    for website_id, name in (
        Domain.objects.filter(filing=filing)
        .order_by("position", "id")
        .values_list("website_id", "name")
    ):
        domains.setdefault(website_id, []).append(name)
    rows = PublishedWebsite.objects.bulk_create(
        [
            PublishedWebsite(
                filing=filing,
                website=w,
                province_id=filing.province_id,
                sponsor_number=filing.number,
                sponsor_name=filing.sponsor_name,
                sponsor_name_search=name_search_key(filing.sponsor_name),
                sponsor_nature=filing.sponsor_nature,
                website_number=w.number,
                website_name=w.name,
                website_name_search=name_search_key(w.name),
                homepage=w.homepage,
                domains=domains.get(w.id, []),
                access_provider_id=(providers.get(w.id) or [None])[0],
                access_providers=list(
                    dict.fromkeys(p for p in providers.get(w.id, []) if p is not None)
                ),
                accesses=accesses.get(w.id, []),
                approved_at=filing.approved_at,
            )
            for w in websites
        ]
    )
    published = [
        PublishedDomain(name=name, website=row, filing=filing)
        for row in rows
        for name in dict.fromkeys(row.domains)
    ]
    PublishedDomain.objects.bulk_create(published)
    holding = {p for row in rows for p in row.access_providers}
    _after_commit_changed(
        domains=[d.name for d in published],
        numbers=[filing.number],
        providers=sorted(holding | providers_before),
    )
    return rows


def unpublish(*, filing: Filing) -> set[int]:
    """Take ``filing`` out of the published copy; answers the ids of the registered providers
    that held an access to one of its websites."""
    gone = list(PublishedDomain.objects.filter(filing=filing).values_list("name", flat=True))
    numbers: set[str] = set()
    providers: set[int] = set()
    for number, held in PublishedWebsite.objects.filter(filing=filing).values_list(
        "sponsor_number", "access_providers"
    ):
        numbers.add(number)
        providers.update(json.loads(held) if isinstance(held, str) else held or [])
    PublishedDomain.objects.filter(filing=filing).delete()
    PublishedWebsite.objects.filter(filing=filing).delete()
    _after_commit_changed(
        domains=gone, numbers=[*numbers, filing.number], providers=sorted(providers)
    )
    return providers


def _after_commit_changed(
    *, domains: list[str], numbers: list[str | None], providers: list[int]
) -> None:
    transaction.on_commit(
        lambda: published_data_changed.send(
            sender=Filing,
            domains=domains,
            numbers=[n for n in numbers if n],
            providers=providers,
        )
    )
