"""The owner's pages for apps and mini-programs (SPEC §13): the task list's two parts, an app's
four pages (with its signed package read to fill its platforms), a mini-program's two, the
documents page, check your answers, and an app added to an approved record as an amendment."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from filings import app_wizard, selectors, wizard
from filings.models import App, Filing, FilingDraft, MiniProgram
from tests import app_support as aps
from tests import filings_support as fs
from tests.factories import AccessProviderFactory, UserFactory
from tests.test_filings_wizard import SPONSOR_FORM, website_form

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "apps"


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def browser(owner):
    client = Client()
    client.force_login(owner)
    client.post(reverse("filings:sponsor"), SPONSOR_FORM)
    return client


def package(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (FIXTURES / name).read_bytes() if content is None else content)


def draft_app(owner, index: int = 0) -> dict:
    return FilingDraft.objects.get(filing__owner=owner).data["apps"][index]


def content_form(**overrides):
    return {"name": "示例App", "services": ["corporate"], "commercial": "no", **overrides}


def platform_form(j: int = 0, **values):
    fields = {"platform": "", "identifier": "", "public_key": "", "fingerprint": ""}
    fields.update(values)
    return {app_wizard.platform_input(j, k): v for k, v in fields.items()}


ANDROID_FORM = platform_form(
    platform="android",
    identifier=aps.ANDROID_PACKAGE,
    public_key=aps.ANDROID_KEY,
    fingerprint=aps.ANDROID_MD5,
)
ACCESS_FORM = {
    "access_provider": "other",
    "access_method": "cloud",
    "server_location": "11",
    "ips": "120.79.1.20",
}


def an_app(browser, **content):
    """An app answered on each of its pages; its index."""
    answer = browser.post(reverse("filings:app-new"), content_form(**content))
    index = int(re.search(r"/apps/(\d+)/platforms/", answer["Location"]).group(1))
    browser.post(reverse("filings:app-platforms", args=[index]), ANDROID_FORM)
    browser.post(
        reverse("filings:app-domains", args=[index]),
        {"domains": "api.example.cn", "stores": ["other"]},
    )
    browser.post(reverse("filings:app-accesses", args=[index]), ACCESS_FORM)
    return index


def a_mini_program(browser):
    browser.post(reverse("filings:mini-program-new"), content_form(name="示例小程序"))
    browser.post(
        reverse("filings:mini-program-platform", args=[0]),
        {"platform": "wechat", "platform_id": "wx0123456789abcdef"},
    )


# --- The whole way through ---------------------------------------------------------------------


def test_an_app_and_a_mini_program_are_filed_through_their_pages(browser, owner):
    answer = browser.post(reverse("filings:app-new"), content_form())
    assert answer["Location"] == reverse("filings:app-platforms", args=[0])
    answer = browser.post(reverse("filings:app-platforms", args=[0]), ANDROID_FORM)
    assert answer["Location"] == reverse("filings:app-domains", args=[0])
    answer = browser.post(
        reverse("filings:app-domains", args=[0]),
        {"domains": "api.example.cn\nimg.example.cn", "stores": ["other"]},
    )
    assert answer["Location"] == reverse("filings:app-accesses", args=[0])
    answer = browser.post(reverse("filings:app-accesses", args=[0]), ACCESS_FORM, follow=True)
    assert answer.redirect_chain[-1][0] == reverse("filings:apps")
    page = answer.content.decode()
    assert "App“示例App”已保存。" in page and 'data-state="completed"' in page

    answer = browser.post(reverse("filings:mini-program-new"), content_form(name="示例小程序"))
    assert answer["Location"] == reverse("filings:mini-program-platform", args=[0])
    answer = browser.post(
        reverse("filings:mini-program-platform", args=[0]),
        {"platform": "wechat", "platform_id": "WX0123456789ABCDEF"},
    )
    assert answer["Location"] == reverse("filings:mini-programs")

    # No website: the record of an app and a mini-program goes on to check your answers.
    assert browser.post(reverse("filings:mini-programs"))["Location"] == reverse(
        "filings:check_answers"
    )
    check = browser.get(reverse("filings:check_answers")).content.decode()
    assert "示例App" in check and "示例小程序" in check and aps.ANDROID_PACKAGE in check
    assert "68:FF:1D:5F" in check  # the fingerprint as people read it
    assert (
        f"{reverse('filings:app-platforms', args=[0])}?return=check#f-a-platforms-0-identifier"
        in check
    )
    assert (
        f"{reverse('filings:mini-program-platform', args=[0])}?return=check#f-m-platform_id"
        in check
    )
    assert 'class="error-summary"' not in check

    assert browser.post(reverse("filings:check_answers"))["Location"] == reverse(
        "filings:submitted"
    )
    filing = Filing.objects.get(owner=owner)
    assert filing.status == Filing.Status.PENDING_REVIEW
    app = App.objects.get(filing=filing)
    assert app.app_domains == ["api.example.cn", "img.example.cn"]
    assert app.identifiers.get().fingerprint == aps.ANDROID_MD5
    program = MiniProgram.objects.get(filing=filing)
    assert program.identifiers.get().identifier == "wx0123456789abcdef"
    assert not filing.websites.exists()


def test_the_task_list_has_an_apps_part_and_a_mini_programs_part_with_their_states(browser, owner):
    def states():
        page = browser.get(reverse("filings:task_list")).content.decode()
        return dict(re.findall(r'data-section="(\w+)" data-state="(\w+)"', page))

    assert states()["apps"] == states()["mini_programs"] == "not_started"
    browser.post(reverse("filings:website-new"), website_form(access_provider="other"))
    # A record needs one service of any kind: with a website, the other kinds are optional.
    assert states()["apps"] == states()["mini_programs"] == "optional"
    browser.post(reverse("filings:app-new"), content_form())
    assert states()["apps"] == "in_progress"
    browser.post(
        reverse("filings:app-platforms", args=[0]),
        {**ANDROID_FORM, app_wizard.platform_input(0, "fingerprint"): aps.IOS_SHA1},
    )
    browser.post(reverse("filings:app-domains", args=[0]), {"domains": "", "stores": ["other"]})
    browser.post(reverse("filings:app-accesses", args=[0]), ACCESS_FORM)
    # Everything answered, and a SHA-1 fingerprint where Android asks MD5: no typing finishes it.
    assert states()["apps"] == "needs_attention"
    page = browser.get(reverse("filings:apps")).content.decode()
    assert 'data-state="needs_attention"' in page
    assert f'href="{reverse("filings:app-platforms", args=[0])}"' in page
    browser.post(reverse("filings:app-platforms", args=[0]), ANDROID_FORM)
    assert states()["apps"] == "completed"


def test_an_approved_records_owner_adds_an_app_and_a_mini_program_as_an_amendment(owner):
    filing = fs.approve(fs.submitted_filing(owner))
    browser = Client()
    browser.force_login(owner)
    tasks = browser.get(reverse("filings:task_list")).content.decode()
    assert f'href="{reverse("filings:apps")}"' in tasks

    an_app(browser)
    a_mini_program(browser)
    check = browser.get(reverse("filings:check_answers")).content.decode()
    assert "示例App" in check and "提交变更" in check
    # What the amendment changes names the new app and mini-program with their values.
    changes = re.search(r'aria-labelledby="amended-heading".*?</section>', check, re.S).group(0)
    assert "示例App" in changes and aps.ANDROID_PACKAGE in changes
    assert "证书指纹（Android）" in changes
    assert "wx0123456789abcdef" in changes and "微信" in changes
    assert browser.post(reverse("filings:check_answers"))["Location"] == reverse(
        "filings:submitted"
    )
    filing.refresh_from_db()
    assert filing.status == Filing.Status.AMENDMENT_PENDING
    fs.approve(filing)
    assert App.objects.get(filing=filing).number == f"{filing.number}-1A"
    assert MiniProgram.objects.get(filing=filing).number == f"{filing.number}-1X"


# --- Each page saves and keeps what was typed ------------------------------------------------------


def test_the_name_page_keeps_what_was_typed_and_says_what_is_missing(browser, owner):
    answer = browser.post(reverse("filings:app-new"), content_form(name="", services=["news"]))
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'href="#f-a-name"' in page and 'id="f-a-name-error"' in page
    assert re.search(r'<input [^>]*id="f-a-name"[^>]*aria-invalid="true"', page)
    assert 'id="f-a-services-news" checked' in page
    # Saved at index 0: the form now posts to the app's own address.
    assert f'action="{reverse("filings:app", args=[0])}"' in page
    assert draft_app(owner)["services"] == ["news"]


def test_the_platforms_page_keeps_a_mistyped_identifier_on_its_field(browser, owner):
    browser.post(reverse("filings:app-new"), content_form())
    url = reverse("filings:app-platforms", args=[0])
    answer = browser.post(url, {**ANDROID_FORM, "platform-0-identifier": "1cn.example"})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'href="#f-a-platforms-0-identifier"' in page
    assert 'id="f-a-platforms-0-identifier-error"' in page and 'value="1cn.example"' in page
    assert draft_app(owner)["platforms"][0]["identifier"] == "1cn.example"
    assert browser.get(url).content.decode().count('value="1cn.example"') == 1


def test_the_domains_page_asks_for_a_distribution_platform_and_keeps_the_domains(browser, owner):
    browser.post(reverse("filings:app-new"), content_form())
    answer = browser.post(
        reverse("filings:app-domains", args=[0]), {"domains": "api.example.cn\nbad..domain"}
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'href="#f-a-domains"' in page and 'href="#f-a-stores"' in page
    assert "api.example.cn\nbad..domain</textarea>" in page
    assert draft_app(owner)["domains"] == ["api.example.cn", "bad..domain"]


def test_the_accesses_page_reuses_the_website_access_inputs(browser, owner):
    cloud = AccessProviderFactory(name="示例云计算有限公司")
    browser.post(reverse("filings:app-new"), content_form())
    url = reverse("filings:app-accesses", args=[0])
    searched = browser.post(url, {**ACCESS_FORM, "action": "search", "provider_query": "示例云"})
    assert searched.status_code == 200
    assert f'name="access_provider" value="{cloud.pk}"' in searched.content.decode()
    added = browser.post(
        url, {**ACCESS_FORM, "access_provider": cloud.pk, "action": "add_access"}
    ).content.decode()
    assert 'name="access-1-provider"' in added and "App的服务器" in added
    answer = browser.post(
        url,
        {
            **ACCESS_FORM,
            "access_provider": cloud.pk,
            "access-1-provider": "other",
            "access-1-method": "other",
            "access-1-server_location": "other",
            "access-1-ips": "10.0.0.1",
        },
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'href="#f-w-accesses-1-ips"' in page
    assert re.search(r'<textarea [^>]*id="f-w-accesses-1-ips"[^>]*>10\.0\.0\.1<', page)
    accesses = draft_app(owner)["accesses"]
    assert [a["provider"] for a in accesses] == [cloud.pk, "other"]


def test_the_mini_program_platform_page_keeps_a_wrong_appid_and_shows_the_form(browser, owner):
    browser.post(reverse("filings:mini-program-new"), content_form(name="示例小程序"))
    url = reverse("filings:mini-program-platform", args=[0])
    assert "wx0123456789abcdef" in browser.get(url).content.decode()  # the hint
    answer = browser.post(url, {"platform": "alipay", "platform_id": "wx0123456789abcdef"})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'href="#f-m-platform_id"' in page and 'id="f-m-platform_id-error"' in page
    assert 'value="wx0123456789abcdef"' in page and 'id="f-m-platform-alipay" checked' in page
    draft = FilingDraft.objects.get(filing__owner=owner).data["mini_programs"][0]
    assert draft["platform_id"] == "wx0123456789abcdef"


def test_come_back_later_keeps_an_unfinished_app(browser, owner):
    browser.post(reverse("filings:app-new"), content_form())
    answer = browser.post(
        reverse("filings:app-platforms", args=[0]),
        {**platform_form(platform="ios", identifier="cn.example"), "action": "later"},
    )
    assert answer["Location"] == reverse("filings:task_list")
    assert (
        'value="cn.example"'
        in browser.get(reverse("filings:app-platforms", args=[0])).content.decode()
    )


# --- The signed package ----------------------------------------------------------------------------


def test_an_apk_fills_the_android_platform_and_is_not_kept(browser, owner, tmp_path):
    browser.post(reverse("filings:app-new"), content_form())
    answer = browser.post(
        reverse("filings:app-platforms", args=[0]),
        {**platform_form(), "platform-0-package": package("demo-v1v2.apk")},
    )
    # The values are shown to be checked before going on.
    assert answer.status_code == 200
    page = answer.content.decode()
    assert f'value="{aps.ANDROID_PACKAGE}"' in page and f'value="{aps.ANDROID_MD5}"' in page
    assert 'id="f-a-platforms-0-platform-android" checked' in page
    assert "已读取“demo-v1v2.apk”（文件不保存）。已根据其签名填入" in page
    platform = draft_app(owner)["platforms"][0]
    assert platform == aps.android()
    assert list(tmp_path.rglob("*.apk")) == []
    # Going on, nothing is left to fix on the page.
    answer = browser.post(
        reverse("filings:app-platforms", args=[0]),
        platform_form(
            platform="android",
            identifier=platform["identifier"],
            public_key=platform["public_key"],
            fingerprint=platform["fingerprint"],
        ),
    )
    assert answer["Location"] == reverse("filings:app-domains", args=[0])


def test_an_ipa_fills_the_ios_platform(browser, owner):
    browser.post(reverse("filings:app-new"), content_form())
    answer = browser.post(
        reverse("filings:app-platforms", args=[0]),
        {**platform_form(), "platform-0-package": package("demo.ipa"), "action": "read_package"},
    )
    assert answer.status_code == 200
    assert draft_app(owner)["platforms"][0] == aps.ios()


def test_a_package_signed_by_another_certificate_says_so_on_the_fingerprint(browser, owner):
    other = "00112233445566778899AABBCCDDEEFF"
    browser.post(reverse("filings:app-new"), content_form())
    answer = browser.post(
        reverse("filings:app-platforms", args=[0]),
        {
            **platform_form(platform="android", fingerprint=other),
            "platform-0-package": package("demo-v1v2.apk"),
        },
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'href="#f-a-platforms-0-fingerprint"' in page
    error = re.search(r'id="f-a-platforms-0-fingerprint-error">(.*?)</p>', page, re.S).group(1)
    assert "68:FF:1D:5F" in error and "00:11:22:33" in error
    # What was typed stays; what was empty is filled from the package.
    platform = draft_app(owner)["platforms"][0]
    assert platform["fingerprint"] == other
    assert platform["identifier"] == aps.ANDROID_PACKAGE


def test_a_package_of_another_platform_is_refused_on_the_upload(browser, owner):
    browser.post(reverse("filings:app-new"), content_form())
    answer = browser.post(
        reverse("filings:app-platforms", args=[0]),
        {**platform_form(platform="ios"), "platform-0-package": package("demo-v1v2.apk")},
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert (
        'href="#f-a-platforms-0-package"' in page and 'id="f-a-platforms-0-package-error"' in page
    )
    assert draft_app(owner)["platforms"][0]["identifier"] == ""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_corrupt_package_is_refused_on_the_upload_field(browser, owner, language):
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    browser.post(reverse("filings:app-new"), content_form())
    typed = platform_form(platform="android", identifier=aps.ANDROID_PACKAGE)
    answer = browser.post(
        reverse("filings:app-platforms", args=[0]),
        {**typed, "platform-0-package": package("demo-truncated.apk")},
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'href="#f-a-platforms-0-package"' in page
    error = re.search(r'id="f-a-platforms-0-package-error">(.*?)</p>', page, re.S).group(1)
    assert ("damaged" if language == "en" else "损坏") in error
    assert f'value="{aps.ANDROID_PACKAGE}"' in page


def test_an_oversized_package_is_refused_with_the_limit(browser, owner, settings):
    settings.APP_PACKAGE_MAX_BYTES = 1024
    browser.post(reverse("filings:app-new"), content_form())
    answer = browser.post(
        reverse("filings:app-platforms", args=[0]),
        {**platform_form(), "platform-0-package": package("demo-v1v2.apk")},
    )
    assert answer.status_code == 400
    error = re.search(
        r'id="f-a-platforms-0-package-error">(.*?)</p>', answer.content.decode(), re.S
    ).group(1)
    assert "MB" in error


def test_platforms_are_added_up_to_three_and_removed(browser, owner):
    browser.post(reverse("filings:app-new"), content_form())
    url = reverse("filings:app-platforms", args=[0])
    page = browser.post(url, {**ANDROID_FORM, "action": "add_platform"}).content.decode()
    assert 'name="platform-1-identifier"' in page and 'class="error-summary"' not in page
    ios = platform_form(1, platform="ios", identifier=aps.IOS_BUNDLE)
    page = browser.post(url, {**ANDROID_FORM, **ios, "action": "add_platform"}).content.decode()
    assert 'value="add_platform"' not in page  # three is the most
    browser.post(url, {**ANDROID_FORM, **ios, **platform_form(2), "action": "remove_platform-0"})
    assert [p["platform"] for p in draft_app(owner)["platforms"]] == ["ios", ""]


# --- Distribution platforms -------------------------------------------------------------------------


def test_distribution_platforms_are_found_by_name_and_chosen(browser, owner):
    store = AccessProviderFactory(
        name="示例应用市场", is_access_provider=False, is_distribution_platform=True
    )
    AccessProviderFactory(
        name="示例应用市场（停用）", is_distribution_platform=True, is_active=False
    )
    AccessProviderFactory(name="示例应用云")  # an access provider only
    assert selectors.distribution_platform_candidates("应用", limit=10) == [store]
    assert selectors.distribution_platform_candidates("  ", limit=10) == []

    fragment = browser.get(
        reverse("filings:store-candidates"), {"store_query": "应用"}
    ).content.decode()
    assert f'name="stores" value="{store.pk}"' in fragment and "停用" not in fragment
    data = browser.get(reverse("filings:store-candidates"), {"q": "应用", "format": "json"}).json()
    assert data == {
        "results": [
            {"id": store.pk, "name": "示例应用市场", "licence_number": store.licence_number}
        ]
    }
    # Chosen already, it is not offered again.
    chosen = browser.get(
        reverse("filings:store-candidates"), {"store_query": "应用", "stores": [store.pk]}
    ).content.decode()
    assert f'value="{store.pk}"' not in chosen

    # Without JavaScript: the search button lists it, ticking it chooses it.
    browser.post(reverse("filings:app-new"), content_form())
    url = reverse("filings:app-domains", args=[0])
    page = browser.post(
        url, {"domains": "", "store_query": "应用", "action": "search_store"}
    ).content.decode()
    assert f'id="f-a-stores-{store.pk}"' in page and 'class="error-summary"' not in page
    assert browser.post(url, {"domains": "", "stores": [str(store.pk), "other"]})[
        "Location"
    ] == reverse("filings:app-accesses", args=[0])
    assert draft_app(owner)["stores"] == [store.pk, "other"]
    page = browser.get(url).content.decode()
    assert f'id="f-a-stores-{store.pk}" checked' in page and 'id="f-a-stores-other" checked' in page


# --- Documents, check your answers, removal --------------------------------------------------------


def test_an_apps_pre_approval_is_uploaded_on_the_documents_page(browser, owner):
    an_app(browser, services=["news"])
    assert browser.post(reverse("filings:apps"))["Location"] == reverse("filings:documents")
    page = browser.get(reverse("filings:documents")).content.decode()
    assert 'name="a0-news-authority"' in page
    answer = browser.post(
        reverse("filings:documents"),
        {
            "a0-news-authority": "北京市委网信办",
            "a0-news-document_number": "京网信[2026]12号",
            "a0-news-file": fs.upload(fs.PDF_BYTES, "批文.pdf"),
        },
    )
    assert answer["Location"] == reverse("filings:check_answers")
    entry = draft_app(owner)["preapprovals"][0]
    assert entry["authority"] == "北京市委网信办" and entry["document"]
    assert "批文.pdf" in browser.get(reverse("filings:check_answers")).content.decode()


def test_check_your_answers_links_each_problem_to_its_field_on_its_page(browser, owner):
    browser.post(reverse("filings:app-new"), content_form())
    browser.post(
        reverse("filings:app-platforms", args=[0]),
        {**ANDROID_FORM, "platform-0-identifier": "cn"},
    )
    browser.post(reverse("filings:mini-program-new"), content_form(name="示例小程序"))
    answer = browser.post(reverse("filings:check_answers"))
    assert answer.status_code == 400
    page = answer.content.decode()
    platforms = reverse("filings:app-platforms", args=[0])
    assert f'href="{platforms}?check=1#f-a-platforms-0-identifier"' in page
    assert f'href="{reverse("filings:app-domains", args=[0])}?check=1#f-a-stores"' in page
    assert f'href="{reverse("filings:app-accesses", args=[0])}?check=1#f-w-access_provider"' in page
    program = reverse("filings:mini-program-platform", args=[0])
    assert f'href="{program}?check=1#f-m-platform"' in page
    # The link opens the page with the problem beside its field.
    opened = browser.get(f"{platforms}?check=1").content.decode()
    assert 'id="f-a-platforms-0-identifier-error"' in opened
    assert "f-a-stores" not in opened


def test_an_app_is_removed_after_asking(browser, owner):
    an_app(browser)
    assert "示例App" in browser.get(reverse("filings:app-remove", args=[0])).content.decode()
    assert browser.post(reverse("filings:app-remove", args=[0]))["Location"] == reverse(
        "filings:apps"
    )
    assert FilingDraft.objects.get(filing__owner=owner).data["apps"] == []
    assert browser.get(reverse("filings:app", args=[0])).status_code == 404


def test_the_list_refuses_to_go_on_without_any_service_and_with_an_unfinished_app(browser):
    answer = browser.post(reverse("filings:apps"))
    assert answer.status_code == 400 and 'href="#add-service"' in answer.content.decode()
    answer = browser.post(reverse("filings:websites"))
    assert answer.status_code == 400
    browser.post(reverse("filings:app-new"), content_form())
    answer = browser.post(reverse("filings:apps"))
    assert answer.status_code == 400
    assert f'href="{reverse("filings:app-platforms", args=[0])}?check=1"' in answer.content.decode()
    # An app alone is enough: the websites page lets the owner go on without a website.
    an_app(browser)
    browser.post(reverse("filings:app-remove", args=[0]))
    assert browser.post(reverse("filings:websites"))["Location"] == reverse("filings:check_answers")


def test_the_app_pages_read_in_english(browser):
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    browser.post(reverse("filings:app-new"), content_form())
    page = browser.get(reverse("filings:app-platforms", args=[0])).content.decode()
    assert "Signed package (optional)" in page and "not kept" in page
    answer = browser.post(reverse("filings:app-domains", args=[0]), {"domains": ""})
    assert "Choose at least one distribution platform" in answer.content.decode()


def test_a_return_about_an_apps_fingerprint_points_at_its_input():
    data = {"sponsor": {}, "websites": [], "apps": [aps.app()], "mini_programs": []}
    path = wizard.return_path("apps.0.platforms.0.fingerprint", data)
    assert path == ("apps", 0, "platforms", 0, "fingerprint")
    assert wizard.anchor(path) == "f-a-platforms-0-fingerprint"
    assert wizard.step_url(path) == reverse("filings:app-platforms", args=[0])
    assert wizard.return_path("apps.0.platforms.1.fingerprint", data) is None
    assert wizard.anchor(("apps", 0, "accesses", 0, "ips")) == "f-w-ips"
    [item] = wizard.return_items([{"field": "apps.0.stores", "reason": "x"}], data)
    assert item["href"] == f"{reverse('filings:app-domains', args=[0])}#f-a-stores"
