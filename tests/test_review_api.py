"""The review API (SPEC §10): OTP-verified staff, their own province only (404 otherwise)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.services import api_token_issue
from filings.models import Filing
from tests.factories import MinistryFactory, UserFactory
from tests.review_support import approved, beijing_reviewer, overdue, shanghai_reviewer, submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

QUEUE = "/api/v1/review/queue/"


def api(user):
    """A client with the staff token (issued only with a valid OTP, so it counts as verified)."""
    client = APIClient()
    token = api_token_issue(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def filing_calls(pk):
    return [
        ("get", f"/api/v1/review/filings/{pk}/", None),
        ("post", f"/api/v1/review/filings/{pk}/decision/", {"action": "approve"}),
        ("post", f"/api/v1/review/filings/{pk}/decision/", {"action": "reject", "reason": "x"}),
        ("post", f"/api/v1/review/filings/{pk}/recheck/", None),
        ("post", f"/api/v1/review/filings/{pk}/revoke/", {"reason": "抢注"}),
    ]


def test_the_queue_answers_open_items_by_deadline_with_kind_in_the_filing_shape():
    later = submit(domains=["api-later.cn"])
    late = overdue(submit(domains=["api-late.cn"]))
    approved(domains=["api-done.cn"])

    response = api(beijing_reviewer()).get(QUEUE)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [late.pk, later.pk]
    item = body["results"][1]
    assert item["kind"] == "new"
    assert item["status"] == "pending_review"
    assert item["review_deadline"] == later.review_deadline.isoformat()
    assert item["sponsor"]["province"] == "11"
    assert item["websites"][0]["domains"] == ["api-later.cn"]
    assert item["working_days_left"] == 20
    assert body["results"][0]["overdue"] is True


def test_the_queue_filters_and_rejects_an_unknown_kind():
    submit(domains=["api-k.cn"])
    client = api(beijing_reviewer())
    assert client.get(QUEUE + "?kind=amendment").json()["count"] == 0
    assert client.get(QUEUE + "?kind=new").json()["count"] == 1
    response = client.get(QUEUE + "?kind=everything")
    assert response.status_code == 400
    assert "kind" in response.json()


def test_a_bureau_queue_holds_only_its_province():
    submit(domains=["api-bj.cn"])
    shanghai = submit(domains=["api-sh.cn"], province="31")

    body = api(shanghai_reviewer()).get(QUEUE + "?status=all").json()
    assert [item["id"] for item in body["results"]] == [shanghai.pk]
    # A bureau cannot widen its scope with the ministry's province filter.
    body = api(shanghai_reviewer()).get(QUEUE + "?province=11").json()
    assert [item["id"] for item in body["results"]] == [shanghai.pk]
    assert api(MinistryFactory()).get(QUEUE).json()["count"] == 2


@pytest.mark.parametrize("index", range(5))
def test_every_filing_call_answers_404_to_another_province(index):
    filing = approved(domains=["api-iso.cn"]) if index == 4 else submit(domains=["api-iso.cn"])
    method, url, data = filing_calls(filing.pk)[index]

    response = getattr(api(shanghai_reviewer()), method)(url, data, format="json")

    assert response.status_code == 404
    before = filing.status
    filing.refresh_from_db()
    assert filing.status == before


@pytest.mark.parametrize("index", range(5))
def test_review_calls_are_for_verified_staff_only(index):
    filing = submit(domains=["api-who.cn"])
    method, url, data = filing_calls(filing.pk)[index]

    anonymous = getattr(APIClient(), method)(url, data, format="json")
    owner = getattr(api(UserFactory()), method)(url, data, format="json")
    session_without_otp = APIClient()
    session_without_otp.force_login(beijing_reviewer())
    unverified = getattr(session_without_otp, method)(url, data, format="json")

    assert anonymous.status_code in (401, 403)
    assert owner.status_code == 403
    assert unverified.status_code == 403


def test_approve_by_api_answers_the_filing_with_its_numbers():
    filing = submit(domains=["api-ok.cn"])

    response = api(beijing_reviewer()).post(
        f"/api/v1/review/filings/{filing.pk}/decision/", {"action": "approve"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "approved"
    assert body["number"].startswith("京ICP备")
    assert body["websites"][0]["number"] == body["number"] + "-1"


def test_a_refused_decision_is_a_400_with_the_message():
    approved(domains=["api-c.cn"], mobile="13966667777")
    filing = submit(domains=["api-c.cn"], homepage="http://m.api-c.cn/")
    client = api(beijing_reviewer())
    url = f"/api/v1/review/filings/{filing.pk}/decision/"

    approve = client.post(url, {"action": "approve"}, format="json")
    reject = client.post(url, {"action": "reject", "reason": "不行"}, format="json")
    bad = client.post(url, {"action": "maybe"}, format="json")

    assert approve.status_code == 400
    assert "non_field_errors" in approve.json()
    assert reject.status_code == 400
    assert "reason" in reject.json()
    assert bad.status_code == 400
    assert "action" in bad.json()

    ok = client.post(
        url,
        {"action": "reject", "reason": "域名 api-c.cn 与他人冲突，联系 13966667777"},
        format="json",
    )
    assert ok.status_code == 200
    assert ok.json()["status"] == "rejected"


def test_revoke_and_recheck_by_api():
    reviewer = beijing_reviewer()
    client = api(reviewer)
    squatter = approved(domains=["api-sq.cn"])
    rightful = submit(domains=["api-sq.cn"], homepage="http://m.api-sq.cn/")
    assert client.get(f"/api/v1/review/filings/{rightful.pk}/").json()["conflicts"]

    no_reason = client.post(f"/api/v1/review/filings/{squatter.pk}/revoke/", {}, format="json")
    revoked = client.post(
        f"/api/v1/review/filings/{squatter.pk}/revoke/", {"reason": "恶意抢注"}, format="json"
    )
    rechecked = client.post(f"/api/v1/review/filings/{rightful.pk}/recheck/", format="json")

    assert no_reason.status_code == 400
    assert revoked.json()["status"] == "revoked"
    assert rechecked.status_code == 200
    assert rechecked.json()["conflicts"] == []


def test_a_revocation_application_is_decided_through_the_decision_call():
    from filings.services import filing_apply_revocation

    filing = approved(domains=["api-rv.cn"])
    filing_apply_revocation(filing=filing, by=filing.owner, reason="停止运营")
    client = api(beijing_reviewer())
    url = f"/api/v1/review/filings/{filing.pk}/decision/"

    queue = client.get(QUEUE + "?kind=revocation").json()
    response = client.post(url, {"action": "approve"}, format="json")

    assert [item["kind"] for item in queue["results"]] == ["revocation"]
    assert response.json()["status"] == "revoked"
    assert Filing.objects.get(pk=filing.pk).owner.is_active is False


def test_the_queue_api_costs_the_same_queries_for_many_rows():
    client = api(beijing_reviewer())
    submit(domains=["q-few.cn"])
    client.get(QUEUE)
    with CaptureQueriesContext(connection) as few:
        client.get(QUEUE)
    for i in range(6):
        submit(domains=[f"q-many{i}.cn"])
    with CaptureQueriesContext(connection) as many:
        assert client.get(QUEUE).json()["count"] == 7
    assert len(many) <= len(few) + 1


def test_queue_items_are_exactly_the_filing_json_plus_the_queue_fields():
    from filings.serializers import filing_as_json

    approved(domains=["same.cn"])
    filing = submit(domains=["same.cn", "same2.cn"], homepage="http://m.same.cn/")

    item = api(beijing_reviewer()).get(QUEUE).json()["results"][0]

    extra = {"kind": "new", "working_days_left": 20, "overdue": False}
    assert item == {**filing_as_json(filing), **extra}
