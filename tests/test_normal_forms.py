"""What people type and paste: one normal form per kind of value, at every entrance.

Each failing input reported from real filings is checked where it enters — the wizard's
rules, the owner API, provider imports (API and CSV), the public query, access gating, the
forgotten-username form — and where it is compared (conflicts) and searched (the query).
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.urls import reverse
from rest_framework.test import APIClient

from beian.coded import render
from beian.models import TopLevelDomain
from beian.normalforms.addresses import normalize_ip
from beian.normalforms.certificates import (
    resident_id_check_digit,
    uscc_check_character,
    validate_certificate,
)
from beian.normalforms.domains import domain_unicode, homepage_key, normalize_domain
from beian.normalforms.emails import normalize_email
from beian.normalforms.filing_numbers import parse_filing_number
from beian.normalforms.mobiles import normalize_mobile
from beian.normalforms.names import clean_name, name_key, written_in_other_script
from filings.models import Conflict, Filing, PublishedWebsite
from filings.validation import validate_filing_data, validate_homepage, validate_ip
from providers import import_jobs, imports
from public.selectors import parse_query
from tests import filings_support as fs
from tests import review_support as rs
from tests.factories import UserFactory
from tests.providers_support import approved_filing, provider_staff

pytestmark = pytest.mark.django_db

IOS_WRAPPED_MOBILE = "\u202d13800138000\u202c"
# A 2023 Foreign Permanent Resident ID Card number (GA 2102-2023): 9, province 11, country 840,
# born 1990-03-07, sequence 123, and its GB 11643 check digit.
FPR_BODY = "91184019900307123"
FPR = FPR_BODY + resident_id_check_digit(FPR_BODY)
PUBLIC = "/api/v1/public/filings/"


@pytest.fixture(autouse=True)
def _in_english(english):
    """The messages are read in English."""


def check(payload):
    return validate_filing_data(payload, filing=Filing())


def public_count(client, q):
    answer = client.get(PUBLIC, {"q": q})
    assert answer.status_code == 200, answer.content
    return answer.json()["count"]


# Names: conflicts and the public query agree -----------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["北京猎虫（北京）科技有限公司", "北京猎虫(北京)科技有限公司", "猎虫（北京）", "獵蟲(北京)"],
)
def test_a_branch_company_with_full_width_brackets_is_found_however_the_brackets_are_typed(
    client, query
):
    rs.approved(name="北京猎虫（北京）科技有限公司", domains=["liechong.cn"])
    assert public_count(client, query) == 1


@pytest.mark.parametrize("dot", ["\u2022", "\u30fb", "\u2027", "\u22c5", "\uff65", "\u0387"])
def test_a_middle_dot_look_alike_is_the_same_name_for_conflicts_and_the_query(client, dot):
    first = rs.approved(name="阿卜杜·热合曼", domains=["abdu.cn"])
    later = rs.submit(name=f"阿卜杜{dot}热合曼", domains=["abdu-other.cn"])
    conflict = Conflict.objects.get(filing=later, resolved_at=None)
    assert (conflict.field, conflict.other_filing_id) == (Conflict.Field.SPONSOR_NAME, first.pk)
    assert public_count(client, f"阿卜杜{dot}热合曼") == 1
    assert public_count(client, "阿卜杜·热合曼") == 1


def test_spaces_between_chinese_characters_make_no_other_name(client):
    first = rs.approved(name="北京 猎虫 网络有限公司", domains=["liechong-net.cn"])
    later = rs.submit(name="北京猎虫网络有限公司", domains=["liechong-web.cn"])
    assert Conflict.objects.filter(
        filing=later, field=Conflict.Field.SPONSOR_NAME, other_filing=first
    ).exists()
    assert public_count(client, "北京猎虫网络") == 1
    assert public_count(client, "北京 猎虫 网络") == 1


def test_a_space_between_latin_words_still_separates_them():
    assert name_key("ABC Tech 有限公司") == "abc tech有限公司"
    assert name_key("ABC Tech") != name_key("ABCTech")


def test_traditional_and_simplified_writings_are_one_name_and_the_reviewer_is_told_why(
    client, otp_client
):
    first = rs.approved(name="華為科技有限公司", domains=["huawei-demo.cn"])
    later = rs.submit(name="华为科技有限公司", domains=["huawei-other.cn"])
    assert Conflict.objects.filter(
        filing=later, field=Conflict.Field.SPONSOR_NAME, other_filing=first
    ).exists()
    assert public_count(client, "华为科技") == 1
    page = otp_client(rs.beijing_reviewer()).get(reverse("review:detail", args=[later.pk]))
    assert page.status_code == 200
    # The page is in Chinese, the portal's language.
    assert "是同一名称的繁体和简体写法" in page.content.decode()
    assert written_in_other_script("華為", "华为")
    assert not written_in_other_script("华为（北京）", "华为(北京)")


def test_names_are_stored_without_invisible_characters_and_with_one_middle_dot():
    assert clean_name("\u200b阿卜杜•热合曼\ufeff  ") == "阿卜杜·热合曼"
    cleaned, errors = check(fs.data(sponsor={"name": "\u202a北京示例科技有限公司\u202c"}))
    assert not errors
    assert cleaned["sponsor"]["name"] == "北京示例科技有限公司"


# Invisible and full-width characters -------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (IOS_WRAPPED_MOBILE, "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("\ufeff+86 138-0013-8000", "13800138000"),
    ],
)
def test_a_pasted_mobile_is_its_11_digits(typed, stored):
    assert normalize_mobile(typed) == stored
    cleaned, errors = check(
        fs.data(sponsor={"principal": {**fs.SPONSOR["principal"], "mobile": typed}})
    )
    assert not errors
    assert cleaned["sponsor"]["principal"]["mobile"] == stored


def test_registration_through_the_api_takes_a_mobile_copied_from_an_ios_contact(
    fast_password_hashing,
):
    answer = APIClient().post(
        "/api/v1/accounts/register/",
        {
            "username": "paster",
            "password": "a-long-Passphrase-42",
            "email": "ｐａｓｔｅｒ＠example．cn",
            "mobile": IOS_WRAPPED_MOBILE,
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    user = UserFactory._meta.model.objects.get(username="paster")
    assert (user.mobile, user.email) == ("13800138000", "paster@example.cn")


def test_certificate_numbers_credit_codes_emails_and_numbers_lose_invisible_and_wide_characters():
    assert validate_certificate("uscc", "\u200b９１３５０１００Ｍ０００１００Ｙ４３") == fs.USCC
    assert validate_certificate("resident_id", "\u202d11010519491231002x\u202c") == fs.RESIDENT_ID
    assert normalize_email("\u200bｚｈａｎｇ＠ＥＸＡＭＰＬＥ。ｃｎ") == "zhang@example.cn"
    assert parse_filing_number("\u202a京ｉｃｐ备2026000001-2\u202c").text == "京ICP备2026000001号-2"
    assert normalize_domain("\ufeffＥＸＡＭＰＬＥ．ｃｎ") == "example.cn"


# Domains -----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["example.cn。", "example。cn", "example．cn", "example｡cn."])
def test_the_rfc_3490_separators_and_a_trailing_one_are_full_stops_in_the_wizard(typed):
    cleaned, errors = check(fs.data(websites=[fs.website(domains=[typed])]))
    assert not errors
    assert cleaned["websites"][0]["domains"] == ["example.cn"]


def test_the_query_and_gating_find_a_domain_typed_with_an_ideographic_full_stop(client):
    filing = approved_filing(domains=["chinese-stop.cn"])
    assert parse_query("chinese-stop.cn。").value == "chinese-stop.cn"
    assert public_count(client, "chinese-stop.cn。") == 1
    gating = APIClient()
    gating.force_authenticate(provider_staff())
    answer = gating.post(
        "/api/v1/provider/domains/check/",
        {"domains": ["chinese-stop.cn。", "www。chinese-stop。cn"]},
        format="json",
    )
    assert [r["filed"] for r in answer.json()["results"]] == [True, True]
    assert answer.json()["results"][0]["number"] == filing.websites.get().number


@pytest.mark.parametrize("domain", ["example.io", "example.dev"])
def test_a_top_level_domain_the_ministry_did_not_approve_is_refused_naming_the_rule(domain):
    _cleaned, errors = check(
        fs.data(websites=[fs.website(domains=[domain], homepage=f"http://{domain}/")])
    )
    (message,) = errors["websites"][0]["domains"]
    assert "not a top-level domain approved by the Ministry" in message
    assert "Internet Domain Name Regulations" in message


def test_the_ministry_approves_another_top_level_domain_in_the_admin(client):
    from tests.factories import MinistryFactory
    from tests.public_support import sign_in_with_otp

    sign_in_with_otp(client, MinistryFactory())
    added = client.post(
        "/admin/beian/topleveldomain/add/",
        {"name": "ＩＯ", "source": "部函 2026 年第 1 号", "listed_on": "2026-12-01"},
    )
    assert added.status_code == 302
    refused = client.post(
        "/admin/beian/topleveldomain/add/",
        {"name": "example.io", "source": "", "listed_on": "2026-12-01"},
    )
    assert refused.status_code == 200
    assert not TopLevelDomain.objects.filter(name__contains=".").exists()
    cleaned, errors = check(
        fs.data(websites=[fs.website(domains=["example.io"], homepage="http://example.io/")])
    )
    assert not errors
    assert cleaned["websites"][0]["domains"] == ["example.io"]
    assert str(TopLevelDomain.objects.get(name="xn--fiqs8s")) == ".中国"


def test_an_internationalised_domain_is_stored_as_a_labels_and_shown_in_unicode(otp_client):
    filing = rs.submit(domains=["新手测试.中国"], homepage="http://新手测试.中国/")
    assert list(filing.domains.values_list("name", flat=True)) == ["xn--kpu98e64ir97a.xn--fiqs8s"]
    assert domain_unicode("xn--kpu98e64ir97a.xn--fiqs8s") == "新手测试.中国"
    reviewer = otp_client(rs.beijing_reviewer())
    for url in (reverse("review:detail", args=[filing.pk]), reverse("review:queue")):
        page = reviewer.get(url).content.decode()
        assert "新手测试.中国" in page
        assert "xn--kpu98e64ir97a" not in page


def test_a_homepage_typed_without_a_scheme_means_http():
    assert validate_homepage("www.example.cn", ["example.cn"]) == "http://www.example.cn/"
    assert validate_homepage("www.example.cn。/a", ["example.cn"]) == "http://www.example.cn/a"
    assert homepage_key("www.example.cn") == homepage_key("HTTP://WWW.EXAMPLE.CN/")


# Addresses ---------------------------------------------------------------------------------


def test_an_ipv4_mapped_address_is_the_ipv4_address():
    assert validate_ip("::ffff:120.79.1.10") == "120.79.1.10"
    assert str(normalize_ip("［::ffff:784f:10a］".replace("［", "[").replace("］", "]"))) == (
        "120.79.1.10"
    )
    _cleaned, errors = check(
        fs.data(websites=[fs.website(ips=["::ffff:120.79.1.10", "120.79.1.10"])])
    )
    assert errors["websites"][0]["ips"] == ["“120.79.1.10” is listed twice."]


# Certificates ------------------------------------------------------------------------------


def test_the_2023_foreign_permanent_resident_card_is_its_own_type_checked_by_gb_11643():
    principal = {**fs.SPONSOR["principal"], "id_type": "foreign_permanent_resident"}
    cleaned, errors = check(fs.data(sponsor={"principal": {**principal, "id_number": FPR}}))
    assert not errors
    assert cleaned["sponsor"]["principal"]["id_number"] == FPR
    wrong = FPR_BODY + ("0" if FPR[-1] != "0" else "1")
    _cleaned, errors = check(fs.data(sponsor={"principal": {**principal, "id_number": wrong}}))
    assert "check digit" in errors["sponsor"]["principal"]["id_number"][0]
    old_card = {**principal, "id_number": "USA110090030701"}
    assert not check(fs.data(sponsor={"principal": old_card}))[1]


def test_a_foreign_permanent_resident_number_given_as_a_resident_id_says_which_type_it_is():
    principal = {**fs.SPONSOR["principal"], "id_type": "resident_id", "id_number": FPR}
    _cleaned, errors = check(fs.data(sponsor={"principal": principal}))
    (message,) = errors["sponsor"]["principal"]["id_number"]
    assert "Foreign Permanent Resident ID Card" in message
    assert "province code" not in message


def test_an_individual_sponsor_may_file_with_a_foreign_permanent_resident_card():
    sponsor = {
        "nature": "individual",
        "name": "John Smith",
        "id_type": "foreign_permanent_resident",
        "id_number": FPR,
    }
    assert not check(fs.data(sponsor=sponsor))[1]


# Provider CSV files ------------------------------------------------------------------------


def csv_file(cells: dict[str, str]) -> bytes:
    """The template's example row (its # removed) with ``cells`` changed."""
    import csv
    import io

    example = dict(zip(imports.HEADERS, imports._example_row(), strict=True))
    example["用户名"] = "csvclient"
    example.update(cells)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(imports.HEADERS)
    writer.writerow([example[h] for h in imports.HEADERS])
    return out.getvalue().encode()


def parsed(cells: dict[str, str]) -> dict:
    ((_line, payload),) = imports.parse_csv(csv_file(cells))
    return payload


def import_csv_row(cells: dict[str, str]):
    payload = parsed(cells)
    staff = provider_staff()
    (result,) = import_jobs._import_chunk(provider=staff.provider, by=staff, items=[(0, payload)])
    return result


def test_the_template_example_row_is_valid_once_its_hash_is_removed():
    payload = parsed({})
    assert payload["filing"]["sponsor"]["id_number"][-1] == uscc_check_character(
        payload["filing"]["sponsor"]["id_number"][:17]
    )
    result = import_csv_row({})
    assert result.status == "created", result.errors


def test_the_template_as_downloaded_imports_nothing_and_lists_every_label():
    text = imports.template_csv().decode("utf-8-sig")
    with pytest.raises(Exception, match="no rows"):
        imports.parse_csv(imports.template_csv())
    for label in ("外国人永久居留身份证", "Foreign Permanent Resident ID Card", "博客或个人空间"):
        assert label in text
    for code, label in Filing.IdType.choices:
        assert code in text and str(label) in text


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("港澳居民来往内地通行证", "hk_macao_permit"),
        ("Mainland travel permit for Taiwan residents", "taiwan_permit"),
        ("外国人永久居留身份证", "foreign_permanent_resident"),
        ("foreign_permanent_resident", "foreign_permanent_resident"),
        ("港澳居民居住证", "resident_id"),
        ("护照", "passport"),
    ],
)
def test_every_certificate_type_the_wizard_offers_is_accepted_by_its_labels_in_csv(label, code):
    payload = parsed({"负责人证件类型": label})
    assert payload["filing"]["sponsor"]["principal"]["id_type"] == code


def test_a_residence_permit_holder_is_imported_from_csv():
    body = "81000019900307123"
    result = import_csv_row(
        {"负责人证件类型": "港澳居民居住证", "负责人证件号码": body + resident_id_check_digit(body)}
    )
    assert result.status == "created", result.errors


@pytest.mark.parametrize(
    ("typed", "codes"),
    [
        ("博客或个人空间", ["blog"]),
        ("blog or personal space；企业网站", ["blog", "corporate"]),
        ("radio, film and television programmes", ["broadcasting"]),
        ("博客", ["blog"]),
    ],
)
def test_service_content_is_read_by_the_labels_the_wizard_shows(typed, codes):
    assert parsed({"网站服务内容": typed})["filing"]["websites"][0]["services"] == codes


def test_a_leading_apostrophe_excel_kept_the_number_as_text_with_is_removed():
    body = "11010519900307123"
    number = body + resident_id_check_digit(body)
    payload = parsed({"负责人证件号码": f"'{number}", "手机号码": "'13800138000"})
    assert payload["filing"]["sponsor"]["principal"]["id_number"] == number
    assert payload["client"]["mobile"] == "13800138000"
    assert import_csv_row({"负责人证件号码": f"'{number}"}).status == "created"


def test_a_number_excel_turned_into_scientific_notation_says_what_happened_and_how_to_fix_it():
    result = import_csv_row({"负责人证件号码": "1.10105E+17", "手机号码": "1.38001E+10"})
    assert result.status == "error"
    (id_message,) = result.errors["filing"]["sponsor"]["principal"]["id_number"]
    assert "1.10105E+17" in render(id_message)
    assert "Format the column as text" in render(id_message)
    assert "Format the column as text" in render(result.errors["client"]["mobile"][0])


def test_a_csv_row_reports_every_problem_at_once():
    result = import_csv_row({"电子邮箱": "not-an-email", "主办单位证件号码": "91350100M000100Y44"})
    assert result.status == "error"
    assert set(result.errors) == {"client", "filing"}
    assert "email" in result.errors["client"]
    assert "id_number" in result.errors["filing"]["sponsor"]


# Bad bytes and refused requests ------------------------------------------------------------


@pytest.fixture
def owner_api():
    client = APIClient()
    client.force_authenticate(UserFactory())
    return client


def test_a_lone_surrogate_is_a_400_on_its_field_and_nothing_is_stored(owner_api):
    body = '{"sponsor": {"name": "北京\\ud83d科技有限公司", "address": "x"}}'
    answer = owner_api.post("/api/v1/filings/", body, content_type="application/json")
    assert answer.status_code == 400
    assert list(answer.json()) == ["sponsor"]
    assert list(answer.json()["sponsor"]) == ["name"]
    assert not Filing.objects.exists()
    assert owner_api.get("/api/v1/filings/").status_code == 200


def test_a_refused_create_leaves_nothing_so_the_corrected_request_succeeds(owner_api):
    refused = owner_api.post("/api/v1/filings/", {"sponsor": "x"}, format="json")
    assert refused.status_code == 400
    assert not Filing.objects.exists()
    created = owner_api.post("/api/v1/filings/", fs.data(), format="json")
    assert created.status_code == 201


def test_a_lone_surrogate_in_an_import_row_is_a_400_on_its_field():
    client = APIClient()
    client.force_authenticate(provider_staff())
    body = '{"rows": [{"client": {"username": "a\\udc00b"}, "filing": {}}]}'
    answer = client.post("/api/v1/provider/imports/", body, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json()["rows"][0]["client"]["username"]


# Every problem at once ---------------------------------------------------------------------


def test_registration_reports_a_mismatch_a_bad_email_and_a_bad_mobile_together(client):
    page = client.post(
        reverse("accounts:register"),
        {
            "username": "newowner",
            "password": "a-long-Passphrase-42",
            "password2": "another-Passphrase-42",
            "email": "not-an-email",
            "mobile": "12345",
        },
    )
    assert page.status_code == 400
    text = page.content.decode()
    # The page is in Chinese, the portal's language.
    assert "两次输入的密码不一致。" in text
    assert "请输入能够收信的电子邮箱" in text
    assert "请输入11位中国大陆手机号码" in text


def test_the_website_step_reports_the_homepage_with_a_wrong_domain():
    _cleaned, errors = check(
        fs.data(websites=[fs.website(domains=["example.io"], homepage="http://other.cn/")])
    )
    assert set(errors["websites"][0]) == {"domains", "homepage"}


# The forgotten username --------------------------------------------------------------------


def test_the_forgotten_username_form_reads_a_number_as_typed(client, monkeypatch):
    from captcha.conf import settings as captcha_settings

    from beian.models import Message

    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)
    filing = approved_filing(domains=["remember-me.cn"])
    owner = filing.owner
    owner.email_verified_at = owner.date_joined
    owner.save()
    typed = "\u202d" + filing.number.replace("ICP", "icp").removesuffix("号") + " \u202c"
    client.post(
        reverse("filings:forgot-username"),
        {"number": typed, "captcha_0": "x", "captcha_1": "PASSED"},
    )
    assert Message.objects.filter(to=owner.email, template="username_reminder").exists()


# Stored data is brought to the new forms ---------------------------------------------------


def test_the_data_migration_brings_stored_filings_to_the_new_forms():
    filing = rs.approved(name="華為（北京）科技有限公司", domains=["huawei-migrate.cn"])
    Filing.objects.filter(pk=filing.pk).update(sponsor_name_key="華為(北京)科技有限公司")
    website = filing.websites.get()
    type(website).objects.filter(pk=website.pk).update(homepage_key="")
    website.accesses.update(ips=["::ffff:120.79.1.10", "120.79.1.10"])
    PublishedWebsite.objects.filter(filing=filing).update(
        sponsor_name_search="", website_name_search=""
    )
    migration = importlib.import_module("filings.migrations.0005_normal_forms")
    migration.to_normal_forms(apps, None)
    filing.refresh_from_db()
    website.refresh_from_db()
    assert filing.sponsor_name_key == name_key("华为(北京)科技有限公司")
    assert website.accesses.get().ips == ["120.79.1.10"]
    assert website.homepage_key == "www.huawei-migrate.cn"
    published = PublishedWebsite.objects.get(filing=filing)
    assert published.sponsor_name_search == "华为(北京)科技有限公司"


# The wizard's pages ------------------------------------------------------------------------


@pytest.fixture
def browser(tmp_path, settings):
    from django.test import Client

    settings.MEDIA_ROOT = tmp_path
    client = Client()
    client.force_login(UserFactory())
    return client


SPONSOR_FORM = {
    "nature": "individual",
    "name": "阿卜杜•热合曼",
    "id_type": "foreign_permanent_resident",
    "id_number": FPR,
    "province": "11",
    "address": "北京市海淀区中关村大街1号",
    "principal_name": "阿卜杜•热合曼",
    "principal_id_type": "foreign_permanent_resident",
    "principal_id_number": FPR,
    "principal_mobile": IOS_WRAPPED_MOBILE,
    "principal_email": "ｚｈａｎｇ＠example.cn",
    "action": "continue",
}


def test_the_wizard_takes_pasted_values_and_submits_them_in_their_normal_forms(browser):
    assert browser.post(reverse("filings:sponsor"), SPONSOR_FORM).status_code == 302
    website = {
        "name": "阿卜杜的博客",
        "domains": "abdu-blog.cn。",
        "homepage": "www.abdu-blog.cn。",
        "ips": "::ffff:120.79.1.10",
        "services": ["blog"],
        "commercial": "no",
        "server_location": "11",
        "access_provider": "other",
        "action": "continue",
    }
    assert browser.post(reverse("filings:website-new"), website).status_code == 302
    answer = browser.post(reverse("filings:check_answers"), {"action": "submit"})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    filing = Filing.objects.get()
    assert filing.status == Filing.Status.PENDING_REVIEW
    assert filing.sponsor_name == "阿卜杜·热合曼"
    assert (filing.principal_mobile, filing.principal_email) == ("13800138000", "zhang@example.cn")
    assert filing.sponsor_id_type == "foreign_permanent_resident"
    stored = filing.websites.get()
    assert (stored.homepage, stored.accesses.get().ips) == (
        "http://www.abdu-blog.cn/",
        ["120.79.1.10"],
    )
    assert list(filing.domains.values_list("name", flat=True)) == ["abdu-blog.cn"]


def test_the_wizard_refuses_an_unapproved_top_level_domain_on_the_domains_field(browser):
    browser.post(reverse("filings:sponsor"), SPONSOR_FORM)
    answer = browser.post(
        reverse("filings:website-new"),
        {
            "name": "博客",
            "domains": "example.io",
            "homepage": "http://example.io/",
            "ips": "120.79.1.10",
            "services": ["blog"],
            "commercial": "no",
            "server_location": "11",
            "access_provider": "other",
            "action": "continue",
        },
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'href="#f-w-domains"' in page
    assert "不在工业和信息化部批准的顶级域之列" in page


def test_an_amendment_shows_its_internationalised_domains_in_unicode(otp_client):
    from filings.services import filing_save_data, filing_submit

    filing = rs.approved(domains=["新手测试.中国"], homepage="http://新手测试.中国/")
    data = rs.filing_data(
        name=filing.sponsor_name,
        domains=["新手测试.中国", "例子.中国"],
        homepage="http://新手测试.中国/",
    )
    data["sponsor"]["principal"]["mobile"] = filing.principal_mobile
    data["sponsor"]["principal"]["email"] = filing.principal_email
    filing_save_data(filing=filing, by=filing.owner, data=data)
    filing = filing_submit(filing=filing, by=filing.owner)
    assert filing.status == Filing.Status.AMENDMENT_PENDING
    page = otp_client(rs.beijing_reviewer()).get(reverse("review:detail", args=[filing.pk]))
    text = page.content.decode()
    assert "新手测试.中国, 例子.中国" in text
    assert "xn--" not in text


# Control characters (U+0000 NUL above all) at every entrance --------------------------------

NUL = "\u0000"


def says_control_character(text) -> bool:
    """Whether ``text`` holds the message about a control character, in either language."""
    return "invisible control character" in str(text) or "不可见的控制字符" in str(text)


@pytest.mark.parametrize("control", [NUL, "\u001b", "\u0007"])
def test_a_public_query_holding_a_control_character_is_a_400_on_q(client, control):
    answer = client.get(PUBLIC, {"q": f"a{control}"})
    assert answer.status_code == 400
    assert says_control_character(str(answer.json()["q"]))


def _with_text(path: str, value: str) -> dict:
    data = fs.data()
    if ".accesses." in path:
        data["websites"][0]["accesses"] = [
            {"provider": "other", "method": "cloud", "server_location": "11", "ips": []}
        ]
    node = data
    *parents, last = path.split(".")
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    node[last] = [value] if last in {"domains", "ips"} else value
    return data


@pytest.mark.parametrize(
    "path",
    [
        "sponsor.name",
        "sponsor.address",
        "sponsor.id_number",
        "sponsor.principal.name",
        "sponsor.principal.mobile",
        "sponsor.principal.email",
        "websites.0.name",
        "websites.0.domains",
        "websites.0.homepage",
        "websites.0.ips",
        "websites.0.accesses.0.ips",
        "websites.0.accesses.0.method",
    ],
)
def test_a_null_character_in_any_text_of_a_new_filing_is_a_400_on_that_field(owner_api, path):
    answer = owner_api.post("/api/v1/filings/", _with_text(path, f"x{NUL}y"), format="json")
    assert answer.status_code == 400
    node = answer.json()
    for key in path.split("."):
        node = node[int(key)] if key.isdigit() else node[key]
    assert says_control_character(str(node))
    assert not Filing.objects.exists()


def test_a_null_character_in_an_amendment_patch_is_a_400_and_nothing_is_stored(owner_api):
    created = owner_api.post("/api/v1/filings/", fs.data(), format="json")
    assert created.status_code == 201, created.content
    url = f"/api/v1/filings/{created.json()['id']}/"
    answer = owner_api.patch(url, {"websites": [{"ips": [NUL]}]}, format="json")
    assert answer.status_code == 400
    assert says_control_character(str(answer.json()["websites"][0]["ips"]))
    assert NUL not in str(Filing.objects.get().accesses.values_list("ips", flat=True))


@pytest.mark.parametrize(
    ("row", "where"),
    [
        ({"client": {"username": f"ab{NUL}cd"}, "filing": {}}, ("client", "username")),
        ({"client": {}, "filing": {"sponsor": {"name": f"甲{NUL}"}}}, ("filing", "sponsor")),
    ],
)
def test_a_null_character_in_an_import_row_is_a_400_on_its_field(row, where):
    client = APIClient()
    client.force_authenticate(provider_staff())
    answer = client.post("/api/v1/provider/imports/", {"rows": [row]}, format="json")
    assert answer.status_code == 400
    assert says_control_character(str(answer.json()["rows"][0][where[0]][where[1]]))


def test_a_csv_cell_holding_a_null_character_is_that_rows_error_and_the_file_is_read():
    payload = parsed({"主办单位名称": f"示例{NUL}科技有限公司", "用户名": f"csv{NUL}client"})
    assert payload["filing"]["sponsor"]["name"] == ""
    result = import_csv_row({"主办单位名称": f"示例{NUL}科技有限公司"})
    assert result.status == "error"
    assert says_control_character(render(result.errors["filing"]["sponsor"]["name"][0]))
    client_result = import_csv_row({"用户名": f"csv{NUL}client"})
    assert client_result.status == "error"
    assert says_control_character(render(client_result.errors["client"]["username"][0]))
    assert not Filing.objects.exists()


def test_the_wizard_shows_a_null_character_as_an_error_on_its_field_and_stores_nothing(client):
    owner = UserFactory()
    client.force_login(owner)
    page = client.post(
        reverse("filings:sponsor"),
        {"nature": "enterprise", "name": f"北京{NUL}示例科技有限公司", "action": "later"},
    )
    assert page.status_code == 400
    assert "控制字符" in page.content.decode()
    assert not Filing.objects.filter(owner=owner).exclude(sponsor_name="").exists()


def test_the_wizards_website_page_refuses_a_null_character_on_its_field(client):
    owner = UserFactory()
    client.force_login(owner)
    assert client.post(reverse("filings:sponsor"), {"action": "later"}).status_code == 302
    page = client.post(
        reverse("filings:website-new"),
        {"name": f"示例{NUL}", "domains": "example.cn", "action": "later"},
    )
    assert page.status_code == 400
    assert "控制字符" in page.content.decode()
    assert NUL not in str(Filing.objects.get(owner=owner).draft)


def test_django_s_null_character_message_reads_right_in_chinese():
    from django.core.exceptions import ValidationError
    from django.core.validators import ProhibitNullCharactersValidator
    from django.utils import translation

    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as caught:
            ProhibitNullCharactersValidator()(NUL)
        assert caught.value.messages == ["不允许包含空字符（NUL）。"]


# Middle dots, dashes, long keys, IPv4 in IPv6 ----------------------------------------------


@pytest.mark.parametrize("dot", [".", "\uff0e", "\u02d9"])
def test_a_full_stop_or_dot_above_between_chinese_characters_is_the_middle_dot(client, dot):
    first = rs.approved(name="阿卜杜·热合曼", domains=["abdu-dot.cn"])
    later = rs.submit(name=f"阿卜杜{dot}热合曼", domains=["abdu-dot-other.cn"])
    conflict = Conflict.objects.get(filing=later, resolved_at=None)
    assert (conflict.field, conflict.other_filing_id) == (Conflict.Field.SPONSOR_NAME, first.pk)
    assert public_count(client, f"阿卜杜{dot}热合曼") == 1


def test_a_full_stop_in_a_latin_name_is_kept():
    assert name_key("Example.com Ltd") == "example.com ltd"
    assert name_key("Example.com Ltd") != name_key("Example·com Ltd")


@pytest.mark.parametrize("dash", ["\u2013", "\u2014", "\u2212", "\u2010", "\u2011", "\ufe63"])
def test_a_website_number_with_any_dash_is_found_by_the_query_the_queue_and_the_reminder(
    client, dash, monkeypatch
):
    from captcha.conf import settings as captcha_settings

    from beian.models import Message
    from review.selectors import QueueFilters, queue_filings

    filing = rs.approved(name="横线科技有限公司", domains=["dash-number.cn"])
    number = filing.websites.get().number
    typed = number.replace("-", dash)
    assert parse_filing_number(typed).website == number
    assert public_count(client, typed) == 1
    assert filing in queue_filings(rs.beijing_reviewer(), QueueFilters(q=typed, status="all"))
    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)
    owner = filing.owner
    owner.email_verified_at = owner.date_joined
    owner.save()
    client.post(
        reverse("filings:forgot-username"),
        {"number": typed, "captcha_0": "x", "captcha_1": "PASSED"},
    )
    assert Message.objects.filter(to=owner.email, template="username_reminder").exists()


def test_two_long_names_that_nfkc_lengthens_are_no_conflict(client):
    first = "\u337f" * 33 + "甲xxx公司"
    second = "\u337f" * 33 + "乙yyy公司"
    assert name_key(first) != name_key(second)
    assert len(name_key(first)) <= 128
    assert name_key(first) == name_key(first.replace("\u337f", "株式会社", 1))
    rs.approved(name=first, domains=["long-first.cn"])
    later = rs.submit(name=second, domains=["long-second.cn"])
    assert not Conflict.objects.filter(filing=later, field=Conflict.Field.SPONSOR_NAME).exists()
    assert public_count(client, second) == 0
    assert public_count(client, first) == 1


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("::120.79.1.10", "120.79.1.10"),
        ("::ffff:0:120.79.1.10", "120.79.1.10"),
        ("::ffff:120.79.1.10", "120.79.1.10"),
        ("::1", "::1"),
        ("64:ff9b::120.79.1.10", "64:ff9b::784f:10a"),
    ],
)
def test_ipv4_written_in_ipv6_is_the_ipv4_address(typed, stored):
    assert str(normalize_ip(typed)) == stored


def test_an_ipv4_compatible_or_translated_address_is_stored_and_compared_as_ipv4():
    cleaned, errors = check(fs.data(websites=[fs.website(ips=["::120.79.1.10"])]))
    assert not errors.get("websites"), errors
    assert cleaned["websites"][0]["ips"] == ["120.79.1.10"]
    _cleaned, errors = check(
        fs.data(websites=[fs.website(ips=["::ffff:0:120.79.1.10", "120.79.1.10"])])
    )
    assert errors["websites"][0]["ips"] == ["“120.79.1.10” is listed twice."]


# CSV provinces ------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["Beijing", "beijing", "北京", "11"])
def test_a_province_is_read_by_its_english_name_too(typed):
    payload = parsed({"服务器放置地点": typed, "主办单位所在省份": typed})
    assert payload["filing"]["websites"][0]["server_location"] == "11"
    assert payload["filing"]["sponsor"]["province"] == "11"


@pytest.mark.parametrize("typed", ["其它", "其他"])
def test_a_server_outside_mainland_china_is_other_by_either_writing(typed):
    assert parsed({"服务器放置地点": typed})["filing"]["websites"][0]["server_location"] == "other"


def test_the_template_names_other_as_the_pages_do():
    text = imports.template_csv().decode("utf-8-sig")
    assert "填 其它" in text and "填 其他" not in text


# The bureau's search and the admin's account form -------------------------------------------


def test_the_bureau_search_finds_a_username_in_any_case_and_a_certificate_number_as_typed():
    from review.selectors import QueueFilters, queue_filings

    owner = UserFactory(username="owner")
    filing = rs.submit(owner=owner, domains=["search-case.cn"])
    reviewer = rs.beijing_reviewer()
    number = filing.sponsor_id_number
    typed_number = "\u202d" + number.lower().translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )
    for query in ("OWNER", "owner", "Owner", number, typed_number):
        assert list(queue_filings(reviewer, QueueFilters(q=query))) == [filing], query
    assert not queue_filings(reviewer, QueueFilters(q="OWNERS")).exists()
    assert not queue_filings(reviewer, QueueFilters(q=f"owner{NUL}")).exists()


def test_the_sponsor_certificate_number_is_indexed_for_the_bureau_search():
    indexed = [tuple(index.fields) for index in Filing._meta.indexes]
    assert ("sponsor_id_number",) in indexed


def test_the_provider_console_search_with_a_null_character_finds_nothing_without_an_error():
    from providers.selectors import client_filings

    staff = provider_staff()
    approved_filing(domains=["provider-search.cn"], filed_by=staff.provider)
    assert client_filings(provider=staff.provider).exists()
    assert not client_filings(provider=staff.provider, q=f"provider{NUL}").exists()
