"""Bulletin board (公告栏, Q5): announcements and the bureau directory; filing is free (Q6)."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from beian.models import Province
from public.models import Announcement
from tests.factories import MinistryFactory
from tests.public_support import sign_in_with_otp

pytestmark = pytest.mark.django_db


def announce(title, *, days=-1, pinned=False, body="正文"):
    return Announcement.objects.create(
        title=title, body=body, pinned=pinned, publish_at=timezone.now() + dt.timedelta(days=days)
    )


def test_only_published_announcements_are_shown(client):
    announce("已发布的公告")
    later = announce("明天发布的公告", days=1)
    body = client.get("/bulletin/").content.decode()
    assert "已发布的公告" in body
    assert "明天发布的公告" not in body
    assert client.get(f"/bulletin/{later.pk}/").status_code == 404


def test_an_announcement_appears_once_its_time_comes(client, time_machine):
    item = announce("定时公告", days=1)
    assert client.get(f"/bulletin/{item.pk}/").status_code == 404
    time_machine.move_to(timezone.now() + dt.timedelta(days=1, minutes=1))
    assert client.get(f"/bulletin/{item.pk}/").status_code == 200
    assert "定时公告" in client.get("/bulletin/").content.decode()


def test_pinned_announcements_come_first_then_the_newest(client):
    announce("较早的置顶公告", days=-10, pinned=True)
    announce("最新的公告", days=-1)
    announce("较早的公告", days=-5)
    body = client.get("/bulletin/").content.decode()
    assert body.index("较早的置顶公告") < body.index("最新的公告") < body.index("较早的公告")


def test_an_announcement_body_is_text_never_html(client):
    item = announce("注意", body="<script>alert(1)</script>\n\n第二段")
    body = client.get(f"/bulletin/{item.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body
    assert "<p>第二段</p>" in body


def test_the_directory_lists_every_bureau_with_its_phone_and_email(client):
    Province.objects.filter(code="44").update(
        bureau_phone="020-87654321", bureau_email="icp@gd.example.cn"
    )
    body = client.get("/bulletin/").content.decode()
    assert body.count("通信管理局") >= 31
    assert "020-87654321" in body
    assert "mailto:icp@gd.example.cn" in body


def test_the_footer_and_navigation_lead_to_the_bulletin_board(client):
    body = client.get("/").content.decode()
    assert body.count('href="/bulletin/"') >= 2
    assert 'href="/bulletin/#bureaus"' in body


def test_the_old_directory_address_still_works(client):
    assert client.get("/bureaus/", follow=True).status_code == 200


def test_the_ministry_publishes_announcements_in_the_admin(client):
    admin = MinistryFactory()
    sign_in_with_otp(client, admin)
    response = client.post(
        "/admin/public/announcement/add/",
        {
            "title": "系统维护通知",
            "body": "本周六凌晨维护。",
            "publish_at_0": timezone.localdate().isoformat(),
            "publish_at_1": "00:00:00",
            "pinned": "on",
        },
    )
    assert response.status_code == 302
    item = Announcement.objects.get(title="系统维护通知")
    assert item.created_by == admin and item.pinned
    assert "系统维护通知" in client.get("/bulletin/").content.decode()


def test_nobody_but_the_ministry_edits_announcements(client):
    from tests.factories import BureauFactory

    sign_in_with_otp(client, BureauFactory())
    assert client.get("/admin/public/announcement/add/").status_code == 302


# Q6: nothing is charged, and nothing but "free" is ever said about money.

FEE_WORDS = re.compile(r"\bfees?\b|\bcharg\w*|\bpay\w*|\bprice\w*|收费|费用|付费|缴费|价格", re.I)
FREE_PHRASES = ("free of charge", "免费", "不收取任何费用")


def test_no_template_mentions_a_fee_except_to_say_filing_is_free():
    root = Path(django_settings.BASE_DIR)
    offending = []
    for path in [*root.glob("templates/**/*.*"), *root.glob("*/templates/**/*.*")]:
        if ".venv" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if FEE_WORDS.search(line) and not any(p in line for p in FREE_PHRASES):
                offending.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert offending == []


@pytest.mark.parametrize("path", ["/", "/bulletin/", "/query/"])
def test_public_pages_say_filing_is_free(client, path):
    assert "备案不收取任何费用" in client.get(path).content.decode()
