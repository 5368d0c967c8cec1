"""Helpers shared by the review tests: owners who submit real filings, staff, the API."""

from __future__ import annotations

from django.utils import timezone

from filings.models import Filing
from tests.factories import BureauFactory, MinistryFactory, UserFactory

# A valid Unified Social Credit Code and resident ID (check characters included).
USCC = "91350100M000100Y43"
RESIDENT_ID = "11010519491231002X"


def filing_data(
    *,
    name: str = "北京示例科技有限公司",
    province: str = "11",
    domains: list[str] | None = None,
    homepage: str | None = None,
    websites: list[dict] | None = None,
    mobile: str = "13700000001",
    email: str = "principal@example.cn",
) -> dict:
    domains = domains or ["example.cn"]
    website = {
        "name": "示例网站",
        "number": None,
        "homepage": homepage or f"http://www.{domains[0]}/",
        "domains": domains,
        "ips": ["120.79.1.10"],
        "services": ["corporate"],
        "commercial": False,
        "preapprovals": [],
        "server_location": province,
        "access_provider": "other",
    }
    return {
        "sponsor": {
            "nature": "enterprise",
            "name": name,
            "id_type": "uscc",
            "id_number": USCC,
            "province": province,
            "address": "北京市海淀区中关村大街1号",
            "principal": {
                "name": "张三",
                "id_type": "resident_id",
                "id_number": RESIDENT_ID,
                "mobile": mobile,
                "email": email,
            },
        },
        "websites": websites or [website],
    }


_counter = {"n": 0}


def submit(owner=None, **data_kwargs) -> Filing:
    """A filing created, saved and submitted through the filings services (conflicts detected)."""
    from filings.services import filing_create, filing_save_data, filing_submit

    _counter["n"] += 1
    n = _counter["n"]
    owner = owner or UserFactory()
    data_kwargs.setdefault("name", f"示例科技有限公司{n}")
    data_kwargs.setdefault("mobile", f"1370000{n:04d}")
    data_kwargs.setdefault("email", f"principal{n}@example.cn")
    filing = Filing.objects.filter(owner=owner).first() or filing_create(owner=owner)
    filing_save_data(filing=filing, by=owner, data=filing_data(**data_kwargs))
    return filing_submit(filing=filing, by=owner)


def approved(owner=None, *, by=None, **data_kwargs) -> Filing:
    from review.services import filing_approve

    filing = submit(owner, **data_kwargs)
    by = by or MinistryFactory()
    return filing_approve(filing=filing, by=by)


def overdue(filing: Filing, *, days: int = 30) -> Filing:
    Filing.objects.filter(pk=filing.pk).update(
        review_deadline=timezone.localdate() - timezone.timedelta(days=days)
    )
    filing.refresh_from_db()
    return filing


def beijing_reviewer(**kwargs):
    return BureauFactory(**kwargs)


def shanghai_reviewer(**kwargs):
    from beian.models import Province

    return BureauFactory(province=Province.objects.get(code="31"), **kwargs)
