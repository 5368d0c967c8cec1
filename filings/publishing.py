"""What the public, the access providers and the certificate see: the approved data."""

from __future__ import annotations

import json

from django.db import transaction
from django.dispatch import Signal

from beian.normalforms.names import name_search_key

from .models import (
    Access,
    Domain,
    Filing,
    Identifier,
    PublishedDomain,
    PublishedIdentifier,
    PublishedWebsite,
    Website,
)

# Sent once the transaction that changed the published copy has committed, with keyword
# arguments ``domains`` (the domain names whose answers changed, list[str]), ``numbers``
# (the filing numbers, list[str]), ``identifiers`` (the app identifiers and mini-program ids,
# list[str], SPEC §13) and ``providers`` (the ids of the registered providers whose accesses
# in force changed, list[int]); whoever caches answers about published data
# (the public query, SPEC §7; a provider's console) listens and drops them.
published_data_changed = Signal()


@transaction.atomic
def publish(*, filing: Filing) -> list[PublishedWebsite]:
    """Replace the published copy of ``filing`` with its working copy (on approval): each
    website with its domains, each app and mini-program with its identifiers (SPEC §13: the
    distribution platforms' check and the public query), and the registered providers holding
    their accesses (gating's ``access``, SPEC §12)."""
    # Also tells the public query that its cached answers are stale.
    providers_before = unpublish(filing=filing)
    order = list(Website.Kind.values)
    websites = sorted(
        Website.every_kind.filter(filing=filing),
        key=lambda w: (order.index(w.kind), w.position, w.pk),
    )
    identifiers: dict[int, list[tuple[str, str]]] = {}
    for service_id, platform, identifier in (
        Identifier.objects.filter(filing=filing)
        .order_by("position", "id")
        .values_list("service_id", "platform", "identifier")
    ):
        identifiers.setdefault(service_id, []).append((platform, identifier))
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
                domains=domains.get(w.id, []) if w.kind == Website.Kind.WEBSITE else w.app_domains,
                service_type=w.kind,
                identifiers=[
                    {"platform": platform, "identifier": identifier}
                    for platform, identifier in identifiers.get(w.id, [])
                ],
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
    # Gating knows websites by their domains; an app's domains are the hosts it calls, not
    # filed by it.
    published = [
        PublishedDomain(
            name=name,
            website=row,
            filing=filing,
            website_number=row.website_number,
            access_providers=row.access_providers,
        )
        for row in rows
        if row.service_type == Website.Kind.WEBSITE
        for name in dict.fromkeys(row.domains)
    ]
    PublishedDomain.objects.bulk_create(published)
    PublishedIdentifier.objects.bulk_create(
        [
            PublishedIdentifier(
                key=entry["identifier"].lower(),
                identifier=entry["identifier"],
                platform=entry["platform"],
                website=row,
                filing=filing,
                service_number=row.website_number,
            )
            for row in rows
            for entry in row.identifiers
        ]
    )
    holding = {p for row in rows for p in row.access_providers}
    _after_commit_changed(
        domains=[d.name for d in published],
        numbers=[filing.number],
        identifiers=[entry["identifier"] for row in rows for entry in row.identifiers],
        providers=sorted(holding | providers_before),
    )
    return rows


def unpublish(*, filing: Filing) -> set[int]:
    """Take ``filing`` out of the published copy; answers the ids of the registered providers
    that held an access to one of its websites."""
    gone = list(PublishedDomain.objects.filter(filing=filing).values_list("name", flat=True))
    identifiers = list(
        PublishedIdentifier.objects.filter(filing=filing).values_list("identifier", flat=True)
    )
    numbers: set[str] = set()
    providers: set[int] = set()
    for number, held in PublishedWebsite.objects.filter(filing=filing).values_list(
        "sponsor_number", "access_providers"
    ):
        numbers.add(number)
        providers.update(json.loads(held) if isinstance(held, str) else held or [])
    PublishedDomain.objects.filter(filing=filing).delete()
    PublishedIdentifier.objects.filter(filing=filing).delete()
    PublishedWebsite.objects.filter(filing=filing).delete()
    _after_commit_changed(
        domains=gone,
        numbers=[*numbers, filing.number],
        identifiers=identifiers,
        providers=sorted(providers),
    )
    return providers


def _after_commit_changed(
    *,
    domains: list[str],
    numbers: list[str | None],
    identifiers: list[str],
    providers: list[int],
) -> None:
    transaction.on_commit(
        lambda: published_data_changed.send(
            sender=Filing,
            domains=domains,
            numbers=[n for n in numbers if n],
            identifiers=identifiers,
            providers=providers,
        )
    )
