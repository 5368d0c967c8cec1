"""Demo data for the public services: announcements, bureau contacts, an annual review to try.

Everything here is demo data: the phone numbers are marked as such and the annual-review owner
is a made-up company.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import User
from beian.models import Province
from beian.normalforms.domains import homepage_key
from beian.normalforms.names import name_key
from filings.models import Access, Domain, Filing, Website
from filings.numbers import allocate_sponsor_number, allocate_website_numbers
from filings.publishing import publish

from .models import Announcement, AnnualReview, AnnualReviewWindow
from .selectors import annual_review_window
from .tasks import annual_review_daily

ANNOUNCEMENTS = [
    (
        "关于开展{year}年度网站备案年度审核工作的通知",
        "各网站主办者：\n\n请在年度审核期内登录备案系统，在任务列表中确认备案信息是否仍然准确；"
        "信息有变化的，请提交修改。逾期未完成年度审核的，由所在省通信管理局依法处理。\n\n"
        "网站备案及年度审核不收取任何费用。",
        True,
    ),
    (
        "各省通信管理局备案咨询电话",
        "各省（自治区、直辖市）通信管理局网站备案咨询电话和电子邮箱见本公告栏下方的"
        "“通信管理局联系方式”。请拨打网站主办者住所所在省的咨询电话。",
        False,
    ),
]

DEMO_BUREAU_CONTACTS = {
    "11": "010-00000011（演示号码）",
    "31": "021-00000031（演示号码）",
    "44": "020-00000044（演示号码）",
    "51": "028-00000051（演示号码）",
}

OWNER = ("annual", "annual@demo.beian.example.cn", "13900000200", "Demo-Annual-2026")
SPONSOR_NAME = "北京年审演示科技有限公司"


def seed(out) -> list[dict]:
    admin = User.objects.filter(role=User.Role.MINISTRY).order_by("id").first()
    now = timezone.now()
    for index, (title, body, pinned) in enumerate(ANNOUNCEMENTS):
        Announcement.objects.get_or_create(
            title=title.format(year=timezone.localdate().year),
            defaults={
                "body": body,
                "pinned": pinned,
                "publish_at": now - dt.timedelta(days=index + 1),
                "created_by": admin,
            },
        )
    for code, phone in DEMO_BUREAU_CONTACTS.items():
        Province.objects.filter(code=code, bureau_phone="").update(
            bureau_phone=phone, bureau_email=f"icp-{code}@demo.beian.example.cn"
        )
    filing = _annual_review_filing(out)
    _open_a_window_today(out)
    annual_review_daily()
    # The year before: the review this demo owner missed, so the bureau's overdue list has it.
    last_year = timezone.localdate().year - 1
    AnnualReview.objects.get_or_create(
        filing=filing,
        year=last_year,
        defaults={
            "reminded_open_at": _morning(annual_review_window(last_year).starts_on),
            "overdue_flagged_at": _morning(
                annual_review_window(last_year).ends_on + dt.timedelta(days=1)
            ),
        },
    )
    out.write(
        f"public: annual review open; {filing.number} ({SPONSOR_NAME}) is overdue for "
        f"{last_year} in Beijing's list until its owner confirms."
    )
    username, _email, _mobile, password = OWNER
    return [
        {
            "role": User.Role.OWNER,
            "username": username,
            "password": password,
            "note": "(approved filing, annual review to confirm)",
        }
    ]


def _annual_review_filing(out) -> Filing:
    """An approved Beijing filing, first approved two years ago, with a published website."""
    username, email, mobile, password = OWNER
    owner = User.objects.filter(username=username).first()
    if owner is None:
        owner = User.objects.create_user(
            username=username,
            email=email,
            mobile=mobile,
            password=password,
            role=User.Role.OWNER,
            mobile_verified_at=timezone.now(),
            email_verified_at=timezone.now(),
        )
    existing = Filing.objects.filter(owner=owner).first()
    if existing is not None:
        return existing
    beijing = Province.objects.get(code="11")
    approved_year = timezone.localdate().year - 2
    approved_at = timezone.make_aware(dt.datetime(approved_year, 6, 18, 10, 0))
    filing = Filing.objects.create(
        owner=owner,
        status=Filing.Status.APPROVED,
        number=allocate_sponsor_number(province=beijing, year=approved_year),
        sponsor_nature=Filing.Nature.ENTERPRISE,
        sponsor_name=SPONSOR_NAME,
        sponsor_name_key=name_key(SPONSOR_NAME),
        sponsor_id_type=Filing.IdType.USCC,
        sponsor_id_number="91110108MA0000001D",
        province=beijing,
        sponsor_address="北京市海淀区演示路1号",
        principal_name="李演示",
        principal_id_type=Filing.IdType.RESIDENT_ID,
        principal_id_number="11010519491231002X",
        principal_mobile=mobile,
        principal_email=email,
        submitted_at=approved_at - dt.timedelta(days=10),
        submitted_by=owner,
        first_approved_at=approved_at,
        approved_at=approved_at,
        decided_at=approved_at,
    )
    website = Website.objects.create(
        filing=filing,
        name="年审演示网",
        homepage="http://www.annual-demo.cn/",
        homepage_key=homepage_key("http://www.annual-demo.cn/"),
        services=[Website.Service.CORPORATE],
    )
    Access.objects.create(website=website, filing=filing, server_location="11", ips=["120.79.1.20"])
    Domain.objects.create(website=website, filing=filing, name="annual-demo.cn")
    allocate_website_numbers(filing=filing)
    publish(filing=filing)
    out.write(f"public: approved demo filing {filing.number} for the annual review")
    return filing


def _open_a_window_today(out) -> None:
    """Let the annual review be tried on any day: open this year's window around today."""
    today = timezone.localdate()
    if annual_review_window(today.year).is_open(today):
        return
    if AnnualReviewWindow.objects.filter(year=today.year).exists():
        return  # the ministry set this year's window; the demo does not overwrite it
    starts_on = max(dt.date(today.year, 1, 1), today - dt.timedelta(days=7))
    ends_on = min(dt.date(today.year, 12, 31), today + dt.timedelta(days=30))
    AnnualReviewWindow.objects.create(year=today.year, starts_on=starts_on, ends_on=ends_on)
    out.write(f"public: demo annual review window {starts_on} – {ends_on}")


def _morning(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(8, 5)))
