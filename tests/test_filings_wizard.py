"""The owner's pages: the wizard (sponsor → websites → documents → check and submit), the task
list (Q24), private documents and the forgotten-username form (Q11)."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from filings import wizard
from filings.models import Access, Filing, FilingDraft
from tests import filings_support as fs
from tests.factories import AccessProviderFactory, BureauFactory, UserFactory

pytestmark = pytest.mark.django_db

SPONSOR_FORM = {
    "nature": "enterprise",
    "name": "北京示例科技有限公司",
    "id_type": "uscc",
    "id_number": fs.USCC,
    "province": "11",
    "address": "北京市海淀区中关村大街1号",
    "principal_name": "张三",
    "principal_id_type": "resident_id",
    "principal_id_number": fs.RESIDENT_ID,
    "principal_mobile": "13700000001",
    "principal_email": "zhangsan@example.cn",
    "action": "continue",
}


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
    return client


def website_form(**overrides):
    form = {
        "name": "示例新闻网",
        "domains": "example.cn",
        "homepage": "http://www.example.cn/",
        "ips": "120.79.1.10",
        "services": ["news", "portal"],
        "commercial": "no",
        "server_location": "11",
        "access_provider": "",
        "action": "continue",
    }
    form.update(overrides)
    return form


def test_a_complete_filing_through_the_browser(browser, owner):
    provider = AccessProviderFactory(name="示例云计算有限公司")
    assert browser.get(reverse("filings:task_list")).status_code == 200

    answer = browser.post(reverse("filings:sponsor"), SPONSOR_FORM)
    assert answer.status_code == 302 and answer["Location"] == reverse("filings:websites")

    # The provider is found by part of its name, without JavaScript.
    searched = browser.post(
        reverse("filings:website-new"),
        website_form(action="search", provider_query="示例云"),
    )
    assert searched.status_code == 200
    assert f'value="{provider.pk}"' in searched.content.decode()
    answer = browser.post(
        reverse("filings:website", args=[0]), website_form(access_provider=provider.pk)
    )
    assert answer["Location"] == reverse("filings:websites")
    answer = browser.post(
        reverse("filings:website-new"),
        website_form(
            name="海外站",
            domains="example-abroad.com",
            homepage="https://example-abroad.com/",
            services=["blog"],
            server_location="other",
            access_provider="other",
        ),
    )
    assert answer["Location"] == reverse("filings:websites")

    answer = browser.post(reverse("filings:websites"))
    assert answer["Location"] == reverse("filings:documents")
    answer = browser.post(
        reverse("filings:documents"),
        {
            "w0-news-authority": "北京市委网信办",
            "w0-news-document_number": "京网信[2026]12号",
            "w0-news-file": fs.upload(fs.PDF_BYTES, "批文.pdf"),
            "action": "continue",
        },
    )
    assert answer["Location"] == reverse("filings:check_answers")

    check = browser.get(reverse("filings:check_answers"))
    page = check.content.decode()
    assert "批文.pdf" in page and "海外站" in page and "示例云计算有限公司" in page
    answer = browser.post(reverse("filings:check_answers"))
    assert answer["Location"] == reverse("filings:submitted")

    filing = Filing.objects.get(owner=owner)
    # The provider named first-reviews it (SPEC §12), by its own deadline.
    assert filing.status == Filing.Status.PROVIDER_REVIEW
    assert filing.has_preapproval
    deadline = filing.applications.get(closed_at=None).provider_deadline
    confirmation = browser.get(reverse("filings:submitted")).content.decode()
    assert 'data-stage="provider_review"' in confirmation
    assert deadline.strftime("%Y-%m-%d") in confirmation and "示例云计算有限公司" in confirmation

    tasks = browser.get(reverse("filings:task_list")).content.decode()
    assert 'data-status="provider_review"' in tasks
    assert 'data-action="edit"' in tasks and 'data-action="revoke"' not in tasks


def test_a_typo_in_an_id_number_is_shown_on_its_field_and_nothing_typed_is_lost(browser, owner):
    typo = {**SPONSOR_FORM, "principal_id_number": "110105194912310021"}
    answer = browser.post(reverse("filings:sponsor"), typo)
    assert answer.status_code == 400
    page = answer.content.decode()
    # The summary links to the field, the message sits beside it, and every value is kept.
    assert 'href="#f-sponsor-principal-id_number"' in page
    assert 'id="f-sponsor-principal-id_number-error"' in page
    assert 'value="110105194912310021"' in page
    assert 'value="北京市海淀区中关村大街1号"' in page
    # The draft is saved too: leaving and coming back shows the same answers.
    again = browser.get(reverse("filings:sponsor")).content.decode()
    assert 'value="110105194912310021"' in again
    assert FilingDraft.objects.filter(filing__owner=owner).exists()


def test_a_field_with_an_error_is_marked_invalid_for_screen_readers(browser):
    typo = {**SPONSOR_FORM, "principal_id_number": "110105194912310021", "province": ""}
    page = browser.post(reverse("filings:sponsor"), typo).content.decode()
    assert re.search(
        r'<input [^>]*id="f-sponsor-principal-id_number"[^>]*aria-invalid="true"', page
    )
    assert re.search(r'<select [^>]*id="f-sponsor-province"[^>]*aria-invalid="true"', page)
    assert not re.search(r'<input [^>]*id="f-sponsor-name"[^>]*aria-invalid', page)


def test_a_website_form_opened_inline_hides_the_buttons_that_would_lose_it(browser, settings):
    # The browser journey (tests/e2e) proves it in Chromium; this keeps the two halves together.
    browser.post(reverse("filings:sponsor"), SPONSOR_FORM)
    page = browser.get(reverse("filings:websites")).content.decode()
    assert '<div id="website-new" class="mb-3" data-focus-new-content></div>' in page
    assert page.count('class="websites-next"') == 2  # "add a website" and "Continue"
    css = (settings.BASE_DIR / "static" / "css" / "site.css").read_text()
    assert "#website-new:not(:empty) ~ .websites-next { display: none; }" in css


def test_the_sponsor_page_speaks_english_when_asked(browser):
    typo = {**SPONSOR_FORM, "id_number": "91350100M000100Y44"}
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # what the language switch sets
    answer = browser.post(reverse("filings:sponsor"), typo)
    assert "check character" in answer.content.decode()


def test_the_sponsor_page_speaks_chinese_by_default(browser):
    answer = browser.get(reverse("filings:sponsor"))
    assert answer.headers["Content-Language"] == "zh-hans"


def test_a_website_with_a_subdomain_and_private_ip_stays_on_its_page_with_both_errors(browser):
    browser.post(reverse("filings:sponsor"), SPONSOR_FORM)
    answer = browser.post(
        reverse("filings:website-new"),
        website_form(
            domains="www.example.cn", ips="192.168.1.1", services=["blog"], access_provider="other"
        ),
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'href="#f-w-domains"' in page and 'href="#f-w-ips"' in page
    assert "example.cn" in page and "192.168.1.1" in page
    # The new website was saved at index 0: the form now posts to its own address.
    assert f'action="{reverse("filings:website", args=[0])}"' in page


def _draft_accesses(owner):
    return FilingDraft.objects.get(filing__owner=owner).data["websites"][0]["accesses"]


def test_a_website_served_by_a_cloud_and_a_cdn_has_two_accesses(browser, owner):
    cloud = AccessProviderFactory(name="示例云计算有限公司")
    cdn = AccessProviderFactory(name="示例加速网络有限公司")
    browser.post(reverse("filings:sponsor"), SPONSOR_FORM)
    first = {"access_provider": cloud.pk, "access_method": "cloud", "services": ["blog"]}

    # "Add another access" keeps what was typed and opens an empty block, nothing flagged yet.
    added = browser.post(reverse("filings:website-new"), website_form(**first, action="add_access"))
    assert added.status_code == 200
    page = added.content.decode()
    assert 'id="f-w-accesses-1-ips"' in page and 'name="access-1-provider"' in page
    assert re.search(r'<input [^>]*name="access-1-provider_query"[^>]*data-autofocus', page)
    assert page.count("data-autofocus") == 1
    assert 'class="error-summary"' not in page and "示例新闻网" in page
    accesses = _draft_accesses(owner)
    assert len(accesses) == 2
    assert accesses[0] == {
        "provider": cloud.pk,
        "method": "cloud",
        "server_location": "11",
        "ips": ["120.79.1.10"],
    }

    # The second block finds its own provider by name, as radios of its own.
    url = reverse("filings:website", args=[0])
    further = {
        "access-1-method": "other",
        "access-1-server_location": "other",
        "access-1-ips": "10.0.0.1",
    }
    searched = browser.post(
        url,
        website_form(
            **first, **further, action="search_access-1", **{"access-1-provider_query": "加速"}
        ),
    ).content.decode()
    assert f'name="access-1-provider" value="{cdn.pk}"' in searched
    assert f'name="access_provider" value="{cdn.pk}"' not in searched
    # As the owner types, with JavaScript, the same candidates come for that block alone.
    fragment = browser.get(
        reverse("filings:provider-search"), {"access": 1, "access-1-provider_query": "加速"}
    ).content.decode()
    assert f'name="access-1-provider" value="{cdn.pk}"' in fragment
    assert f'id="f-w-accesses-1-provider-{cdn.pk}"' in fragment

    # A private address in the second access is shown on its own field; the typing is kept.
    answer = browser.post(url, website_form(**first, **further, **{"access-1-provider": cdn.pk}))
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'href="#f-w-accesses-1-ips"' in page and 'id="f-w-accesses-1-ips-error"' in page
    assert 'href="#f-w-ips"' not in page
    assert re.search(r'<textarea [^>]*id="f-w-accesses-1-ips"[^>]*>10\.0\.0\.1<', page)
    assert 'id="f-w-accesses-1-provider-chosen" checked' in page

    # A first filing goes to one provider's first review (SPEC §12): the second registered
    # provider is refused on its own access, with the way to add it once approved.
    further["access-1-ips"] = "47.95.1.20"
    answer = browser.post(url, website_form(**first, **further, **{"access-1-provider": cdn.pk}))
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'href="#f-w-accesses-1-provider"' in page
    assert "新增接入" in page and 'href="#f-w-access_provider"' not in page
    accesses = _draft_accesses(owner)
    assert [a["provider"] for a in accesses] == [cloud.pk, cdn.pk]
    assert accesses[1]["ips"] == ["47.95.1.20"] and accesses[1]["server_location"] == "other"

    # A second access outside the registered providers goes with the first.
    answer = browser.post(url, website_form(**first, **further, **{"access-1-provider": "other"}))
    assert answer["Location"] == reverse("filings:websites")

    # Check your answers lists both, each with its way back to its inputs.
    check = browser.get(reverse("filings:check_answers")).content.decode()
    assert "示例云计算有限公司" in check and "示例加速网络有限公司" not in check
    assert "47.95.1.20" in check and "120.79.1.10" in check
    assert f"{url}?return=check#f-w-accesses-1-ips" in check
    assert f"{url}?return=check#f-w-access_method" in check

    # Submitted, the working copy's website has both accesses, in order.
    assert browser.post(reverse("filings:check_answers"))["Location"] == reverse(
        "filings:submitted"
    )
    rows = Access.objects.filter(filing__owner=owner).order_by("position")
    assert [(a.provider_id, a.method) for a in rows] == [(cloud.pk, "cloud"), (None, "other")]


def test_removing_a_further_access_keeps_the_first(browser, owner):
    browser.post(reverse("filings:sponsor"), SPONSOR_FORM)
    browser.post(
        reverse("filings:website-new"), website_form(access_provider="other", action="add_access")
    )
    browser.post(
        reverse("filings:website", args=[0]),
        website_form(access_provider="other", ips="120.79.1.11", action="add_access"),
    )
    assert len(_draft_accesses(owner)) == 3
    answer = browser.post(
        reverse("filings:website", args=[0]),
        website_form(
            access_provider="other",
            ips="120.79.1.11",
            action="remove_access-1",
            **{"access-1-method": "other", "access-1-ips": "47.95.1.20"},
            **{"access-2-method": "cloud", "access-2-ips": "47.95.1.21"},
        ),
    )
    assert answer.status_code == 200
    page = answer.content.decode()
    assert 'id="f-w-accesses-1-ips"' in page and 'id="f-w-accesses-2-ips"' not in page
    accesses = _draft_accesses(owner)
    assert [a["ips"] for a in accesses] == [["120.79.1.11"], ["47.95.1.21"]]
    assert accesses[1]["method"] == "cloud"


def test_no_more_accesses_can_be_added_than_the_cap(browser, owner, settings):
    from filings.validation import MAX_ACCESSES

    browser.post(reverse("filings:sponsor"), SPONSOR_FORM)
    browser.post(reverse("filings:website-new"), website_form(access_provider="other"))
    for _ in range(MAX_ACCESSES):
        page = browser.post(
            reverse("filings:website", args=[0]),
            website_form(access_provider="other", action="add_access"),
        ).content.decode()
    assert len(_draft_accesses(owner)) == MAX_ACCESSES
    assert 'value="add_access"' not in page


def test_a_returned_further_access_points_at_its_own_inputs():
    website = {"name": "示例", "accesses": [{"ips": ["120.79.1.10"]}, {"ips": ["47.95.1.20"]}]}
    data = {"sponsor": {}, "websites": [website]}
    path = wizard.return_path("websites.0.accesses.1.ips", data)
    assert path == ("websites", 0, "accesses", 1, "ips")
    assert wizard.anchor(path) == "f-w-accesses-1-ips"
    assert wizard.return_path("websites.0.accesses.0.ips", data) == ("websites", 0, "ips")
    assert wizard.return_path("websites.0.accesses.2.ips", data) is None
    [item] = wizard.return_items([{"field": "websites.0.accesses.1.method", "reason": "x"}], data)
    assert item["href"].endswith("#f-w-accesses-1-method") and "2" in item["label"]


def test_save_and_come_back_later_keeps_an_unfinished_website(browser, owner):
    browser.post(reverse("filings:sponsor"), SPONSOR_FORM)
    answer = browser.post(reverse("filings:website-new"), website_form(domains="", action="later"))
    assert answer["Location"] == reverse("filings:task_list")
    page = browser.get(reverse("filings:website", args=[0])).content.decode()
    assert "示例新闻网" in page


def test_removing_a_website(browser, owner):
    browser.post(reverse("filings:sponsor"), SPONSOR_FORM)
    browser.post(reverse("filings:website-new"), website_form(access_provider="other"))
    assert "示例新闻网" in browser.get(reverse("filings:website-remove", args=[0])).content.decode()
    browser.post(reverse("filings:website-remove", args=[0]))
    assert FilingDraft.objects.get(filing__owner=owner).data["websites"] == []


def test_an_oversized_or_disguised_document_is_refused_on_its_field(browser, settings):
    settings.UPLOAD_MAX_BYTES = 64
    browser.post(reverse("filings:sponsor"), SPONSOR_FORM)
    browser.post(reverse("filings:website-new"), website_form(access_provider="other"))
    answer = browser.post(
        reverse("filings:documents"),
        {
            "w0-news-authority": "北京市委网信办",
            "w0-news-document_number": "京网信[2026]12号",
            "w0-news-file": fs.upload(b"MZ" + b"\x00" * 10, "approval.pdf"),
        },
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'href="#f-websites-0-preapprovals-0-document"' in page
    assert 'value="北京市委网信办"' in page
    big = browser.post(
        reverse("filings:documents"), {"w0-news-file": fs.upload(fs.PDF_BYTES, "big.pdf")}
    )
    assert big.status_code == 400 and "MB" in big.content.decode()


def test_a_commercial_website_is_refused_at_submission_with_the_licence_guidance(browser):
    browser.post(reverse("filings:sponsor"), SPONSOR_FORM)
    browser.post(
        reverse("filings:website-new"),
        website_form(services=["blog"], access_provider="other", commercial="yes"),
    )
    answer = browser.post(reverse("filings:check_answers"))
    assert answer.status_code == 400
    assert "增值电信业务经营许可证" in answer.content.decode()


def test_the_owner_downloads_their_document_and_nobody_else_can(browser, owner):
    from filings import services

    filing = services.filing_create(owner=owner)
    document = services.document_upload(filing=filing, by=owner, file=fs.upload(fs.PDF_BYTES))
    url = reverse("filings:document", args=[document.pk])
    answer = browser.get(url)
    assert answer.status_code == 200 and b"".join(answer.streaming_content) == fs.PDF_BYTES
    assert answer["Content-Type"] == "application/pdf"
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(url).status_code == 404


def test_the_provider_search_suggests_candidates_as_html_or_json(browser):
    AccessProviderFactory(name="华北示例云")
    AccessProviderFactory(name="另一家接入商")
    AccessProviderFactory(name="示例云（停用）", is_active=False)
    fragment = browser.get(reverse("filings:provider-search"), {"q": "示例云"}).content.decode()
    assert "华北示例云" in fragment and "停用" not in fragment and "另一家" not in fragment
    data = browser.get(reverse("filings:provider-search"), {"q": "示例", "format": "json"}).json()
    assert [r["name"] for r in data["results"]] == ["华北示例云"]


def test_the_task_list_offers_amend_revoke_and_certificate_once_approved(browser, owner):
    filing = fs.approve(fs.submitted_filing(owner))
    page = browser.get(reverse("filings:task_list")).content.decode()
    assert 'data-status="approved"' in page and filing.number in page
    assert 'data-action="amend"' in page and 'data-action="revoke"' in page
    assert 'data-action="submit"' not in page
    answer = browser.post(reverse("filings:revocation"), {"reason": ""})
    assert answer.status_code == 400
    browser.post(reverse("filings:revocation"), {"reason": "网站已关闭"})
    filing.refresh_from_db()
    assert filing.status == Filing.Status.REVOCATION_PENDING
    page = browser.get(reverse("filings:task_list")).content.decode()
    assert 'data-action="amend"' not in page and 'data-action="revoke"' not in page
    # Editing pages are closed while the revocation is decided.
    assert browser.get(reverse("filings:sponsor"))["Location"] == reverse("filings:task_list")


def test_the_task_list_shows_conflicts(browser, owner):
    fs.submitted_filing(UserFactory())
    fs.submitted_filing(owner, fs.data(sponsor={"name": "另一家公司"}))
    page = browser.get(reverse("filings:task_list")).content.decode()
    assert "example.cn" in page and 'id="conflicts-title"' in page


def test_versions_are_listed_and_readable(browser, owner):
    fs.submitted_filing(owner)
    page = browser.get(reverse("filings:task_list")).content.decode()
    assert reverse("filings:version", args=[1]) in page
    assert (
        "北京示例科技有限公司" in browser.get(reverse("filings:version", args=[1])).content.decode()
    )
    assert browser.get(reverse("filings:version", args=[2])).status_code == 404


def test_staff_do_not_use_the_owner_pages():
    client = Client()
    client.force_login(BureauFactory())
    assert client.get(reverse("filings:task_list")).status_code in (302, 403)


def test_signed_out_visitors_are_sent_to_sign_in():
    answer = Client().get(reverse("filings:task_list"))
    assert answer.status_code == 302 and "login" in answer["Location"]


@pytest.fixture
def captcha_passes(monkeypatch):
    from captcha.conf import settings as captcha_settings

    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)


def test_the_forgotten_username_form_answers_the_same_and_never_shows_the_username(
    captcha_passes, outbox_messages
):
    owner = UserFactory(username="zhangsan2026")
    filing = fs.approve(fs.submitted_filing(owner))
    client = Client()
    url = reverse("filings:forgot-username")
    known = client.post(url, {"number": filing.number, "captcha_0": "x", "captcha_1": "PASSED"})
    unknown = client.post(
        url, {"number": "京ICP备2099000001号", "captcha_0": "x", "captcha_1": "PASSED"}
    )
    assert known.status_code == unknown.status_code == 200
    strip = re.compile(r"csrfmiddlewaretoken\" value=\"[^\"]+\"")
    assert strip.sub("", known.content.decode()) == strip.sub("", unknown.content.decode())
    assert "zhangsan2026" not in known.content.decode()
    assert any("zhangsan2026" in m["body"] for m in outbox_messages(to=owner.email))


def test_the_forgotten_username_form_needs_the_captcha(captcha_passes):
    answer = Client().post(
        reverse("filings:forgot-username"),
        {"number": "京ICP备2026000001号", "captcha_0": "x", "captcha_1": "WRONG"},
    )
    assert answer.status_code == 400
