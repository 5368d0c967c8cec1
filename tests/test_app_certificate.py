"""bazs.cert lists a record's apps and mini-programs apart from its websites (format
bazs-cert/3, SPEC §5, §13), and verification says so; files of the older formats keep
verifying."""

import pytest

from certificates import format as cert_format
from certificates.keys import active_signing_key
from certificates.models import Certificate
from certificates.selectors import public_key_lookup, verify_certificate_file
from filings.models import App
from tests import app_support as aps
from tests.app_public_support import approved, cancel, record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

VERIFY = "/api/v1/public/certificates/verify/"
PACKAGE = "com.example.weather"
BUNDLE = "com.example.Weather"
WECHAT_ID = "wx00000000000000ab"


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def filing(owner):
    return approved(
        owner,
        record(
            apps=[
                aps.app(name="晴空天气", platforms=[aps.android(PACKAGE), aps.ios(BUNDLE)]),
                aps.app(name="晴空日历", platforms=[aps.android("com.example.calendar")]),
            ],
            mini_programs=[aps.mini_program(name="晴空小助手", platform_id=WECHAT_ID)],
        ),
    )


def current(filing) -> Certificate:
    return Certificate.objects.get(filing=filing, status="valid")


def payload(certificate: Certificate) -> dict:
    return cert_format.verify(certificate.file_bytes, public_key_lookup()).payload


def verify_api(client, data: bytes) -> dict:
    response = client.post(VERIFY, data=data, content_type="application/octet-stream")
    assert response.status_code == 200
    return response.json()


def test_the_file_lists_apps_and_mini_programs_apart_from_the_websites(filing):
    certificate = current(filing)
    text = certificate.content
    n = filing.number
    assert f"网站 Website 1: 示例网站\n  网站备案号 Website number: {n}-1\n" in text
    assert "网站 Website 2" not in text
    assert (
        f"App 1: 晴空天气\n  App备案号 App number: {n}-1A\n"
        f"  平台 Platform: Android · {PACKAGE}\n  平台 Platform: iOS · {BUNDLE}\n"
        "  接入 Access 1: 其它 other · 云主机 cloud · 北京市 Beijing\n"
    ) in text
    assert f"App 2: 晴空日历\n  App备案号 App number: {n}-2A\n" in text
    assert (
        f"小程序 Mini-program 1: 晴空小助手\n  小程序备案号 Mini-program number: {n}-1X\n"
        f"  平台 Platform: 微信 WeChat · {WECHAT_ID}\n"
    ) in text
    # The websites' part ends before the apps', and the apps' before the mini-programs'.
    assert text.index("网站 Website 1") < text.index("App 1:") < text.index("小程序 Mini-program 1")


def test_the_payload_holds_numbers_and_identifiers_but_no_key_or_fingerprint(filing):
    certificate = current(filing)
    body = payload(certificate)
    assert body["format"] == "bazs-cert/3"
    assert [w["number"] for w in body["websites"]] == [f"{filing.number}-1"]
    first = body["apps"][0]
    assert first["number"] == f"{filing.number}-1A"
    assert first["platforms"] == [
        {"platform": "android", "identifier": PACKAGE},
        {"platform": "ios", "identifier": BUNDLE},
    ]
    assert first["accesses"][0]["method"] == "cloud"
    assert body["mini_programs"] == [
        {
            "number": f"{filing.number}-1X",
            "name": "晴空小助手",
            "platform": "wechat",
            "platform_id": WECHAT_ID,
        }
    ]
    for secret in (aps.ANDROID_KEY, aps.ANDROID_MD5, aps.IOS_KEY, aps.IOS_SHA1, "120.79.1.20"):
        assert secret not in certificate.content
    # Only websites' domains are where the file must be installed and checked.
    assert certificate.domains == ["example.cn"]


def test_verification_names_the_apps_and_mini_programs_and_keeps_its_keys(client, filing):
    answer = verify_api(client, current(filing).file_bytes)
    assert answer["status"] == "valid"
    assert answer["number"] == filing.number
    assert answer["domains"] == ["example.cn"]
    assert answer["apps"] == [
        {
            "name": "晴空天气",
            "number": f"{filing.number}-1A",
            "platforms": [
                {"platform": "android", "identifier": PACKAGE},
                {"platform": "ios", "identifier": BUNDLE},
            ],
        },
        {
            "name": "晴空日历",
            "number": f"{filing.number}-2A",
            "platforms": [{"platform": "android", "identifier": "com.example.calendar"}],
        },
    ]
    assert answer["mini_programs"] == [
        {
            "name": "晴空小助手",
            "number": f"{filing.number}-1X",
            "platform": "wechat",
            "platform_id": WECHAT_ID,
        }
    ]


@pytest.mark.parametrize(
    ("language", "apps", "programs", "wechat"),
    [("en", "Apps", "Mini-programs", "WeChat"), ("zh-hans", "App", "小程序", "微信")],
)
def test_the_verification_page_shows_the_apps_and_mini_programs(
    client, filing, language, apps, programs, wechat
):
    client.cookies["django_language"] = language
    body = client.post("/certificates/verify/", {"text": current(filing).content}).content.decode()
    result = body[body.index('id="verify-result"') :]
    result = result[: result.index("</div>")]
    assert 'data-status="valid"' in body
    assert f">{apps}</h3>" in result and f">{programs}</h3>" in result
    assert f"{filing.number}-1A" in result and PACKAGE in result and BUNDLE in result
    assert f"{filing.number}-1X" in result and f"{wechat} <code>{WECHAT_ID}</code>" in result
    assert "example.cn" in result


def test_a_certificate_re_issued_after_an_app_is_cancelled_no_longer_lists_it(
    client, owner, filing
):
    before = current(filing)
    calendar = App.objects.get(filing=filing, name="晴空日历")
    cancel(owner, filing, calendar.pk)

    after = current(filing)
    assert after.pk != before.pk
    assert "晴空日历" not in after.content and "com.example.calendar" not in after.content
    assert [a["name"] for a in verify_api(client, after.file_bytes)["apps"]] == ["晴空天气"]
    assert "晴空天气" in after.content and WECHAT_ID in after.content
    # The old file is genuine still, and says what it listed; it is no longer current.
    old = verify_api(client, before.file_bytes)
    assert old["status"] == "superseded"
    assert [a["name"] for a in old["apps"]] == ["晴空天气", "晴空日历"]


def test_a_record_of_apps_only_is_certified(client):
    filing = approved(UserFactory(), record(websites=[], apps=[aps.app()]))
    certificate = current(filing)
    assert "网站 Website" not in certificate.content
    assert f"App备案号 App number: {filing.number}-1A" in certificate.content
    answer = verify_api(client, certificate.file_bytes)
    assert answer["status"] == "valid" and answer["domains"] == []
    assert [a["number"] for a in answer["apps"]] == [f"{filing.number}-1A"]


def test_the_owner_is_emailed_the_apps_and_mini_programs_of_the_certificate(filing):
    from beian.models import Message

    message = Message.objects.filter(to=filing.owner.email, template="certificate_issued").get()
    assert f"{filing.number}-1A" in message.body and PACKAGE in message.body
    assert f"{filing.number}-1X" in message.body and WECHAT_ID in message.body


def resign(certificate: Certificate, body: dict) -> bytes:
    """``certificate``'s file with its payload replaced by ``body``, signed again with the
    active key under the same serial (what an older format issued looks like)."""
    key, private_key = active_signing_key()
    certificate.content = cert_format.sign(body, key_id=key.key_id, private_key=private_key)
    certificate.save(update_fields=["content"])
    return certificate.file_bytes


def test_a_format_2_file_issued_before_apps_still_verifies_and_lists_none(client, filing):
    certificate = current(filing)
    old = {k: v for k, v in payload(certificate).items() if k not in ("apps", "mini_programs")}
    data = resign(certificate, dict(old, format="bazs-cert/2"))
    assert b"App 1" not in data
    answer = verify_api(client, data)
    assert answer["status"] == "valid"
    assert answer["number"] == filing.number and answer["domains"] == ["example.cn"]
    assert answer["apps"] == [] and answer["mini_programs"] == []


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (f"Android · {PACKAGE}", "Android · com.evil.weather"),  # readable part
        (f'"platform_id": "{WECHAT_ID}"', '"platform_id": "wx00000000000000ff"'),  # payload
    ],
)
def test_a_file_with_a_changed_identifier_is_not_genuine(client, filing, before, after):
    data = current(filing).file_bytes
    assert before.encode() in data
    answer = verify_api(client, data.replace(before.encode(), after.encode()))
    assert answer["status"] == "invalid" and answer["apps"] == []


def test_an_unknown_platform_in_a_payload_is_written_as_its_code():
    assert "平台 Platform: newhost · x1" in cert_format.render_header(
        {
            "number": "京ICP备2026000001号",
            "sponsor": {"name": "示例"},
            "bureau": {"name": "北京市通信管理局"},
            "issued_at": "2026-03-02T10:15:00+08:00",
            "serial": "0",
            "key_id": "k",
            "websites": [],
            "apps": [],
            "mini_programs": [
                {
                    "name": "新",
                    "number": "京ICP备2026000001号-1X",
                    "platform": "newhost",
                    "platform_id": "x1",
                }
            ],
            "verify_url": "https://beian.example.gov.cn/certificates/verify/",
        }
    )
    assert verify_certificate_file(b"not a certificate").apps == []
