"""The distribution platforms' check (SPEC §13): an app store asks whether the apps and
mini-programs it lists are filed, by their identifiers, a thousand at a time."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from filings.models import App, Filing
from providers.services import api_token_issue
from tests import app_support as aps
from tests import filings_support as fs
from tests.factories import AccessProviderFactory, UserFactory
from tests.providers_support import provider_staff, revoke

pytestmark = pytest.mark.django_db

CHECK = "/api/v1/provider/apps/check/"
ANDROID = aps.ANDROID_PACKAGE  # cn.example.beian.demo
BUNDLE = "cn.example.Beian.Shop"
GONE = "cn.example.gone"
WECHAT = "wx0123456789abcdef"


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def store():
    """Staff of an app store (a distribution platform only), asking with a console token."""
    platform = AccessProviderFactory(is_access_provider=False, is_distribution_platform=True)
    _token, key = api_token_issue(user=provider_staff(platform), name="store listing")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def filed():
    """An approved record of an Android app, an iOS app, a third app and a WeChat
    mini-program, through the API and the stages as an owner files them."""
    owner = UserFactory()
    payload = fs.data()
    payload["apps"] = [
        aps.app(),
        aps.app(name="示例商城", platforms=[aps.ios(identifier=BUNDLE)]),
        aps.app(name="已下架App", platforms=[aps.android(GONE)]),
    ]
    payload["mini_programs"] = [aps.mini_program()]
    client = APIClient()
    client.force_authenticate(owner)
    pk = client.post("/api/v1/filings/", payload, format="json").json()["id"]
    answer = client.post(f"/api/v1/filings/{pk}/submit/")
    assert answer.status_code == 200, answer.json()
    filing = fs.approve(fs.to_bureau(Filing.objects.get(pk=pk)))
    filing.owner_client = client
    return filing


def ask(client, identifiers):
    return client.post(CHECK, {"identifiers": identifiers}, format="json")


def test_a_filed_app_is_found_by_its_package_name_with_its_number(store, filed):
    answer = ask(store, [ANDROID])
    assert answer.status_code == 200
    assert answer.json() == {
        "results": [
            {
                "identifier": ANDROID,
                "filed": True,
                "number": f"{filed.number}-1A",
                "status": "approved",
            }
        ]
    }


def test_an_ios_bundle_id_matches_in_any_case_a_package_name_only_exactly(store, filed):
    results = ask(store, [BUNDLE.upper(), "cn.example.beian.shop", ANDROID.upper()]).json()
    assert [(r["identifier"], r["filed"], r["number"]) for r in results["results"]] == [
        (BUNDLE.upper(), True, f"{filed.number}-2A"),
        ("cn.example.beian.shop", True, f"{filed.number}-2A"),
        # Android package names are case-sensitive: CN.EXAMPLE… is another app.
        (ANDROID.upper(), False, None),
    ]


def test_a_mini_program_is_found_by_its_id_typed_in_full_width_or_upper_case(store, filed):
    full_width = " ｗｘ０１２３４５６７８９ａｂｃｄｅｆ "
    results = ask(store, [WECHAT, full_width, WECHAT.upper()]).json()["results"]
    assert [r["number"] for r in results] == [f"{filed.number}-1X"] * 3
    assert all(r["filed"] and r["status"] == "approved" for r in results)
    # The identifier comes back exactly as asked, spaces and width included.
    assert results[1]["identifier"] == full_width


def test_an_identifier_typed_with_ideographic_full_stops_is_folded(store, filed):
    results = ask(store, ["ｃｎ。ｅｘａｍｐｌｅ。ｂｅｉａｎ。ｄｅｍｏ"]).json()["results"]
    assert results[0]["filed"] is True and results[0]["number"] == f"{filed.number}-1A"


def test_unknown_identifiers_and_what_cannot_be_one_answer_not_filed(store, filed):
    asked = ["com.never.filed", "", "   ", "不是标识", "a b.c", "x" * 256]
    results = ask(store, asked).json()["results"]
    assert [r["identifier"] for r in results] == asked
    assert all((r["filed"], r["number"], r["status"]) == (False, None, None) for r in results), (
        results
    )


def test_a_cancelled_app_is_not_filed_any_more(store, filed):
    gone = App.objects.get(filing=filed, name="已下架App")
    assert ask(store, [GONE]).json()["results"][0]["filed"] is True
    answer = filed.owner_client.post(
        f"/api/v1/filings/{filed.pk}/websites/{gone.pk}/cancel/", {"reason": "下架"}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    # Filed until the bureau approves the cancellation.
    assert ask(store, [GONE]).json()["results"][0]["filed"] is True
    fs.approve(fs.to_bureau(Filing.objects.get(pk=filed.pk)))

    results = ask(store, [GONE, ANDROID]).json()["results"]
    assert (results[0]["filed"], results[0]["number"], results[0]["status"]) == (False, None, None)
    assert results[1]["filed"] is True


def test_the_apps_of_a_revoked_filing_answer_revoked_with_their_old_numbers(store, filed):
    revoke(filed)
    results = ask(store, [ANDROID, BUNDLE.lower(), WECHAT, "com.never.filed"]).json()["results"]
    assert [(r["filed"], r["number"], r["status"]) for r in results] == [
        (False, f"{filed.number}-1A", "revoked"),
        (False, f"{filed.number}-2A", "revoked"),
        (False, f"{filed.number}-1X", "revoked"),
        (False, None, None),
    ]


def test_an_amendment_under_review_leaves_the_apps_filed_with_the_status(store, filed):
    Filing.objects.filter(pk=filed.pk).update(status="amendment_pending")
    result = ask(store, [ANDROID]).json()["results"][0]
    assert (result["filed"], result["status"]) == (True, "amendment_pending")


def test_answers_keep_the_order_asked_with_repeats(store, filed):
    asked = ["nope.app", WECHAT, ANDROID, "nope.app", BUNDLE, WECHAT]
    results = ask(store, asked).json()["results"]
    assert [r["identifier"] for r in results] == asked
    assert [r["filed"] for r in results] == [False, True, True, False, True, True]


def test_the_batch_costs_the_same_queries_for_one_identifier_or_five_hundred(
    store, filed, django_assert_max_num_queries
):
    gone = App.objects.get(filing=filed, name="已下架App")
    revoke(Filing.objects.get(pk=filed.pk))
    ask(store, ["first call"])  # records the token's last use
    with CaptureQueriesContext(connection) as one:
        assert ask(store, [GONE]).json()["results"][0]["status"] == "revoked"
    # Authentication, the published identifiers, the revoked filings' identifiers (read with
    # parallel plans turned off for the statement: a transaction of its own).
    reads = [q["sql"] for q in one.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 3
    assert any("max_parallel_workers_per_gather" in q["sql"] for q in one.captured_queries)
    mixed = [GONE, BUNDLE.upper(), WECHAT, "com.never.filed", "bad id!"] * 100
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = ask(store, mixed)
    results = response.json()["results"]
    assert len(results) == 500
    assert results[:5] == [
        {"identifier": GONE, "filed": False, "number": gone.number, "status": "revoked"},
        {
            "identifier": BUNDLE.upper(),
            "filed": False,
            "number": f"{filed.number}-2A",
            "status": "revoked",
        },
        {"identifier": WECHAT, "filed": False, "number": f"{filed.number}-1X", "status": "revoked"},
        {"identifier": "com.never.filed", "filed": False, "number": None, "status": None},
        {"identifier": "bad id!", "filed": False, "number": None, "status": None},
    ]


def test_published_apps_cost_one_query_and_a_batch_of_nothing_none(store, filed):
    ask(store, ["first call"])  # records the token's last use
    with CaptureQueriesContext(connection) as found:
        ask(store, [ANDROID] * 500)
    with CaptureQueriesContext(connection) as nothing:
        ask(store, ["not an identifier"] * 500)
    assert len(found.captured_queries) == len(nothing.captured_queries) + 1


# Limits and refusals -------------------------------------------------------------------------


def test_a_thousand_identifiers_are_answered_and_one_more_is_a_400(store, filed):
    assert len(ask(store, [ANDROID] * 1000).json()["results"]) == 1000
    answer = ask(store, [ANDROID] * 1001)
    assert answer.status_code == 400
    assert answer.json()["identifiers"] == ["每次最多查询 1000 个标识。"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"identifiers": ANDROID},
        {"identifiers": []},
        {"identifiers": [ANDROID, 42]},
        {"identifiers": [None]},
        {"identifiers": [["nested"]]},
        {"identifiers": [{"identifier": ANDROID}]},
        {"identifiers": ["x" * 301]},
        {"identifiers": ["wx\u0000bad"]},
        {"identifiers": {"0": ANDROID}},
        ["not", "an", "object"],
    ],
)
def test_bad_input_is_a_400_with_field_errors_never_a_500(store, body):
    answer = store.post(CHECK, body, format="json")
    assert answer.status_code == 400
    errors = answer.json()
    assert "identifiers" in errors or "non_field_errors" in errors, errors


def test_half_an_emoji_is_a_400(store):
    body = '{"identifiers": ["com.example.app", "\\ud83d"]}'
    answer = store.post(CHECK, body, content_type="application/json")
    assert answer.status_code == 400


def test_a_number_in_the_list_is_named_by_its_place(store):
    errors = ask(store, ["com.example.app", 42]).json()["identifiers"]
    assert errors == {"1": ["每个标识须为字符串。"]}


def test_an_access_providers_token_may_ask_too(filed):
    _token, key = api_token_issue(user=provider_staff(), name="cloud")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert ask(client, [ANDROID]).json()["results"][0]["filed"] is True


def test_only_provider_staff_may_ask():
    from accounts.services import api_token_issue as sign_in_token

    owner = UserFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {sign_in_token(user=owner).key}")
    assert ask(client, [ANDROID]).status_code == 403
    assert ask(APIClient(), [ANDROID]).status_code in (401, 403)


def test_staff_of_a_deactivated_store_may_not_ask(store):
    from accounts.models import AccessProvider

    AccessProvider.objects.update(is_active=False)
    assert ask(store, [ANDROID]).status_code == 403


def test_the_app_check_shares_the_gating_rate_per_token():
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "gating": "3/min"}
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    try:
        _token, key = api_token_issue(
            user=provider_staff(AccessProviderFactory(is_distribution_platform=True)), name="t"
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert client.get("/api/v1/provider/domains/a.cn/").status_code == 200
        assert [ask(client, [ANDROID]).status_code for _ in range(3)] == [200, 200, 429]
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
