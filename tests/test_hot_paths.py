"""The hot paths (beian/hotpaths.py): gating with a remembered console token and the public
query asked again answer before the middleware, with the same bytes and headers as the
ordinary path, and a revoked token or a deactivated account or provider is refused within
one second (SPEC §6, §7, §12)."""

import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import AccessProvider, User
from beian import cache as resilient_cache
from providers import gating_lane
from providers.services import api_token_issue, api_token_revoke
from tests.providers_support import approved_filing, provider_staff
from tests.providers_support import gating_path as one

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return provider_staff()


@pytest.fixture
def token(staff):
    return api_token_issue(user=staff, name="gating server")


@pytest.fixture
def api(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token[1]}")
    return client


@pytest.fixture
def filed(staff):
    return approved_filing(domains=["hot.cn"], provider=staff.provider)


def answered_by_hot_path(client, path, **extra):
    """(response, whether the hot path answered): the ordinary path's answer is DRF's
    ``Response`` and reads the token from the database; the hot path's reads neither."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **extra)
    token_read = any("providers_apitoken" in q["sql"] for q in queries.captured_queries)
    hot = not hasattr(response, "data")
    assert not (hot and token_read)
    return response, hot


HEADERS_COMPARED = (
    "Content-Type",
    "Vary",
    "Allow",
    "Content-Language",
    "X-Frame-Options",
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Content-Length",
)


def headers(response):
    return {name: response.headers.get(name) for name in HEADERS_COMPARED}


def test_a_remembered_token_is_answered_by_the_hot_path_with_the_ordinary_answer(
    api, filed, settings
):
    first, hot = answered_by_hot_path(api, one("hot.cn"))
    assert first.status_code == 200 and not hot
    second, hot = answered_by_hot_path(api, one("hot.cn"))
    assert second.status_code == 200 and hot
    assert second.content == first.content
    assert second.json() == {
        "domain": "hot.cn",
        "filed": True,
        "number": filed.websites.get().number,
        "status": "approved",
        "access": True,
    }
    assert headers(second) == headers(first)
    hot_paths = list(settings.HOT_PATHS)
    for language in ("en", "zh-hans"):
        hot_answer = api.get(one("www.hot.cn"), HTTP_ACCEPT_LANGUAGE=language)
        settings.HOT_PATHS = []
        ordinary = api.get(one("www.hot.cn"), HTTP_ACCEPT_LANGUAGE=language)
        settings.HOT_PATHS = hot_paths
        assert hot_answer.content == ordinary.content
        assert headers(hot_answer) == headers(ordinary)
        assert hot_answer["Content-Language"] == language


def test_an_unfiled_and_an_unnormal_domain_answer_as_the_ordinary_path(api, filed, settings):
    api.get(one("hot.cn"))
    asked = [one("never-filed.cn"), one("WWW.HOT.CN."), one("http:%2F%2Fhot.cn%2Fpage")]
    hot = [api.get(path) for path in asked]
    settings.HOT_PATHS = []
    ordinary = [api.get(path) for path in asked]
    assert [r.content for r in hot] == [r.content for r in ordinary]
    assert [r.status_code for r in hot] == [r.status_code for r in ordinary]
    assert hot[0].json()["filed"] is False and hot[1].json()["filed"] is True


@pytest.mark.parametrize(
    "extra",
    [
        {"HTTP_ACCEPT": "text/html"},
        {"QUERY_STRING": "format=json"},
    ],
)
def test_other_formats_and_query_strings_take_the_ordinary_path(api, filed, extra):
    api.get(one("hot.cn"))
    response, hot = answered_by_hot_path(api, one("hot.cn"), **extra)
    assert not hot and response.status_code == 200


def test_the_batch_path_and_the_check_address_are_not_taken_for_a_domain(api, filed):
    api.get(one("hot.cn"))
    assert api.get("/api/v1/provider/domains/check/").status_code == 405
    assert api.post(
        "/api/v1/provider/domains/check/", {"domains": ["hot.cn"]}, format="json"
    ).json()["results"][0]["filed"]


def test_a_revoked_token_is_refused_within_one_second(staff, token, api, filed):
    key_token, _key = token
    assert answered_by_hot_path(api, one("hot.cn"))[0].status_code == 200
    assert answered_by_hot_path(api, one("hot.cn"))[1]
    started = time.monotonic()
    api_token_revoke(token=key_token, by=staff)
    refused = api.get(one("hot.cn"))
    assert refused.status_code == 401
    assert time.monotonic() - started < 1


def test_a_deactivated_provider_is_refused_at_once(staff, api, filed):
    api.get(one("hot.cn"))
    assert answered_by_hot_path(api, one("hot.cn"))[1]
    provider = AccessProvider.objects.get(pk=staff.provider_id)
    provider.is_active = False
    provider.save()
    assert api.get(one("hot.cn")).status_code == 403


def test_a_deactivated_account_is_refused_at_once(staff, api, filed):
    api.get(one("hot.cn"))
    staff.is_active = False
    staff.save()
    assert api.get(one("hot.cn")).status_code == 401


def test_the_revocation_signal_runs_again_when_the_change_commits(
    staff, token, api, filed, django_capture_on_commit_callbacks, monkeypatch
):
    key_token, _key = token
    api.get(one("hot.cn"))
    forgotten = []
    monkeypatch.setattr(
        gating_lane.limits, "forget_holders", lambda keys, **kw: forgotten.append(keys)
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        api_token_revoke(token=key_token, by=staff)
    assert forgotten == [[gating_lane.entry_key(key_token.key_hash)]]
    for callback in callbacks:
        callback()
    assert len(forgotten) == 2


def test_a_change_made_outside_the_models_takes_effect_within_the_cache_seconds(
    staff, api, filed, settings
):
    assert settings.PROVIDER_TOKEN_CACHE_SECONDS == 1
    api.get(one("hot.cn"))
    User.objects.filter(pk=staff.pk).update(is_active=False)
    time.sleep(settings.PROVIDER_TOKEN_CACHE_SECONDS + 0.05)
    assert api.get(one("hot.cn")).status_code == 401


def test_a_rate_refused_on_the_hot_path_is_counted_once_and_answered_429(staff, filed):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**api_settings.DEFAULT_THROTTLE_RATES, "gating": "3/min"}
    try:
        _token, key = api_token_issue(user=staff, name="limited")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        codes = [client.get(one("hot.cn")).status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        refused = client.get(one("hot.cn"))
        assert refused.status_code == 429 and int(refused["Retry-After"]) <= 60
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original


def test_with_redis_away_the_ordinary_path_answers(api, filed, monkeypatch):
    api.get(one("hot.cn"))
    monkeypatch.setattr(resilient_cache, "_down_until", time.monotonic() + 60)
    response, hot = answered_by_hot_path(api, one("hot.cn"))
    assert response.status_code == 200 and not hot
    assert response.json()["filed"] is True


def test_a_session_is_never_answered_by_the_hot_path(client, staff, filed):
    client.force_login(staff)
    client.get(one("hot.cn"))
    response, hot = answered_by_hot_path(client, one("hot.cn"))
    assert response.status_code == 200 and not hot


def test_the_public_query_asked_again_has_the_ordinary_bytes_and_headers(client, filed, settings):
    path = "/api/v1/public/filings/?q=hot.cn"
    client.get(path)
    kept = client.get(path)
    settings.HOT_PATHS = []
    ordinary = client.get(path)
    assert kept.status_code == ordinary.status_code == 200
    assert kept.content == ordinary.content
    assert headers(kept) == headers(ordinary)
    assert kept.json()["results"][0]["domains"] == ["hot.cn"]


def test_an_account_leaving_the_provider_role_is_refused_at_once(staff, api, filed):
    api.get(one("hot.cn"))
    assert answered_by_hot_path(api, one("hot.cn"))[1]
    staff.role = User.Role.OWNER
    staff.save()
    assert api.get(one("hot.cn")).status_code in (401, 403)


def test_a_call_that_read_the_token_before_its_revocation_cannot_remember_it_again(
    staff, token, api, filed
):
    key_token, _key = token
    api.get(one("hot.cn"))
    api_token_revoke(token=key_token, by=staff)
    # What a call in flight during the revocation does once it answers.
    gating_lane.remember_token(key_token)
    assert api.get(one("hot.cn")).status_code == 401


def test_another_host_and_a_line_feed_take_the_ordinary_path(api, filed, client):
    api.get(one("hot.cn"))
    assert api.get(one("hot.cn"), HTTP_HOST="evil.example").status_code == 400
    assert api.get(one("hot.cn%0A")).status_code == 404
    assert api.get(one("hot.cn%0Aevil.cn")).status_code == 404
    path = "/api/v1/public/filings/?q=hot.cn"
    client.get(path)
    client.get(path)
    assert client.get(path, HTTP_HOST="evil.example").status_code == 400


def test_a_first_ask_of_a_domain_or_number_is_searched_by_the_hot_path(client, filed, settings):
    asked = [
        "/api/v1/public/filings/?q=www.hot.cn",
        f"/api/v1/public/filings/?q={filed.number}",
        "/api/v1/public/filings/?q=never-filed.cn",
    ]
    hot = [client.get(path) for path in asked]
    assert [hasattr(r, "data") for r in hot] == [False, False, False]
    cache.clear()
    hot_paths = list(settings.HOT_PATHS)
    settings.HOT_PATHS = []
    ordinary = [client.get(path) for path in asked]
    settings.HOT_PATHS = hot_paths
    assert [r.content for r in hot] == [r.content for r in ordinary]
    assert [headers(r) for r in hot] == [headers(r) for r in ordinary]
    assert hot[0].json()["count"] == 1 and hot[2].json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_a_name_search_and_a_bad_query_take_the_ordinary_path(client, filed, monkeypatch):
    from public.api import PublicFilingSearchView

    listed = []
    original = PublicFilingSearchView.list

    def recording(self, request, *args, **kwargs):
        listed.append(request.query_params["q"])
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(PublicFilingSearchView, "list", recording)
    name = client.get("/api/v1/public/filings/", {"q": filed.sponsor_name[:4]})
    bad = client.get("/api/v1/public/filings/", {"q": ""})
    domain = client.get("/api/v1/public/filings/", {"q": "hot.cn"})
    assert name.json()["count"] >= 1 and domain.json()["count"] == 1
    assert bad.status_code == 400 and "q" in bad.json()
    assert listed == [filed.sponsor_name[:4], ""]


def test_an_account_loaded_with_deferred_fields_is_watched_without_loading_them(staff, api, filed):
    api.get(one("hot.cn"))
    partial = User.objects.only("id", "session_generation").get(pk=staff.pk)
    partial.session_generation += 1
    partial.save(update_fields=["session_generation"])
    assert answered_by_hot_path(api, one("hot.cn"))[1]
    partial.is_active = False
    partial.save(update_fields=["is_active"])
    assert api.get(one("hot.cn")).status_code == 401


def test_a_control_character_in_the_domain_is_a_400_on_the_field_on_both_paths(api, filed):
    api.get(one("hot.cn"))
    assert answered_by_hot_path(api, one("hot.cn"))[1]
    refused = api.get(one("hot.cn%00"))
    assert refused.status_code == 400
    assert list(refused.json()) == ["domain"]
    assert api.get(one("hot%01.cn")).status_code == 400
    assert api.get(one("hot.cn")).json()["filed"] is True
