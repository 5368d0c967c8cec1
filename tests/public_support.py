"""Helpers shared by the public-services tests: approved and published filings, staff sign-in."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from beian.models import Province
from filings.models import Filing
from filings.numbers import allocate_sponsor_number, allocate_website_numbers
from filings.publishing import publish
from tests.factories import FilingFactory, WebsiteFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def approved_filing(
    *,
    websites: list[dict] | None = None,
    province: str = "11",
    approved_at: dt.datetime | None = None,
    published: bool = True,
    **filing_fields,
) -> Filing:
    """An approved filing with numbered websites; published unless ``published=False``.

    ``websites``: ``[{"name": …, "homepage": …, "domains": [...]}, …]``.
    """
    approved_at = approved_at or timezone.now()
    province_row = Province.objects.get(code=province)
    filing = FilingFactory(
        status=Filing.Status.APPROVED,
        province=province_row,
        number=allocate_sponsor_number(province=province_row, year=approved_at.year),
        first_approved_at=approved_at,
        approved_at=approved_at,
        submitted_at=approved_at - dt.timedelta(days=5),
        **filing_fields,
    )
    filing.submitted_by = filing.owner
    filing.save(update_fields=["submitted_by"])
    for spec in websites or [{}]:
        WebsiteFactory(filing=filing, **spec)
    allocate_website_numbers(filing=filing)
    if published:
        publish(filing=filing)
    return filing


def sign_in_with_otp(client, user) -> None:
    """A staff session that has passed the second factor."""
    from django_otp import login as otp_login
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client.force_login(user)
    request = type("Request", (), {"session": client.session, "user": user})()
    otp_login(request, device)
    request.session.save()
