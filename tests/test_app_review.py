"""The bureau's filing page and the version diffs show apps and mini-programs (SPEC §13): each
app's platforms with identifier, shortened public key and fingerprint in colon notation, its
domains, stores, services, pre-approvals and accesses; each mini-program's host and id; a
diff names added, removed and changed apps and mini-programs field by field; the owner's
version page shows them too."""

import pytest
from django.urls import reverse
from django.utils import translation

from beian.normalforms.apps import fingerprint_display, public_key_short
from filings.models import App, Filing, FilingVersion
from filings.selectors import diff, filing_changes
from tests import app_support as aps
from tests import filings_support as fs
from tests.app_public_support import api, approved, record
from tests.factories import AccessProviderFactory, MinistryFactory, UserFactory

pytestmark = pytest.mark.django_db

PACKAGE = "com.example.weather"
WECHAT_ID = "wx00000000000000cd"


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def store():
    return AccessProviderFactory(name="应用宝示例商店", is_distribution_platform=True)


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def filing(owner, store):
    return approved(
        owner,
        record(
            apps=[
                aps.app(
                    name="晴空天气",
                    platforms=[aps.android(PACKAGE), aps.ios()],
                    domains=["api.qingkong.cn", "img.qingkong.cn"],
                    stores=[store.pk, "other"],
                )
            ],
            mini_programs=[aps.mini_program(name="晴空小助手", platform_id=WECHAT_ID)],
        ),
    )


def page(client, filing, language="en") -> str:
    client.cookies["django_language"] = language
    response = client.get(reverse("review:detail", args=[filing.pk]))
    assert response.status_code == 200
    return response.content.decode()


def conflicts_part(body: str) -> str:
    start = body.index('id="conflicts"')
    return body[start : body.index("</section>", start)]


def section(body: str, kind: str) -> str:
    start = body.index(f'data-service-type="{kind}"')
    return body[start : body.index("</section>", start)]


# The bureau's filing page -----------------------------------------------------------------------


def test_the_bureau_sees_each_apps_identity_domains_stores_and_access(otp_client, filing):
    body = page(otp_client(MinistryFactory()), filing)
    app = section(body, "app")
    assert "晴空天气" in app and f"{filing.number}-1A" in app
    assert "Android" in app and PACKAGE in app and "iOS" in app and aps.IOS_BUNDLE in app
    assert public_key_short(aps.ANDROID_KEY) in app
    assert f">{aps.ANDROID_KEY}<" not in app  # shortened, the whole key only as a tooltip
    assert fingerprint_display(aps.ANDROID_MD5) in app
    assert fingerprint_display(aps.IOS_SHA1) in app
    assert "api.qingkong.cn" in app and "img.qingkong.cn" in app
    assert "应用宝示例商店" in app and "other" in app
    assert "corporate website" in app
    assert "cloud hosting" in app and "120.79.1.20" in app


def test_the_bureau_sees_each_mini_programs_host_and_id(otp_client, filing):
    program = section(page(otp_client(MinistryFactory()), filing), "mini_program")
    assert "晴空小助手" in program and f"{filing.number}-1X" in program
    assert "WeChat" in program and WECHAT_ID in program
    assert "corporate website" in program


def test_the_bureau_page_reads_in_chinese(otp_client, filing):
    body = page(otp_client(MinistryFactory()), filing, "zh-hans")
    assert ">App</h2>" in body and ">小程序</h2>" in body
    program = section(body, "mini_program")
    assert "微信" in program and "小程序AppID" in program
    app = section(body, "app")
    assert "证书指纹" in app and "公钥" in app and "分发平台" in app


def test_a_record_without_apps_shows_no_app_part(otp_client):
    filing = approved(UserFactory(), record())
    body = page(otp_client(MinistryFactory()), filing)
    assert 'data-service-type="app"' not in body
    assert 'data-service-type="mini_program"' not in body


def test_an_app_identifier_conflict_is_shown_with_its_label(otp_client, filing, store):
    later = UserFactory()
    client = api(later)
    payload = record(
        sponsor={"name": "另一家公司", "id_number": "91110000600037341L"},
        websites=[fs.website(name="另一个", domains=["another.cn"], homepage="http://another.cn/")],
        apps=[aps.app(name="冒名天气", platforms=[aps.android(PACKAGE)])],
        mini_programs=[aps.mini_program(name="冒名助手", platform_id=WECHAT_ID)],
    )
    pk = client.post("/api/v1/filings/", payload, format="json").json()["id"]
    assert client.post(f"/api/v1/filings/{pk}/submit/").status_code == 200
    squatter = fs.to_bureau(Filing.objects.get(pk=pk))

    reviewer = otp_client(MinistryFactory())
    conflicts = conflicts_part(page(reviewer, squatter))
    assert "app identifier" in conflicts and PACKAGE in conflicts
    assert "mini-program id" in conflicts and WECHAT_ID in conflicts
    chinese = conflicts_part(page(reviewer, squatter, "zh-hans"))
    assert "App标识（包名/Bundle ID）" in chinese and "小程序AppID" in chinese


# The diff between versions -----------------------------------------------------------------------


def amend(owner, filing, change) -> Filing:
    """The owner changes the approved record's JSON with ``change(data)`` and submits it; it
    is taken to the bureau."""
    client = api(owner)
    data = client.get(f"/api/v1/filings/{filing.pk}/").json()
    change(data)
    answer = client.put(
        f"/api/v1/filings/{filing.pk}/",
        {k: data[k] for k in ("sponsor", "websites", "apps", "mini_programs")},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    submitted = client.post(f"/api/v1/filings/{filing.pk}/submit/")
    assert submitted.status_code == 200, submitted.json()
    return fs.to_bureau(Filing.objects.get(pk=filing.pk))


def rows(changes) -> set[tuple[str, str, str, str]]:
    return {(c.section, c.field, c.before, c.after) for c in changes}


def test_an_amendment_names_each_changed_field_of_an_app_and_a_mini_program(
    owner, filing, otp_client
):
    n = filing.number

    def change(data):
        app = data["apps"][0]
        app["domains"] = ["api.qingkong.cn"]
        app["platforms"][0]["fingerprint"] = "00" * 16
        app["platforms"] = app["platforms"][:1]  # iOS dropped
        data["mini_programs"][0]["platform_id"] = "wx00000000000000ef"
        data["apps"].append(aps.app(name="晴空日历", platforms=[aps.android("com.example.cal")]))

    amended = amend(owner, filing, change)
    with translation.override("en"):
        changes = filing_changes(amended).since_approved
    found = rows(changes)
    section = f"App {n}-1A"
    assert (section, "domains", "api.qingkong.cn, img.qingkong.cn", "api.qingkong.cn") in found
    assert (
        section,
        "fingerprint (Android)",
        fingerprint_display(aps.ANDROID_MD5),
        fingerprint_display("00" * 16),
    ) in found
    assert (section, "identifier (iOS)", aps.IOS_BUNDLE, "") in found
    assert (section, "public key (iOS)", public_key_short(aps.IOS_KEY), "") in found
    assert (f"Mini-program {n}-1X", "mini-program ID", WECHAT_ID, "wx00000000000000ef") in found
    assert ("App #2", "name", "", "晴空日历") in found
    assert ("App #2", "identifier (Android)", "", "com.example.cal") in found
    # Nothing of the unchanged website or of the app's unchanged fields.
    assert not [c for c in changes if c.section.startswith("Website")]
    assert not [c for c in changes if c.section == section and c.field == "name"]

    body = page(otp_client(MinistryFactory()), amended)
    changed = body[body.index('id="changes-heading"') :]
    assert f"App {n}-1A" in changed and "fingerprint (Android)" in changed
    assert "晴空日历" in changed


def test_a_removed_app_and_mini_program_read_as_removed(filing):
    approved_data = FilingVersion.objects.filter(filing=filing, kind="approved").last().data
    without = {**approved_data, "apps": [], "mini_programs": []}
    with translation.override("en"):
        found = rows(diff(approved_data, without))
    n = filing.number
    assert (f"App {n}-1A", "name", "晴空天气", "") in found
    assert (f"App {n}-1A", "identifier (Android)", PACKAGE, "") in found
    assert (f"App {n}-1A", "distribution platforms", "应用宝示例商店, other", "") in found
    assert (f"Mini-program {n}-1X", "platform", "WeChat", "") in found
    assert (f"Mini-program {n}-1X", "mini-program ID", WECHAT_ID, "") in found


def test_a_public_key_changed_in_its_middle_only_is_a_change(filing):
    before = FilingVersion.objects.filter(filing=filing, kind="approved").last().data
    after = {**before, "apps": [dict(a) for a in before["apps"]]}
    key = aps.ANDROID_KEY
    middle = len(key) // 2
    changed = key[:middle] + ("0" if key[middle] != "0" else "1") + key[middle + 1 :]
    after["apps"][0]["platforms"] = [dict(after["apps"][0]["platforms"][0], public_key=changed)]
    after["apps"][0]["platforms"] += before["apps"][0]["platforms"][1:]
    with translation.override("en"):
        (change,) = diff(before, after)
    assert change.field == "public key (Android)"
    # Shown shortened, the two alike: the change is found on the whole key.
    assert change.before == change.after == public_key_short(key)


def test_a_diff_in_chinese_names_the_parts_and_fields(filing):
    before = FilingVersion.objects.filter(filing=filing, kind="approved").last().data
    with translation.override("zh-hans"):
        found = rows(diff(before, {**before, "apps": [], "mini_programs": []}))
    sections = {section for section, *_rest in found}
    assert f"App {filing.number}-1A" in sections
    assert f"小程序 {filing.number}-1X" in sections
    fields = {field for _section, field, *_rest in found}
    assert "证书指纹（Android）" in fields and "分发平台" in fields and "小程序AppID" in fields


# The owner's version page -----------------------------------------------------------------------


def test_the_owner_sees_the_apps_and_mini_programs_of_a_version(client, owner, filing):
    version = FilingVersion.objects.filter(filing=filing, kind="approved").last()
    client.force_login(owner)
    client.cookies["django_language"] = "en"
    body = client.get(reverse("filings:version", args=[version.seq])).content.decode()
    app = body[body.index('data-service-type="app"') :]
    assert "晴空天气" in app and f"{filing.number}-1A" in app
    assert PACKAGE in app and fingerprint_display(aps.ANDROID_MD5) in app
    assert public_key_short(aps.ANDROID_KEY) in app and aps.ANDROID_KEY not in app
    assert "应用宝示例商店" in app
    program = body[body.index('data-service-type="mini_program"') :]
    assert "晴空小助手" in program and WECHAT_ID in program and "WeChat" in program


def test_an_app_added_by_the_owner_shows_as_new_to_the_bureau(owner, filing, otp_client):
    amended = amend(
        owner,
        filing,
        lambda data: data["apps"].append(
            aps.app(name="晴空日历", platforms=[aps.android("com.example.cal")])
        ),
    )
    assert App.objects.filter(filing=amended, number=None).count() == 1
    app = section(page(otp_client(MinistryFactory()), amended), "app")
    assert "晴空日历" in app and ">new<" in app


def test_the_bureau_finds_a_record_by_an_app_or_mini_program_number_typed_loosely(filing):
    from review.selectors import QueueFilters, queue_filings

    ministry = MinistryFactory()
    for typed in (f"{filing.number}-1A", f"{filing.number}-1a", f"{filing.number}－1x"):
        found = queue_filings(ministry, QueueFilters(q=typed, status="all"))
        assert list(found) == [filing], typed
    assert not queue_filings(ministry, QueueFilters(q=f"{filing.number}-2A", status="all"))


def test_the_bureau_finds_a_record_by_a_package_name_a_bundle_id_or_a_mini_program_id(filing):
    from review.selectors import QueueFilters, queue_filings

    ministry = MinistryFactory()
    for typed in (PACKAGE, aps.IOS_BUNDLE.upper(), WECHAT_ID, f"  {WECHAT_ID.upper()} "):
        found = queue_filings(ministry, QueueFilters(q=typed, status="all"))
        assert list(found) == [filing], typed
    assert not queue_filings(ministry, QueueFilters(q="cn.nobody.filed", status="all"))
