"""The migration that makes accesses the record's third part (filings 0012, SPEC §12): every
website gets one access from its provider, server location and IPs, and every published
website its approved access; numbers, certificates and the public query are unchanged."""

from __future__ import annotations

import pytest

from tests.migration_support import migrate, migrate_to_latest

BEFORE = [("filings", "0011_application_stage_statistics")]


@pytest.mark.django_db(transaction=True)
def test_every_website_gets_its_one_access_and_the_published_copy_its_provider():
    from tests.factories import AccessProviderFactory, UserFactory

    provider = AccessProviderFactory()
    owner, other_owner = UserFactory(), UserFactory()
    apps = migrate(BEFORE)
    try:
        Filing = apps.get_model("filings", "Filing")
        Website = apps.get_model("filings", "Website")
        Published = apps.get_model("filings", "PublishedWebsite")
        filing = Filing.objects.create(
            owner_id=owner.pk, status="approved", number="京ICP备2026009001号", province_id="11"
        )
        other = Filing.objects.create(owner_id=other_owner.pk, status="pending_review")
        served = Website.objects.create(
            filing=filing,
            number="京ICP备2026009001号-1",
            name="甲",
            homepage="http://a-site.cn/",
            ips=["120.79.1.10", "2400:3200::1"],
            server_location="11",
            access_provider_id=provider.pk,
        )
        Website.objects.create(
            filing=other,
            name="乙",
            homepage="http://b-site.cn/",
            ips=["120.79.1.11"],
            server_location="other",
            access_provider_other=True,
        )
        Published.objects.create(
            filing=filing,
            website=served,
            province_id="11",
            sponsor_number=filing.number,
            sponsor_name="甲公司",
            sponsor_nature="enterprise",
            website_number=served.number,
            website_name="甲",
            homepage=served.homepage,
            domains=["a-site.cn"],
            access_provider_id=provider.pk,
            approved_at="2026-01-05T08:00:00+08:00",
        )
    finally:
        apps = migrate_to_latest()

    Access = apps.get_model("filings", "Access")
    Website = apps.get_model("filings", "Website")
    Published = apps.get_model("filings", "PublishedWebsite")
    rows = {
        a.website.name: (a.provider_id, a.method, a.server_location, a.ips, a.position)
        for a in Access.objects.select_related("website")
    }
    assert rows == {
        "甲": (provider.pk, "other", "11", ["120.79.1.10", "2400:3200::1"], 0),
        "乙": (None, "other", "other", ["120.79.1.11"], 0),
    }
    assert Website.objects.get(name="甲").number == "京ICP备2026009001号-1"
    published = Published.objects.get()
    assert published.access_providers == [provider.pk]
    assert published.accesses == [
        {"provider": provider.pk, "method": "other", "server_location": "11"}
    ]
    assert (published.website_number, published.domains) == ("京ICP备2026009001号-1", ["a-site.cn"])
