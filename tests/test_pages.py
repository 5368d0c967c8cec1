"""The base layout, the home page and the bureau directory, in Chinese and English."""

import pytest

from tests.factories import BureauFactory, MinistryFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_home_page_is_in_chinese_by_default(client):
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in body
    assert "网站备案" in body
    assert "备案不收取任何费用" in body


def test_language_switch_turns_the_portal_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    body = response.content.decode()
    assert '<html lang="en">' in body
    assert "File your website with the communications administration" in body
    assert "Filing is free of charge" in body


def test_every_asset_is_served_locally(client):
    body = client.get("/").content.decode()
    assert "/static/vendor/bootstrap/bootstrap.min.css" in body
    for remote in ("http://", "https://", "//cdn"):
        for tag in ('src="' + remote, 'href="' + remote):
            assert tag not in body


def test_every_page_links_to_certificate_verification(client):
    # Anyone shown a bazs.cert must find where to check it, not only those holding its link.
    body = client.get("/bureaus/").content.decode()
    assert '<a href="/certificates/verify/">核验备案证书</a>' in body


def test_bureau_directory_lists_all_31_provinces(client):
    body = client.get("/bureaus/").content.decode()
    assert body.count("通信管理局") >= 31
    assert "新疆维吾尔自治区" in body


def test_api_docs_do_not_load_from_a_cdn(client):
    body = client.get("/api/docs/").content.decode()
    assert "cdn.jsdelivr.net" not in body
    assert "/static/drf_spectacular_sidecar/" in body


@pytest.mark.parametrize("factory", [UserFactory, BureauFactory])
def test_admin_is_closed_to_everyone_but_the_ministry(client, factory):
    user = factory()
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_needs_the_second_factor_even_for_the_ministry(client):
    client.force_login(MinistryFactory())
    response = client.get("/admin/")
    assert response.status_code == 302


def test_ministry_with_a_verified_second_factor_edits_provinces(client):
    from django_otp import login as otp_login
    from django_otp.plugins.otp_totp.models import TOTPDevice

    admin = MinistryFactory()
    device = TOTPDevice.objects.create(user=admin, name="t", confirmed=True)
    client.force_login(admin)
    session_request = type("R", (), {"session": client.session, "user": admin})()
    otp_login(session_request, device)
    session_request.session.save()
    assert client.get("/admin/").status_code == 200
    response = client.post(
        "/admin/beian/province/11/change/",
        {
            "name": "北京市",
            "name_en": "Beijing",
            "bureau_name": "北京市通信管理局",
            "bureau_phone": "010-12345678",
            "bureau_email": "icp@bca.example.cn",
        },
    )
    assert response.status_code == 302
    from beian.models import Province

    assert Province.objects.get(code="11").bureau_phone == "010-12345678"
    assert client.get("/admin/beian/calendarday/").status_code == 200


def test_pages_stay_chinese_for_an_english_browser_until_the_switch_is_used(client):
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="zh-CN">' in body


def test_the_api_honours_accept_language(client):
    response = client.get("/api/schema/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.headers.get("Content-Language") == "en"


def test_the_bureau_directory_names_provinces_and_bureaus_in_the_page_language(client):
    chinese = client.get("/bureaus/").content.decode()
    assert "北京市通信管理局" in chinese and "内蒙古" in chinese
    assert "Communications Administration" not in chinese

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get("/bureaus/").content.decode()
    assert "Beijing Communications Administration" in english
    assert "Inner Mongolia" in english
    assert "北京市通信管理局" not in english
