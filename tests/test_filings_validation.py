"""The rules a filing must meet (SPEC §3): check characters, domains, homepages, IPs,
pre-approval, commercial services — every problem at once, on the field it concerns."""

import datetime as dt
import string

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from beian.normalforms.certificates import ID_CHECK_CHARACTERS, USCC_ALPHABET
from beian.normalforms.domains import normalize_domain
from filings.models import Filing
from filings.validation import (
    coerce_data,
    flatten_errors,
    resident_id_check_digit,
    uscc_check_character,
    validate_certificate,
    validate_domain,
    validate_filing_data,
    validate_homepage,
    validate_ip,
    validate_resident_id,
    validate_uscc,
)
from tests import filings_support as fs

# Domains are checked against the approved top-level domains, which live in the database.
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _messages_in_english(english):
    """These tests read the English wording of the messages."""


# --- Unified Social Credit Code (GB 32100) ----------------------------------------------------

uscc_body = st.tuples(
    st.text(alphabet=USCC_ALPHABET, min_size=2, max_size=2),
    st.text(alphabet=string.digits, min_size=6, max_size=6),
    st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
).map("".join)


def test_a_real_unified_social_credit_code_passes():
    assert validate_uscc("91350100M000100Y43") == "91350100M000100Y43"
    assert validate_uscc(" 91350100m000100y43 ") == "91350100M000100Y43"


@given(uscc_body)
def test_a_code_with_its_computed_check_character_always_passes(body):
    code = body + uscc_check_character(body)
    assert validate_uscc(code) == code


@given(uscc_body, st.sampled_from(USCC_ALPHABET))
def test_any_other_check_character_is_refused_as_a_check_error(body, wrong):
    if wrong == uscc_check_character(body):
        return
    with pytest.raises(ValidationError) as exc:
        validate_uscc(body + wrong)
    assert exc.value.code == "uscc_check"


@given(uscc_body, st.integers(min_value=0, max_value=16), st.sampled_from(USCC_ALPHABET))
def test_changing_one_character_of_a_valid_code_is_caught(body, position, replacement):
    code = body + uscc_check_character(body)
    if code[position] == replacement or (2 <= position <= 7 and not replacement.isdigit()):
        return
    typo = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(ValidationError):
        validate_uscc(typo)


def test_letters_outside_the_gb32100_alphabet_are_a_format_error():
    with pytest.raises(ValidationError) as exc:
        validate_uscc("91350100M000100I43")
    assert exc.value.code == "uscc_format"


def test_the_check_character_message_says_which_character_is_wrong():
    with pytest.raises(ValidationError) as exc:
        validate_uscc("91350100M000100Y44")
    assert "18th character" in exc.value.messages[0]


# --- Resident identity number (GB 11643) ------------------------------------------------------

birth_dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31))


@given(
    st.sampled_from(["110105", "310101", "440305", "510104", "810000"]),
    birth_dates,
    st.text(alphabet=string.digits, min_size=3, max_size=3),
)
def test_an_id_with_a_real_birth_date_and_its_check_digit_passes(region, birth, sequence):
    first17 = f"{region}{birth:%Y%m%d}{sequence}"
    number = first17 + resident_id_check_digit(first17)
    assert validate_resident_id(number) == number


@given(birth_dates, st.text(alphabet=string.digits, min_size=3, max_size=3))
def test_any_other_check_digit_is_refused(birth, sequence):
    first17 = f"110105{birth:%Y%m%d}{sequence}"
    right = resident_id_check_digit(first17)
    for wrong in ID_CHECK_CHARACTERS:
        if wrong != right:
            with pytest.raises(ValidationError) as exc:
                validate_resident_id(first17 + wrong)
            assert exc.value.code == "resident_id_check"


def test_a_lower_case_x_check_digit_is_accepted_and_stored_in_capitals():
    assert validate_resident_id("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize("birth", ["19490230", "19491331", "18991231"])
def test_an_impossible_birth_date_is_refused(birth):
    first17 = f"110105{birth}002"
    with pytest.raises(ValidationError) as exc:
        validate_resident_id(first17 + resident_id_check_digit(first17))
    assert exc.value.code == "resident_id_birth"


def test_a_birth_date_in_the_future_is_refused():
    first17 = "11010520991231002"
    with pytest.raises(ValidationError) as exc:
        validate_resident_id(first17 + resident_id_check_digit(first17))
    assert exc.value.code == "resident_id_birth"


def test_an_old_15_digit_number_is_refused_with_advice():
    with pytest.raises(ValidationError) as exc:
        validate_resident_id("110105491231002")
    assert exc.value.code == "resident_id_old"


@pytest.mark.parametrize(
    ("id_type", "good", "bad"),
    [
        ("passport", "E12345678", "E1"),
        ("hk_macao_permit", "H12345678", "X12345678"),
        ("taiwan_permit", "12345678", "1234"),
        ("other", "ABC12345", "!"),
    ],
)
def test_other_certificates_are_checked_by_format(id_type, good, bad):
    assert validate_certificate(id_type, good) == good
    with pytest.raises(ValidationError):
        validate_certificate(id_type, bad)


# --- Domains -------------------------------------------------------------------------------

# Prefixed so that a generated label never spells a platform's private suffix (ru.com, …).
labels = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=20).map(
    lambda text: f"site{text}"
)


@given(labels, st.sampled_from(["cn", "com", "com.cn", "org.cn", "net", "中国", "公司"]))
def test_a_registrable_domain_is_stored_as_a_lower_case_a_label_and_normalising_is_stable(
    label, suffix
):
    domain = validate_domain(f"{label}.{suffix}".upper())
    assert domain == domain.lower()
    assert domain.isascii()
    assert normalize_domain(domain) == domain
    assert validate_domain(domain) == domain


@given(st.sampled_from(["例子", "示例", "测试网"]), st.sampled_from(["中国", "cn", "com"]))
def test_idn_and_its_a_label_are_the_same_domain(label, suffix):
    unicode_form = validate_domain(f"{label}.{suffix}")
    assert unicode_form.startswith("xn--")
    assert validate_domain(unicode_form) == unicode_form
    assert validate_domain(f"{label}。{suffix}") == unicode_form  # full-width dot


def test_a_subdomain_is_refused_and_the_registrable_domain_suggested():
    with pytest.raises(ValidationError) as exc:
        validate_domain("www.example.cn")
    assert exc.value.code == "domain_subdomain"
    assert "example.cn" in exc.value.messages[0]


@pytest.mark.parametrize("value", ["github.io", "someone.github.io", "www.someone.github.io"])
def test_a_platform_suffix_is_not_registrable_by_the_filer(value):
    with pytest.raises(ValidationError) as exc:
        validate_domain(value)
    assert exc.value.code == "domain_private_suffix"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("com.cn", "domain_is_suffix"),
        ("localhost", "domain_suffix"),
        ("example.notatld", "domain_suffix"),
        ("exa mple.cn", "domain_format"),
        ("a..cn", "domain_format"),
        ("", "domain_format"),
    ],
)
def test_what_is_not_a_registrable_domain_is_refused(value, code):
    with pytest.raises(ValidationError) as exc:
        validate_domain(value)
    assert exc.value.code == code


# --- Homepage, IPs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://example.cn/", "https://www.example.cn/index.html", "http://a.b.example.cn:8080/"],
)
def test_a_homepage_on_a_domain_or_its_subdomain_passes(url):
    assert validate_homepage(url, ["example.cn"]) == url


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.cn/", "homepage_scheme"),
        ("http://other.cn/", "homepage_host"),
        ("http://notexample.cn/", "homepage_host"),
        ("http://user:pw@example.cn/", "homepage_format"),
        ("http:///", "homepage_format"),
    ],
)
def test_a_homepage_off_the_website_domains_is_refused(url, code):
    with pytest.raises(ValidationError) as exc:
        validate_homepage(url, ["example.cn"])
    assert exc.value.code == code


@pytest.mark.parametrize(
    ("value", "stored"), [("120.79.1.10", "120.79.1.10"), ("2400:3200::0001", "2400:3200::1")]
)
def test_public_ipv4_and_ipv6_addresses_pass(value, stored):
    assert validate_ip(value) == stored


@pytest.mark.parametrize(
    "value", ["10.0.0.1", "192.168.1.1", "127.0.0.1", "::1", "fe80::1", "224.0.0.1", "100.64.0.1"]
)
def test_private_and_reserved_addresses_are_refused(value):
    with pytest.raises(ValidationError) as exc:
        validate_ip(value)
    assert exc.value.code == "ip_not_public"


def test_a_malformed_address_is_refused():
    with pytest.raises(ValidationError) as exc:
        validate_ip("300.1.1.1")
    assert exc.value.code == "ip_format"


# --- The whole record ----------------------------------------------------------------------


def _check(payload):
    return validate_filing_data(coerce_data(payload), filing=Filing())


@pytest.mark.django_db
def test_complete_data_has_no_problem_and_comes_back_normalised():
    payload = fs.data(
        sponsor={"principal": {**fs.SPONSOR["principal"], "mobile": "+86 137-0000-0001"}},
        websites=[fs.website(domains=["Example.CN"], ips=["2400:3200::0001"])],
    )
    cleaned, errors = _check(payload)
    assert errors == {}
    assert cleaned["sponsor"]["principal"]["mobile"] == "13700000001"
    assert cleaned["websites"][0]["domains"] == ["example.cn"]
    assert cleaned["websites"][0]["ips"] == ["2400:3200::1"]


@pytest.mark.django_db
def test_every_problem_is_returned_at_once_keyed_by_its_json_path():
    payload = fs.data(
        sponsor={
            "id_number": "91350100M000100Y44",
            "principal": {**fs.SPONSOR["principal"], "id_number": "110105194912310021"},
        },
        websites=[
            fs.website(),
            fs.website(
                domains=["www.example2.cn"],
                ips=["10.0.0.1"],
                homepage="http://elsewhere.cn/",
                commercial=True,
            ),
        ],
    )
    _cleaned, errors = _check(payload)
    assert set(errors["sponsor"]) == {"id_number", "principal"}
    assert set(errors["sponsor"]["principal"]) == {"id_number"}
    assert errors["websites"][0] == {}
    # The homepage is on neither the valid domains nor those typed: said with the rest.
    assert set(errors["websites"][1]) == {"domains", "homepage", "ips", "commercial"}
    assert len(flatten_errors(errors)) == 6


@pytest.mark.django_db
def test_a_commercial_website_is_refused_with_the_licence_guidance():
    _cleaned, errors = _check(fs.data(websites=[fs.website(commercial=True)]))
    assert "增值电信业务经营许可证" in errors["websites"][0]["commercial"][0]


@pytest.mark.django_db
def test_a_domain_may_appear_only_once_in_the_record():
    payload = fs.data(
        websites=[
            fs.website(domains=["example.cn", "EXAMPLE.cn"]),
            fs.website(domains=["example.cn"], homepage="http://example.cn/"),
        ]
    )
    _cleaned, errors = _check(payload)
    assert "listed twice" in errors["websites"][0]["domains"][0]
    assert "website 1" in errors["websites"][1]["domains"][0]


@pytest.mark.django_db
def test_each_preapproval_service_needs_authority_number_and_document():
    payload = fs.data(websites=[fs.website(services=["news", "education", "blog"])])
    canonical = coerce_data(payload)
    # One entry per pre-approval service, in a fixed order, even when none was given.
    assert [p["category"] for p in canonical["websites"][0]["preapprovals"]] == [
        "news",
        "education",
    ]
    _cleaned, errors = validate_filing_data(canonical, filing=Filing())
    entries = errors["websites"][0]["preapprovals"]
    assert [set(e) for e in entries] == [{"authority", "document_number", "document"}] * 2


@pytest.mark.django_db
def test_a_document_of_another_filing_is_not_accepted(tmp_path, settings):
    from filings.services import document_upload, filing_create
    from tests.factories import UserFactory

    settings.MEDIA_ROOT = tmp_path
    other_owner = UserFactory()
    other = filing_create(owner=other_owner)
    document = document_upload(filing=other, by=other_owner, file=fs.upload(fs.PDF_BYTES))
    mine = filing_create(owner=UserFactory())
    entry = {
        "category": "news",
        "authority": "北京市新闻出版局",
        "document_number": "京新审字[2026]1号",
        "document": document.pk,
    }
    payload = fs.data(websites=[fs.website(services=["news"], preapprovals=[entry])])
    _cleaned, errors = validate_filing_data(coerce_data(payload), filing=mine)
    assert set(errors["websites"][0]["preapprovals"][0]) == {"document"}


@pytest.mark.django_db
def test_an_individual_cannot_file_with_a_credit_code():
    payload = fs.data(sponsor={"nature": "individual", "name": "张三"})
    _cleaned, errors = _check(payload)
    assert set(errors["sponsor"]) == {"id_type"}


@pytest.mark.django_db
def test_unknown_provinces_and_providers_are_refused():
    payload = fs.data(
        sponsor={"province": "99"},
        websites=[fs.website(server_location="98", access_provider=999999)],
    )
    _cleaned, errors = _check(payload)
    assert set(errors["sponsor"]) == {"province"}
    assert set(errors["websites"][0]) == {"server_location", "access_provider"}


@settings(max_examples=30)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    ["sponsor", "websites", "name", "domains", "principal", "preapprovals"]
                ),
                inner,
                max_size=3,
            )
        ),
        max_leaves=10,
    )
)
def test_any_json_either_coerces_or_says_where_it_is_malformed(value):
    from filings.validation import StructureError

    try:
        canonical = coerce_data(value)
    except StructureError as exc:
        assert flatten_errors(exc.errors)
    else:
        assert set(canonical) == {"sponsor", "websites", "apps", "mini_programs"}
