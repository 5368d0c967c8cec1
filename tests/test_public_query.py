"""Is it filed? (是否备案查询, Q20): the public page and GET /api/v1/public/filings/."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from filings.models import PublishedWebsite
from filings.publishing import publish, unpublish
from public.api import PublicQueryThrottle
from public.selectors import QueryInvalid, parse_query
from tests.factories import FilingFactory, WebsiteFactory
from tests.public_support import approved_filing

pytestmark = pytest.mark.django_db

API = "/api/v1/public/filings/"
PUBLIC_KEYS = {
    "number",
    "sponsor_name",
    "sponsor_nature",
    "website_name",
    "website_number",
    "homepage",
    "domains",
    "approved_at",
    "service_type",
    "identifiers",
}


@pytest.fixture
def blossom():
    """One approved sponsor with two websites."""
    return approved_filing(
        sponsor_name="北京花开科技有限公司",
        websites=[
            {"name": "花开博客", "homepage": "http://www.blossom.cn/", "domains": ["blossom.cn"]},
            {
                "name": "Blossom Shop",
                "homepage": "https://shop.blossom-store.com.cn/",
                "domains": ["blossom-store.com.cn", "xn--fsqu00a.xn--fiqs8s"],
            },
        ],
    )


def numbers(response) -> list[str]:
    return [row["website_number"] for row in response.json()["results"]]


# Classification ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kind", "value"),
    [
        ("京ICP备2026000001号", "sponsor_number", "京ICP备2026000001号"),
        ("京icp备2026000001", "sponsor_number", "京ICP备2026000001号"),
        (" 京ICP备2026000001号-2 ", "website_number", "京ICP备2026000001号-2"),
        ("京ICP备2026000001-2", "website_number", "京ICP备2026000001号-2"),
        ("ＷＷＷ．Example．CN", "domain", "www.example.cn"),
        ("https://a.b.example.cn:8443/path?x=1", "domain", "a.b.example.cn"),
        ("例子.中国", "domain", "xn--fsqu00a.xn--fiqs8s"),
        ("花开", "name", "花开"),
        # A name is searched by its key: case-folded, white space as one space.
        ("Blossom  Shop", "name", "blossom shop"),
        ("Example Inc.", "name", "example inc."),
    ],
)
def test_a_query_is_read_as_a_number_a_domain_or_a_name(typed, kind, value):
    parsed = parse_query(typed)
    assert (parsed.kind, parsed.value) == (kind, value)


@pytest.mark.parametrize("typed", ["", "   ", "花", "x" * 256, "http://"])
def test_an_empty_too_short_or_too_long_query_is_refused(typed):
    with pytest.raises(QueryInvalid):
        parse_query(typed)


# Each kind of search ------------------------------------------------------------------------------


def test_a_domain_finds_its_website(client, blossom):
    response = client.get(API, {"q": "blossom.cn"})
    assert response.status_code == 200
    assert numbers(response) == [f"{blossom.number}-1"]


def test_any_subdomain_or_url_finds_the_filing_of_its_domain(client, blossom):
    for typed in ("www.blossom.cn", "a.b.c.blossom.cn", "https://WWW.Blossom.CN/about"):
        assert numbers(client.get(API, {"q": typed})) == [f"{blossom.number}-1"], typed


def test_a_domain_that_only_ends_the_same_way_is_not_a_match(client, blossom):
    assert client.get(API, {"q": "myblossom.cn"}).json()["count"] == 0


def test_an_internationalised_domain_is_found_in_unicode(client, blossom):
    assert numbers(client.get(API, {"q": "www.例子.中国"})) == [f"{blossom.number}-2"]


def test_a_sponsor_number_lists_every_website_of_the_filing(client, blossom):
    response = client.get(API, {"q": blossom.number})
    assert numbers(response) == [f"{blossom.number}-1", f"{blossom.number}-2"]


def test_a_website_number_finds_that_website_only(client, blossom):
    assert numbers(client.get(API, {"q": f"{blossom.number}-2"})) == [f"{blossom.number}-2"]


def test_part_of_the_sponsor_name_finds_every_website(client, blossom):
    assert client.get(API, {"q": "花开科技"}).json()["count"] == 2


def test_part_of_a_website_name_finds_it_whatever_the_case(client, blossom):
    assert numbers(client.get(API, {"q": "blossom shop"})) == [f"{blossom.number}-2"]


def test_filings_not_approved_are_never_found(client):
    draft = FilingFactory(sponsor_name="草稿示例有限公司", status="pending_review")
    WebsiteFactory(filing=draft, domains=["draft-only.cn"])
    for typed in ("草稿示例", "draft-only.cn"):
        assert client.get(API, {"q": typed}).json()["count"] == 0


def test_a_bad_query_answers_400_with_the_reason_on_q(client):
    response = client.get(API, {"q": "花"})
    assert response.status_code == 400
    assert "2" in response.json()["q"][0]
    assert client.get(API).status_code == 400


def test_a_name_search_lists_at_most_the_configured_number_of_matches(client, settings):
    settings.PUBLIC_QUERY_MAX_RESULTS = 2
    approved_filing(
        sponsor_name="上限示例有限公司",
        websites=[{"name": f"上限网站{i}", "domains": [f"limit{i}.cn"]} for i in range(3)],
    )
    body = client.get(API, {"q": "上限"}).json()
    assert body["count"] == 2


def test_results_are_paginated(client, blossom):
    body = client.get(API, {"q": "花开", "page": 1}).json()
    assert {"count", "next", "previous", "results"} <= set(body)


# No personal data ---------------------------------------------------------------------------------


def test_no_id_number_address_or_contact_is_ever_in_a_public_answer(client, blossom):
    secrets = [
        blossom.sponsor_id_number,
        blossom.principal_id_number,
        blossom.principal_name,
        blossom.principal_mobile,
        blossom.principal_email,
        blossom.sponsor_address,
        blossom.owner.username,
        blossom.owner.email,
        blossom.owner.mobile,
        "120.79.1.10",
    ]
    for typed in ("blossom.cn", blossom.number, "花开"):
        api = client.get(API, {"q": typed})
        page = client.get("/query/", {"q": typed})
        for row in api.json()["results"]:
            assert set(row) == PUBLIC_KEYS
        for body in (api.content.decode(), page.content.decode()):
            assert "花开" in body
            for secret in secrets:
                assert secret not in body, (typed, secret)


def test_the_api_answers_exactly_the_public_fields(client, blossom):
    row = client.get(API, {"q": f"{blossom.number}-1"}).json()["results"][0]
    assert row == {
        "number": blossom.number,
        "sponsor_name": "北京花开科技有限公司",
        "sponsor_nature": "enterprise",
        "website_name": "花开博客",
        "website_number": f"{blossom.number}-1",
        "homepage": "http://www.blossom.cn/",
        "domains": ["blossom.cn"],
        "approved_at": row["approved_at"],
        "service_type": "website",
        "identifiers": [],
    }
    assert row["approved_at"].startswith(str(blossom.approved_at.year))


# The page -----------------------------------------------------------------------------------------


def test_the_page_shows_results_with_labels_and_unicode_domains(client, blossom):
    body = client.get("/query/", {"q": blossom.number}).content.decode()
    assert "花开博客" in body and "Blossom Shop" in body
    assert "企业" in body or "enterprise" in body
    assert "例子.中国" in body


def test_the_page_explains_a_bad_query_beside_the_field(client):
    response = client.get("/query/", {"q": "花"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "error-summary" in body and "field-error" in body
    assert 'value="花"' in body


def test_the_page_says_plainly_when_nothing_is_filed(client):
    body = client.get("/query/", {"q": "nothing-here.cn"}).content.decode()
    assert "0" in body
    assert "alert-info" in body


def test_the_page_is_linked_from_the_navigation(client):
    assert 'href="/query/"' in client.get("/").content.decode()


# Captcha and throttling -----------------------------------------------------------------------------


@pytest.fixture
def captcha_test_mode(monkeypatch):
    """django-simple-captcha reads its settings once: switch its own copy to test mode."""
    from captcha.conf import settings as captcha_settings

    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)


def test_the_page_asks_for_a_captcha_after_the_threshold(client, settings, blossom):
    settings.PUBLIC_QUERY_CAPTCHA_AFTER = 3
    for _ in range(3):
        body = client.get("/query/", {"q": "blossom.cn"}).content.decode()
        assert "花开博客" in body and 'name="captcha_1"' not in body
    body = client.get("/query/", {"q": "blossom.cn"}).content.decode()
    assert 'name="captcha_1"' in body
    assert "花开博客" not in body
    assert 'value="blossom.cn"' in body  # what was typed is kept


def test_a_wrong_captcha_is_refused_and_a_right_one_lets_the_query_through(
    client, settings, blossom, captcha_test_mode
):
    settings.PUBLIC_QUERY_CAPTCHA_AFTER = 2
    for _ in range(2):
        client.get("/query/", {"q": "blossom.cn"})
    wrong = client.get(
        "/query/", {"q": "blossom.cn", "captcha_0": "x", "captcha_1": "WRONG"}
    ).content.decode()
    assert "field-error" in wrong and "花开博客" not in wrong
    right = client.get(
        "/query/", {"q": "blossom.cn", "captcha_0": "x", "captcha_1": "PASSED"}
    ).content.decode()
    assert "花开博客" in right
    # A solved picture is good for as many queries as the threshold, not for ever.
    assert "花开博客" in client.get("/query/", {"q": "blossom.cn"}).content.decode()
    assert 'name="captcha_1"' in client.get("/query/", {"q": "blossom.cn"}).content.decode()


def test_the_captcha_counts_per_address(client, settings, blossom):
    settings.PUBLIC_QUERY_CAPTCHA_AFTER = 1
    client.get("/query/", {"q": "blossom.cn"}, REMOTE_ADDR="203.0.113.1")
    other = client.get("/query/", {"q": "blossom.cn"}, REMOTE_ADDR="203.0.113.2")
    assert "花开博客" in other.content.decode()


def test_the_api_is_rate_limited_per_address(client, monkeypatch, blossom):
    monkeypatch.setattr(PublicQueryThrottle, "THROTTLE_RATES", {"public": "3/min"})
    for _ in range(3):
        assert client.get(API, {"q": "blossom.cn"}, REMOTE_ADDR="203.0.113.9").status_code == 200
    limited = client.get(API, {"q": "blossom.cn"}, REMOTE_ADDR="203.0.113.9")
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers
    # A forged X-Forwarded-For does not buy a fresh allowance...
    forged = client.get(
        API, {"q": "blossom.cn"}, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    assert forged.status_code == 429
    # ...but another address has its own.
    assert client.get(API, {"q": "blossom.cn"}, REMOTE_ADDR="203.0.113.10").status_code == 200


# Cache ----------------------------------------------------------------------------------------------


def test_a_repeated_query_is_answered_from_the_cache(client, blossom):
    client.get(API, {"q": "花开"})
    with CaptureQueriesContext(connection) as queries:
        assert client.get(API, {"q": "花开"}).json()["count"] == 2
    assert not [q for q in queries.captured_queries if "publishedwebsite" in q["sql"]]


def test_an_approval_clears_the_cached_answers(client, blossom, django_capture_on_commit_callbacks):
    assert client.get(API, {"q": "newly-approved.cn"}).json()["count"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        approved_filing(websites=[{"domains": ["newly-approved.cn"]}])
    assert client.get(API, {"q": "newly-approved.cn"}).json()["count"] == 1


def test_an_amendment_approval_shows_the_new_data(
    client, blossom, django_capture_on_commit_callbacks
):
    assert client.get(API, {"q": "花开博客"}).json()["count"] == 1
    website = blossom.websites.get(name="花开博客")
    website.name = "花开日志"
    website.save()
    with django_capture_on_commit_callbacks(execute=True):
        publish(filing=blossom)
    assert client.get(API, {"q": "花开博客"}).json()["count"] == 0
    assert client.get(API, {"q": "花开日志"}).json()["count"] == 1


def test_a_revocation_clears_the_cached_answers(
    client, blossom, django_capture_on_commit_callbacks
):
    assert client.get(API, {"q": "blossom.cn"}).json()["count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        unpublish(filing=blossom)
    assert client.get(API, {"q": "blossom.cn"}).json()["count"] == 0
    assert "花开博客" not in client.get("/query/", {"q": "blossom.cn"}).content.decode()


def test_an_approval_elsewhere_keeps_the_cached_answers_about_other_domains(
    client, blossom, django_capture_on_commit_callbacks
):
    client.get(API, {"q": "blossom.cn"})
    client.get(API, {"q": "花开"})
    with django_capture_on_commit_callbacks(execute=True):
        approved_filing(websites=[{"domains": ["elsewhere-approved.cn"]}])

    with CaptureQueriesContext(connection) as queries:
        assert client.get(API, {"q": "www.blossom.cn"}).json()["count"] == 1
        assert client.get(API, {"q": "blossom.cn"}).json()["count"] == 1
    # "www.blossom.cn" is a new question; "blossom.cn" is still answered from the cache.
    assert len([q for q in queries.captured_queries if "publishedwebsite" in q["sql"]]) == 1
    # Any approval may change what a name finds: name searches are asked again.
    with CaptureQueriesContext(connection) as queries:
        client.get(API, {"q": "花开"})
    assert [q for q in queries.captured_queries if "publishedwebsite" in q["sql"]]


def test_a_subdomain_asked_before_its_domain_was_approved_finds_it_after(
    client, django_capture_on_commit_callbacks
):
    assert client.get(API, {"q": "https://shop.later-approved.cn/"}).json()["count"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        approved_filing(websites=[{"domains": ["later-approved.cn"]}])
    assert client.get(API, {"q": "https://shop.later-approved.cn/"}).json()["count"] == 1


def test_a_number_asked_before_an_amendment_shows_the_new_data_after(
    client, blossom, django_capture_on_commit_callbacks
):
    website = blossom.websites.get(name="花开博客")
    assert client.get(API, {"q": website.number}).json()["results"][0]["website_name"] == "花开博客"
    website.name = "花开日志"
    website.save()
    with django_capture_on_commit_callbacks(execute=True):
        publish(filing=blossom)
    answer = client.get(API, {"q": website.number}).json()["results"]
    assert answer[0]["website_name"] == "花开日志"
    assert client.get(API, {"q": blossom.number}).json()["count"] == 2


@pytest.mark.parametrize(
    "typed", ["blossom.cn", "a.b.blossom.cn", "www.例子.中国", "shop.blossom-store.com.cn"]
)
def test_a_domain_is_looked_up_as_the_orm_would(blossom, typed):
    from public.selectors import PUBLIC_FIELDS, _domain_matches, _matching

    query = parse_query(typed)
    expected = list(_matching(query).order_by("sponsor_number", "id").values("id", *PUBLIC_FIELDS))
    assert expected
    assert _domain_matches(query.value, 10) == expected


def test_the_api_answer_is_the_serializer_shape_with_the_time_in_the_server_zone(client, blossom):
    from public.api import PublicFilingSerializer
    from public.selectors import filing_search

    client.get(API, {"q": "blossom.cn"})  # searched
    cached = client.get(API, {"q": "blossom.cn"}).json()["results"]  # from the cached rows
    kept = client.get(API, {"q": "blossom.cn"})  # the answer kept as sent
    assert kept["Content-Type"] == "application/json"
    assert kept.json()["results"] == cached
    assert kept.json()["count"] == 1 and kept.json()["next"] is None
    rows = filing_search(parse_query("blossom.cn")).rows_for(
        list(PublishedWebsite.objects.filter(website_name="花开博客").values_list("id", flat=True))
    )
    assert cached == PublicFilingSerializer(rows, many=True).data
    assert cached[0]["approved_at"].endswith("+08:00")


def test_a_stamp_written_in_an_older_form_is_replaced_and_answers_stay_right(client, blossom):
    from django.core.cache import cache

    from public.answer_cache import PUBLISHED_VERSION_KEY, answer_version_key

    key = answer_version_key(parse_query("blossom.cn"))
    for old_form in (key, PUBLISHED_VERSION_KEY):
        cache.set(old_form, "3f2a9c0e4b6d4e1fa0c5b7d8e9f01234", timeout=None)
    assert numbers(client.get(API, {"q": "blossom.cn"})) == [
        blossom.websites.get(name="花开博客").number
    ]
    assert client.get(API, {"q": "花开博客"}).json()["count"] == 1
    assert isinstance(cache.get(key), int)
    assert isinstance(cache.get(PUBLISHED_VERSION_KEY), int)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(API, {"q": "blossom.cn"}).json()["count"] == 1
    assert not [q for q in queries.captured_queries if "publishedwebsite" in q["sql"]]


def test_the_query_answers_while_redis_is_away(client, blossom):
    from beian import cache as resilient_cache

    resilient_cache.trip(60, ConnectionError("test outage"))
    try:
        for _ in range(2):
            assert client.get(API, {"q": "blossom.cn"}).json()["count"] == 1
    finally:
        resilient_cache.reset()


# PostgreSQL: trigram indexes behind the name search ---------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
def test_the_name_search_can_use_the_trigram_indexes(blossom):
    from public.selectors import ParsedQuery, _matching

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'filings_publishedwebsite'"
        )
        names = {row[0] for row in cursor.fetchall()}
        assert {
            "public_published_sponsor_search_trgm",
            "public_published_website_search_trgm",
        } <= names
        sql, params = _matching(ParsedQuery("name", "花开科技")).query.sql_with_params()
        # A tiny table: keep the planner off the plain scans so the plan shows which index
        # serves the substring match (on millions of rows it picks the trigram ones itself).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "public_published_sponsor_search_trgm" in plan
    assert "public_published_website_search_trgm" in plan
    assert PublishedWebsite.objects.filter(sponsor_name_search__contains="花开科技").count() == 2


def test_a_kept_answer_is_sent_as_drf_would_and_other_requests_go_through_drf(client, blossom):
    for _ in range(3):
        kept = client.get(API, {"q": "blossom.cn"})
    assert kept.status_code == 200
    assert "Accept" in kept["Vary"] and "GET" in kept["Allow"]
    assert kept.json()["count"] == 1

    browsable = client.get(API, {"q": "blossom.cn"}, HTTP_ACCEPT="text/html")
    assert browsable.status_code == 200 and browsable["Content-Type"].startswith("text/html")
    paged = client.get(API, {"q": "blossom.cn", "page": "2"})
    assert paged.status_code == 404  # DRF's answer to a page past the end


def test_the_rate_is_counted_once_for_a_kept_answer(client, monkeypatch, blossom):
    from beian import limits

    monkeypatch.setattr(PublicQueryThrottle, "THROTTLE_RATES", {"public": "4/hour"})
    address = "198.51.100.90"
    answers = [client.get(API, {"q": "blossom.cn"}, REMOTE_ADDR=address) for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert limits.current(PublicQueryThrottle.cache_format % {"ident": address}) == 5
