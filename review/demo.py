"""Demo data for the review console (``seed_demo``): a Beijing queue worth working.

Two owners claim one domain (Q17): a squatter whose filing is already approved, and the
rightful owner waiting for review, so a reviewer can revoke the squatted record, re-check and
approve. Around them: an item due within days, an overdue one, one with a pre-approval, an
amendment, an application for revocation, one still waiting for its responsible person's SMS
code, and a Shanghai item the Beijing bureau never sees. Everything is made up; the filings go
through the same services as real ones, the SMS verification included (SPEC §12).
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from beian.models import Message
from beian.workdays import working_calendar
from filings.models import Filing
from filings.serializers import filing_as_json
from filings.services import (
    document_upload,
    filing_apply_revocation,
    filing_create,
    filing_save_data,
    filing_submit,
)
from filings.stages import verification_confirm

from .services import filing_approve
from .tasks import escalate_overdue

PASSWORD = "Demo-Owner-2026"
USCC = "91350100M000100Y43"
RESIDENT_ID = "11010519491231002X"
CONFLICT_DOMAIN = "huaxia-demo.cn"
# A one-page PDF standing in for a pre-approval document.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

# username, sponsor name, province, domains, mobile, what happens to it
OWNERS = [
    (
        "demo-squatter",
        "北京速达网络科技有限公司",
        "11",
        [CONFLICT_DOMAIN],
        "13811110001",
        "approved",
    ),
    (
        "demo-rightful",
        "北京华夏示例文化有限公司",
        "11",
        [CONFLICT_DOMAIN, "huaxia-demo.com.cn"],
        "13811110002",
        "pending",
    ),
    ("demo-soon", "北京青禾软件有限公司", "11", ["qinghe-demo.cn"], "13811110003", "due_soon"),
    ("demo-late", "北京远山咨询有限公司", "11", ["yuanshan-demo.cn"], "13811110004", "overdue"),
    (
        "demo-school",
        "北京明德在线教育科技有限公司",
        "11",
        ["mingde-demo.cn"],
        "13811110005",
        "preapproval",
    ),
    (
        "demo-amend",
        "北京云帆信息技术有限公司",
        "11",
        ["yunfan-demo.cn"],
        "13811110006",
        "amendment",
    ),
    (
        "demo-close",
        "北京旧时光工作室有限公司",
        "11",
        ["jiushiguang-demo.cn"],
        "13811110007",
        "revocation",
    ),
    (
        "demo-verify",
        "北京晨光设计有限公司",
        "11",
        ["chenguang-demo.cn"],
        "13811110009",
        "verification",
    ),
    (
        "demo-shanghai",
        "上海浦江示例贸易有限公司",
        "31",
        ["pujiang-demo.cn"],
        "13811110008",
        "pending",
    ),
]


def _owner(username: str, mobile: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        now = timezone.now()
        user = User.objects.create_user(
            username=username,
            password=PASSWORD,
            email=f"{username}@demo.beian.example.cn",
            mobile=mobile,
            role=User.Role.OWNER,
            mobile_verified_at=now,
            email_verified_at=now,
        )
    return user


def _data(sponsor: str, province: str, domains: list[str], mobile: str, username: str) -> dict:
    return {
        "sponsor": {
            "nature": "enterprise",
            "name": sponsor,
            "id_type": "uscc",
            "id_number": USCC,
            "province": province,
            "address": "北京市海淀区中关村大街1号"
            if province == "11"
            else "上海市黄浦区中山东一路1号",
            "principal": {
                "name": "王演示",
                "id_type": "resident_id",
                "id_number": RESIDENT_ID,
                "mobile": mobile,
                "email": f"{username}@demo.beian.example.cn",
            },
        },
        "websites": [
            {
                "name": f"{sponsor[2:6]}官网",
                "number": None,
                "homepage": f"http://www.{domains[0]}/",
                "domains": domains,
                "ips": ["120.79.1.10"],
                "services": ["corporate"],
                "commercial": False,
                "preapprovals": [],
                "server_location": province,
                "access_provider": "other",
            }
        ],
    }


def _to_bureau(filing: Filing) -> None:
    """Confirm the SMS verification the submission asked for, as the responsible person does
    with the code the outbox holds (SPEC §12), so that the filing waits for the bureau. The
    demo's own confirmations are no client's tries: the per-address limit does not count them."""
    filing.refresh_from_db()
    if filing.status != Filing.Status.VERIFICATION:
        return
    body = (
        Message.objects.filter(to=filing.principal_mobile, template="verification_code")
        .order_by("-id")
        .values_list("body", flat=True)
        .first()
    )
    code = re.search(r"(?<!\d)\d{6}(?!\d)", body or "")
    with override_settings(FILING_VERIFICATION_TRIES_PER_IP=""):
        verification_confirm(
            mobile=filing.principal_mobile,
            code=code.group(0) if code else "",
            id_last6=filing.principal_id_number[-6:],
            ip=None,
        )
    filing.refresh_from_db()


def _backdate(filing: Filing, *, working_days_left: int) -> None:
    """Make the latest submission older, as if it had waited in the queue: its deadline is
    ``working_days_left`` working days away (negative: that many working days overdue)."""
    calendar = working_calendar()
    today = timezone.localdate()
    if working_days_left > 0:
        deadline = calendar.add_working_days(today, working_days_left)
    else:
        deadline, passed = today, 0
        while passed < -working_days_left:
            deadline -= dt.timedelta(days=1)
            passed += calendar.is_workday(deadline)
    submitted = deadline
    while calendar.add_working_days(submitted, 20) > deadline:
        submitted -= dt.timedelta(days=1)
    submitted_at = timezone.make_aware(dt.datetime.combine(submitted, dt.time(10, 0)))
    Filing.objects.filter(pk=filing.pk).update(
        submitted_at=submitted_at, review_deadline=calendar.add_working_days(submitted, 20)
    )


def seed(out) -> list[dict]:
    reviewer = (
        User.objects.filter(username="beijing").first()
        or User.objects.filter(role=User.Role.MINISTRY).order_by("id").first()
    )
    logins = []
    for username, sponsor, province, domains, mobile, plan in OWNERS:
        owner = _owner(username, mobile)
        if username in ("demo-squatter", "demo-rightful"):
            logins.append(
                {
                    "role": "owner",
                    "username": username,
                    "password": PASSWORD,
                    "note": f"({sponsor}, {CONFLICT_DOMAIN})",
                }
            )
        if Filing.objects.filter(owner=owner).exists():
            continue  # seeded before: seed_demo stays re-runnable
        filing = filing_create(owner=owner)
        data = _data(sponsor, province, domains, mobile, username)
        if plan == "preapproval":
            document = document_upload(
                filing=filing,
                by=owner,
                file=SimpleUploadedFile("教育前置审批.pdf", DEMO_PDF, "application/pdf"),
            )
            website = data["websites"][0]
            website["services"] = ["education", "corporate"]
            website["preapprovals"] = [
                {
                    "category": "education",
                    "authority": "北京市教育委员会",
                    "document_number": "京教审〔2026〕18号",
                    "document": document.pk,
                }
            ]
        filing_save_data(filing=filing, by=owner, data=data)
        filing_submit(filing=filing, by=owner)
        if plan == "verification":
            continue  # waits for the responsible person's code (/verification/)
        _to_bureau(filing)
        if plan in ("approved", "amendment", "revocation"):
            filing_approve(filing=filing, by=reviewer)
        if plan == "amendment":
            changed = filing_as_json(filing)
            extra = dict(changed["websites"][0])
            extra.update(
                name="云帆博客",
                number=None,
                homepage="http://blog.yunfan-demo.com.cn/",
                domains=["yunfan-demo.com.cn"],
                services=["blog"],
            )
            changed["websites"].append(extra)
            filing_save_data(filing=filing, by=owner, data=changed)
            filing_submit(filing=filing, by=owner)
            _to_bureau(filing)
        elif plan == "revocation":
            filing_apply_revocation(
                filing=filing, by=owner, reason="公司业务调整，网站已停止运营。"
            )
        elif plan == "due_soon":
            _backdate(filing, working_days_left=3)
        elif plan == "overdue":
            _backdate(filing, working_days_left=-4)
    # What beat does each morning, so the deadlines page shows an escalated item at once.
    escalate_overdue()
    out.write(
        f"Review demo: {len(OWNERS)} filings; {CONFLICT_DOMAIN} is claimed by two Beijing owners."
    )
    return logins
