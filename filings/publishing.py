"""What the public, the access providers and the certificate see: the approved data."""

from __future__ import annotations

from django.db import transaction

from .models import Domain, Filing, PublishedDomain, PublishedWebsite, Website


@transaction.atomic
def publish(*, filing: Filing) -> list[PublishedWebsite]:
    """Replace the published copy of ``filing`` with its working copy (on approval)."""
    unpublish(filing=filing)  # also tells the public query that its cached answers are stale
    websites = list(Website.objects.filter(filing=filing).order_by("position", "id"))
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
                sponsor_nature=filing.sponsor_nature,
                website_number=w.number,
                website_name=w.name,
                homepage=w.homepage,
                domains=domains.get(w.id, []),
                access_provider_id=w.access_provider_id,
                approved_at=filing.approved_at,
            )
            for w in websites
        ]
    )
    PublishedDomain.objects.bulk_create(
        [
            PublishedDomain(name=name, website=row, filing=filing)
            for row in rows
            for name in dict.fromkeys(row.domains)
        ]
    )
    return rows


def unpublish(*, filing: Filing) -> None:
    PublishedDomain.objects.filter(filing=filing).delete()
    PublishedWebsite.objects.filter(filing=filing).delete()
    transaction.on_commit(_published_data_changed)


def _published_data_changed() -> None:
    # The public query caches its answers; they are stale once the published copy changes.
    from public.services import published_data_changed

    published_data_changed()
