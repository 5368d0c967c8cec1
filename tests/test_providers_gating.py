"""Access gating (Q7, Q8): a provider asks whether a domain is filed before serving it."""

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from providers.models import ApiToken
from providers.services import api_token_issue, api_token_revoke
from tests.factories import UserFactory
from tests.providers_support import approved_filing, provider_staff, revoke
from tests.providers_support import gating_path as one

pytestmark = pytest.mark.django_db

CHECK = "/api/v1/provider/domains/check/"


@pytest.fixture
def staff():
    return provider_staff()


@pytest.fixture
def api(staff):
    _token, key = api_token_issue(user=staff, name="gating server")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_filed_domain_answers_filed_with_the_website_number(api):
    filing = approved_filing(domains=["filed-site.cn"])
    answer = api.get(one("filed-site.cn")).json()
    assert answer == {
        "domain": "filed-site.cn",
        "filed": True,
        "number": f"{filing.number}-1",
        "status": "approved",
        "access": False,
    }


def test_an_unfiled_domain_answers_not_filed(api):
    assert api.get(one("never-filed.cn")).json() == {
        "domain": "never-filed.cn",
        "filed": False,
        "number": None,
        "status": None,
        "access": False,
    }


# Access (SPEC §12): a provider may serve only sites filed with an access at that provider.


def test_the_provider_holding_the_access_is_told_it_may_serve_the_domain(api, staff):
    from tests.factories import AccessProviderFactory

    mine = approved_filing(domains=["mine-site.cn"], provider=staff.provider)
    theirs = approved_filing(domains=["theirs-site.cn"], provider=AccessProviderFactory())
    answer = api.get(one("www.mine-site.cn")).json()
    assert (answer["filed"], answer["access"], answer["number"]) == (
        True,
        True,
        f"{mine.number}-1",
    )
    # Filed, but at another provider: this one may not serve it.
    other = api.get(one("theirs-site.cn")).json()
    assert (other["filed"], other["access"], other["number"]) == (
        True,
        False,
        f"{theirs.number}-1",
    )


def test_each_provider_of_a_website_with_two_accesses_may_serve_it_and_the_batch_says_so(
    api, staff
):
    from filings.models import Access
    from filings.publishing import publish
    from tests.factories import AccessProviderFactory

    cdn = AccessProviderFactory()
    filing = approved_filing(domains=["two-access.cn"], provider=cdn)
    website = filing.websites.get()
    Access.objects.create(
        website=website, filing=filing, position=1, provider=staff.provider, method="cloud"
    )
    publish(filing=filing)
    shell = approved_filing(domains=["empty-shell.cn"], provider=staff.provider)
    shell.accesses.all().delete()
    publish(filing=shell)
    answers = api.post(
        CHECK,
        {"domains": ["two-access.cn", "empty-shell.cn", "nowhere-filed.cn", "bad domain"]},
        format="json",
    ).json()["results"]
    assert [(a["domain"], a["filed"], a["access"]) for a in answers] == [
        ("two-access.cn", True, True),
        # An empty shell stays filed until the bureau cancels it; nobody may serve it.
        ("empty-shell.cn", True, False),
        ("nowhere-filed.cn", False, False),
        ("bad domain", False, False),
    ]
    cdn_client = APIClient()
    cdn_client.force_authenticate(provider_staff(cdn))
    assert cdn_client.get(one("two-access.cn")).json()["access"] is True


def test_a_revoked_filing_gives_its_former_provider_no_access(api, staff):
    filing = approved_filing(domains=["revoked-mine.cn"], provider=staff.provider)
    assert api.get(one("revoked-mine.cn")).json()["access"] is True
    revoke(filing)
    answer = api.get(one("revoked-mine.cn")).json()
    assert (answer["filed"], answer["access"], answer["status"]) == (False, False, "revoked")


def test_a_subdomain_of_a_filed_domain_counts_as_filed(api):
    filing = approved_filing(domains=["parent-site.cn"])
    answer = api.get(one("shop.www.parent-site.cn")).json()
    assert answer["filed"] is True
    assert answer["number"] == f"{filing.number}-1"
    # A longer name that only ends with the same letters is another domain.
    assert api.get(one("myparent-site.cn")).json()["filed"] is False


def test_a_revoked_filing_answers_not_filed_with_status_revoked(api):
    filing = revoke(approved_filing(domains=["gone-site.cn"]))
    answer = api.get(one("www.gone-site.cn")).json()
    assert answer["filed"] is False
    assert answer["status"] == "revoked"
    assert answer["number"] == f"{filing.number}-1"


def test_a_filing_with_an_amendment_under_review_stays_filed(api):
    filing = approved_filing(domains=["amending.cn"])
    filing.status = "amendment_pending"
    filing.save()
    answer = api.get(one("amending.cn")).json()
    assert answer["filed"] is True
    assert answer["status"] == "amendment_pending"


def test_domains_are_normalised_like_filings(api):
    approved_filing(domains=["xn--fsqu00a.xn--fiqs8s"])  # 例子.中国
    approved_filing(domains=["upper-case.cn"])
    results = api.post(
        CHECK,
        {"domains": ["例子。中国", "WWW.Upper-Case.CN.", "http://upper-case.cn:8080/path"]},
        format="json",
    ).json()["results"]
    assert [r["filed"] for r in results] == [True, True, True]
    assert api.get(one("www.例子.中国")).json()["filed"] is True
    assert [r["domain"] for r in results] == [
        "例子。中国",
        "WWW.Upper-Case.CN.",
        "http://upper-case.cn:8080/path",
    ]


def test_the_batch_answers_in_the_order_asked_in_a_fixed_number_of_queries(
    api, django_assert_max_num_queries
):
    approved_filing(domains=["batch-one.cn"])
    revoke(approved_filing(domains=["batch-two.cn"]))
    asked = ["nope.cn", "a.batch-one.cn", "batch-two.cn", "not a domain!", "batch-one.cn"] * 200
    # Authentication (1), last-used touch (1), the published lookup (1), revoked lookup (1).
    with django_assert_max_num_queries(4):
        response = api.post(CHECK, {"domains": asked}, format="json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 1000
    assert [r["domain"] for r in results[:5]] == asked[:5]
    assert [r["filed"] for r in results[:5]] == [False, True, False, False, True]
    assert results[2]["status"] == "revoked"


def test_more_than_1000_domains_is_a_clear_400(api):
    response = api.post(CHECK, {"domains": ["a.cn"] * 1001}, format="json")
    assert response.status_code == 400
    assert "domains" in response.json()


def test_a_missing_or_malformed_batch_is_a_400_not_a_500(api):
    assert api.post(CHECK, {}, format="json").status_code == 400
    assert api.post(CHECK, {"domains": "a.cn"}, format="json").status_code == 400
    assert api.post(CHECK, {"domains": []}, format="json").status_code == 400


def test_bad_items_of_a_batch_are_named_by_their_places_with_the_rest_unchanged(api):
    approved_filing(domains=["batch.cn"])
    broken = json.dumps({"domains": ["batch.cn", "a\u0000b.cn", "\ud83d.cn"]})
    answer = api.post(CHECK, broken, content_type="application/json")
    assert answer.status_code == 400
    assert [bool(e) for e in answer.json()["domains"]] == [False, True, True]
    bad = api.post(CHECK, {"domains": ["batch.cn", "x" * 301, None, {}]}, format="json")
    assert bad.status_code == 400
    errors = bad.json()["domains"]
    assert set(errors) == {"1", "2", "3"}
    assert "300" in errors["1"][0]
    # Untrimmed, numbers as text, Unicode domains: as DRF's own list of strings keeps them.
    good = api.post(CHECK, {"domains": [" batch.cn ", 7, "例子.中国"]}, format="json")
    assert good.status_code == 200
    assert [a["domain"] for a in good.json()["results"]] == [" batch.cn ", "7", "例子.中国"]
    assert good.json()["results"][0]["filed"] is True


def test_only_provider_staff_may_ask():
    owner = UserFactory()
    client = APIClient()
    client.force_authenticate(owner)
    assert client.get(one("a.cn")).status_code == 403
    assert APIClient().get(one("a.cn")).status_code in (401, 403)


def test_staff_of_a_deactivated_provider_may_not_ask(staff, api):
    staff.provider.is_active = False
    staff.provider.save()
    assert api.get(one("a.cn")).status_code == 403


def test_a_revoked_token_no_longer_works(staff):
    token, key = api_token_issue(user=staff, name="old")
    api_token_revoke(token=token, by=staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(one("a.cn")).status_code == 401


def test_a_deactivated_staff_account_may_not_ask_with_its_token(staff, api):
    assert api.get(one("a.cn")).status_code == 200
    staff.is_active = False
    staff.save()
    assert api.get(one("a.cn")).status_code == 401
    assert User.objects.get(pk=staff.pk).is_active is False


def test_an_unknown_key_is_refused_without_a_server_error():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.PREFIX}not-a-real-key")
    assert client.get(one("a.cn")).status_code == 401


def test_the_token_comes_with_its_whole_account_and_provider(staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from providers.authentication import live_token
    from providers.services import hash_key

    _token, key = api_token_issue(user=staff, name="full")
    token = live_token(hash_key(key))
    with CaptureQueriesContext(connection) as queries:
        assert token.user.email == staff.email
        assert token.user.mobile == staff.mobile
        assert token.user.provider.name == staff.provider.name
    assert len(queries) == 0


def test_a_token_records_when_it_was_last_used(staff, api):
    assert ApiToken.objects.get().last_used_at is None
    api.get(one("a.cn"))
    assert ApiToken.objects.get().last_used_at is not None


def test_the_sign_in_api_token_works_too(staff):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(one("a.cn")).status_code == 200


def test_the_rate_limit_applies_per_token(settings, staff):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK}
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "gating": "3/min"}
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    try:
        clients = []
        for name in ("first", "second"):
            _token, key = api_token_issue(user=staff, name=name)
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
            clients.append(client)
        first, second = clients
        assert [first.get(one("a.cn")).status_code for _ in range(4)] == [200, 200, 200, 429]
        assert second.get(one("a.cn")).status_code == 200
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original


def test_a_browser_session_of_provider_staff_may_ask(client, staff):
    client.force_login(staff)
    assert client.get(one("a.cn")).status_code == 200
    assert reverse("api-provider-domain", args=["a.cn"]) == one("a.cn")


def test_tokens_are_for_provider_staff_only():
    from django.core.exceptions import PermissionDenied

    owner = UserFactory(role=User.Role.OWNER)
    with pytest.raises(PermissionDenied):
        api_token_issue(user=owner, name="x")


@pytest.mark.parametrize(
    "asked",
    ["http%3A%2F%2Fgated-url.cn%2Fp", "https%3A%2F%2Fwww.gated-url.cn%3A443%2Fa%2Fb%3Fq%3D1"],
)
def test_a_url_asked_about_one_by_one_is_looked_up_by_its_host(api, asked):
    approved_filing(domains=["gated-url.cn"])

    response = api.get(one(asked))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["filed"] is True


@pytest.mark.parametrize("path", ["/api/v1/provider/nothing-here/", "/api/v1/provider/domains/"])
def test_an_unknown_api_address_answers_json_not_a_page(api, path):
    response = api.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"] == "未找到。"
