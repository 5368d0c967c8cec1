"""The public query finds apps and mini-programs (SPEC §7, §13): by name, by identifier (package
name, bundle ID, mini-program id) and by number (-nA, -nX and the sponsor's), each result with
its ``service_type``; a cancelled app leaves it, cached answers included."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from filings.models import App, MiniProgram
from public.selectors import ParsedQuery, _domain_matches, _matching, parse_query
from tests import app_support as aps
from tests import filings_support as fs
from tests.app_public_support import approved, cancel, record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/public/filings/"
PACKAGE = "com.example.app"  # reads as a domain too (.app): asked through the domain lookup
BUNDLE = "com.example.App-iOS"
WECHAT_ID = "wx0123456789abcdef"


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def filing(owner, django_capture_on_commit_callbacks):
    """A record with a website, an app on Android and iOS, and a WeChat mini-program."""
    with django_capture_on_commit_callbacks(execute=True):
        return approved(
            owner,
            record(
                apps=[aps.app(name="晴空天气", platforms=[aps.android(PACKAGE), aps.ios(BUNDLE)])],
                mini_programs=[aps.mini_program(name="晴空小助手", platform_id=WECHAT_ID)],
            ),
        )


def results(client, q) -> list[dict]:
    response = client.get(API, {"q": q})
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def found(client, q) -> list[tuple[str, str]]:
    return [(row["service_type"], row["website_number"]) for row in results(client, q)]


# Reading the question -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kind", "value", "identifier"),
    [
        ("京ICP备2026000001号-1A", "app_number", "京ICP备2026000001号-1A", None),
        ("京icp备2026000001-2a", "app_number", "京ICP备2026000001号-2A", None),
        ("京ICP备2026000001号－1ｘ", "mini_program_number", "京ICP备2026000001号-1X", None),
        ("京ICP备2026000001号-3", "website_number", "京ICP备2026000001号-3", None),
        ("com.example.app", "domain", "com.example.app", "com.example.app"),
        ("Com．Example。App", "domain", "com.example.app", "com.example.app"),
        ("com.example.my_app", "name", "com.example.my_app", "com.example.my_app"),
        ("wx0123456789ABCDEF", "name", "wx0123456789abcdef", "wx0123456789abcdef"),
        ("https://com.example.app/", "domain", "com.example.app", None),
        ("晴空天气", "name", "晴空天气", None),
    ],
)
def test_a_number_letter_or_an_identifier_is_read_from_the_query(typed, kind, value, identifier):
    assert parse_query(typed) == ParsedQuery(kind, value, identifier)


@pytest.mark.parametrize("typed", ["京ICP备2026000001号-1B", "京ICP备2026000001号-A"])
def test_a_number_with_another_letter_is_not_a_filing_number(typed):
    assert parse_query(typed).kind == "name"


# Each way of finding -------------------------------------------------------------------------


def test_part_of_an_apps_or_mini_programs_name_finds_it_with_its_kind(client, filing):
    assert found(client, "晴空天") == [("app", f"{filing.number}-1A")]
    assert found(client, "小助手") == [("mini_program", f"{filing.number}-1X")]


def test_a_package_name_or_bundle_id_finds_the_app_in_any_case(client, filing):
    for typed in (
        PACKAGE,
        "COM.EXAMPLE.APP",
        BUNDLE,
        BUNDLE.lower(),
        "ｃｏｍ．ｅｘａｍｐｌｅ．ａｐｐ",
    ):
        assert found(client, typed) == [("app", f"{filing.number}-1A")], typed


def test_a_mini_program_id_finds_the_mini_program(client, filing):
    assert found(client, WECHAT_ID) == [("mini_program", f"{filing.number}-1X")]
    assert found(client, WECHAT_ID.upper()) == [("mini_program", f"{filing.number}-1X")]


def test_only_a_whole_identifier_finds_an_app(client, filing):
    for typed in ("com.example", "example.app", "com.example.app.extra", "wx0123456789abcde"):
        assert not [kind for kind, _number in found(client, typed) if kind != "website"], typed


def test_an_app_or_mini_program_number_finds_that_service_only(client, filing):
    assert found(client, f"{filing.number}-1A") == [("app", f"{filing.number}-1A")]
    assert found(client, f"{filing.number}-1a") == [("app", f"{filing.number}-1A")]
    assert found(client, f"{filing.number}-1X") == [("mini_program", f"{filing.number}-1X")]
    assert found(client, f"{filing.number}-1") == [("website", f"{filing.number}-1")]


def test_the_sponsor_number_lists_each_kind_with_its_service_type(client, filing):
    assert sorted(found(client, filing.number)) == [
        ("app", f"{filing.number}-1A"),
        ("mini_program", f"{filing.number}-1X"),
        ("website", f"{filing.number}-1"),
    ]


def test_an_app_answer_has_its_platforms_and_identifiers_and_no_key_or_fingerprint(client, filing):
    (row,) = results(client, PACKAGE)
    assert row["identifiers"] == [
        {"platform": "android", "identifier": PACKAGE},
        {"platform": "ios", "identifier": BUNDLE},
    ]
    assert row["website_name"] == "晴空天气" and row["number"] == filing.number
    assert row["homepage"] == "" and row["domains"] == ["api.example.cn"]
    body = client.get(API, {"q": filing.number}).content.decode()
    for secret in (aps.ANDROID_KEY, aps.ANDROID_MD5, aps.IOS_KEY, aps.IOS_SHA1, "public_key"):
        assert secret not in body
    (program,) = results(client, WECHAT_ID)
    assert program["identifiers"] == [{"platform": "wechat", "identifier": WECHAT_ID}]
    assert program["service_type"] == "mini_program"


def test_the_domain_lookup_with_an_identifier_finds_what_the_orm_finds(filing):
    query = parse_query(PACKAGE)
    expected = list(
        _matching(query)
        .order_by("sponsor_number", "id")
        .values("id", "website_number", "service_type", "identifiers")
    )
    assert [row["website_number"] for row in expected] == [f"{filing.number}-1A"]
    rows = _domain_matches(query.value, 10, identifier=query.identifier)
    assert [
        {k: row[k] for k in ("id", "website_number", "service_type", "identifiers")} for row in rows
    ] == expected


# The page ------------------------------------------------------------------------------------


def test_the_page_shows_websites_apps_and_mini_programs_apart(client, filing):
    body = client.get("/query/", {"q": filing.number}).content.decode()
    website, app, program = (
        body.index(f'data-service-type="{kind}"') for kind in ("website", "app", "mini_program")
    )
    assert website < app < program
    app_part, program_part = body[app:program], body[program:]
    assert "晴空天气" in app_part and f"{filing.number}-1A" in app_part
    assert "Android" in app_part and PACKAGE in app_part and BUNDLE in app_part
    assert "晴空小助手" in program_part and WECHAT_ID in program_part
    assert f"{filing.number}-1X" in program_part
    assert aps.ANDROID_MD5 not in body


def test_the_page_in_chinese_names_the_kinds(client, filing):
    client.cookies["django_language"] = "zh-hans"
    body = client.get("/query/", {"q": filing.number}).content.decode()
    assert ">小程序 <" in body and ">App <" in body and ">网站 <" in body
    assert "小程序备案号" in body and "App备案号" in body


def test_the_page_shows_only_the_kinds_found(client, filing):
    body = client.get("/query/", {"q": WECHAT_ID}).content.decode()
    assert 'data-service-type="mini_program"' in body
    assert 'data-service-type="app"' not in body and 'data-service-type="website"' not in body


# Cancellation and the answer cache -------------------------------------------------------------


def test_a_cancelled_app_disappears_from_every_answer_asked_before(
    client, owner, filing, django_capture_on_commit_callbacks
):
    app = App.objects.get(filing=filing)
    questions = [PACKAGE, BUNDLE, "晴空天气", f"{filing.number}-1A", filing.number]
    for typed in questions:
        assert ("app", app.number) in found(client, typed), typed
        assert ("app", app.number) in found(client, typed), typed  # now from the cache

    with django_capture_on_commit_callbacks(execute=True):
        cancel(owner, filing, app.pk)

    for typed in questions:
        assert ("app", app.number) not in found(client, typed), typed
    assert "晴空天气" not in client.get("/query/", {"q": PACKAGE}).content.decode()
    assert found(client, WECHAT_ID) == [("mini_program", f"{filing.number}-1X")]


def test_a_cancelled_mini_program_disappears_from_the_answers(
    client, owner, filing, django_capture_on_commit_callbacks
):
    program = MiniProgram.objects.get(filing=filing)
    assert found(client, WECHAT_ID) == [("mini_program", program.number)]
    with django_capture_on_commit_callbacks(execute=True):
        cancel(owner, filing, program.pk)
    assert found(client, WECHAT_ID) == []
    assert found(client, program.number) == []


def test_an_identifier_asked_before_its_app_was_approved_finds_it_after(
    client, django_capture_on_commit_callbacks
):
    assert results(client, "com.later.app") == []
    assert results(client, "wx00000000000000aa") == []
    with django_capture_on_commit_callbacks(execute=True):
        later = approved(
            UserFactory(),
            record(
                apps=[aps.app(platforms=[aps.android("com.later.app")])],
                mini_programs=[aps.mini_program(platform_id="wx00000000000000aa")],
            ),
        )
    assert found(client, "com.later.app") == [("app", f"{later.number}-1A")]
    assert found(client, "wx00000000000000aa") == [("mini_program", f"{later.number}-1X")]


def test_an_approval_elsewhere_keeps_the_cached_answer_about_an_identifier(
    client, filing, django_capture_on_commit_callbacks
):
    client.get(API, {"q": PACKAGE})
    with django_capture_on_commit_callbacks(execute=True):
        approved(
            UserFactory(),
            record(
                sponsor={"name": "别处科技有限公司"},
                websites=[fs.website(domains=["elsewhere.cn"], homepage="http://elsewhere.cn/")],
                apps=[aps.app(platforms=[aps.android("cn.elsewhere.app")])],
            ),
        )
    with CaptureQueriesContext(connection) as queries:
        assert found(client, PACKAGE) == [("app", f"{filing.number}-1A")]
    assert not [q for q in queries.captured_queries if "publishedwebsite" in q["sql"]]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan is PostgreSQL's")
def test_the_identifier_is_looked_up_on_its_index(filing):
    from beian import rawsql
    from public.selectors import _domain_query

    sql, _columns = _domain_query(True)
    names = ["com.example.app", "example.app"]
    with connection.cursor() as cursor:
        # A tiny table: keep the planner off the plain scans so the plan shows the index.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN " + sql.replace("{names}", rawsql.marks(names)), [*names, PACKAGE, 10]
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    identifier_scans = [
        line for line in plan.splitlines() if "publishedidentifier" in line and "Index" in line
    ]
    assert identifier_scans, plan
