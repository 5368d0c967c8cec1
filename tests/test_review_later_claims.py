"""Q17 as the issue tells it: owner A submits a.cn, owner B submits a.cn later. The conflict is
B's; A's reviewer sees B's claim as a notice and can approve A. If A was the squatter after
all, the bureau revokes A, re-checks B and approves B."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import api_token_issue
from filings.models import Filing
from tests.review_support import beijing_reviewer, filing_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def owner_api(owner):
    client = APIClient()
    client.force_authenticate(owner)
    return client


def staff_api(user):
    client = APIClient()
    token = api_token_issue(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def submit_through_the_api(owner, **data) -> int:
    client = owner_api(owner)
    pk = client.post("/api/v1/filings/", {}, format="json").json()["id"]
    assert (
        client.put(f"/api/v1/filings/{pk}/", filing_data(**data), format="json").status_code == 200
    )
    response = client.post(f"/api/v1/filings/{pk}/submit/")
    assert response.status_code == 200, response.content
    return pk


def two_owners_claim_a_cn():
    from tests.factories import UserFactory

    a, b = UserFactory(), UserFactory()
    first = submit_through_the_api(
        a, name="甲方科技有限公司", domains=["a.cn"], mobile="13711110001", email="a@example.cn"
    )
    second = submit_through_the_api(
        b,
        name="乙方科技有限公司",
        domains=["a.cn"],
        homepage="http://shop.a.cn/",
        mobile="13722220002",
        email="b@example.cn",
    )
    return first, second


def test_through_the_api_the_first_filer_is_approved_and_the_later_claim_settled_as_q17_says():
    first, second = two_owners_claim_a_cn()
    staff = staff_api(beijing_reviewer())

    # The earlier filing carries no conflict of its own; the later one holds it.
    assert staff.get(f"/api/v1/review/filings/{first}/").json()["conflicts"] == []
    later = staff.get(f"/api/v1/review/filings/{second}/").json()
    assert later["conflicts"] == [{"field": "domain", "value": "a.cn", "other_filing": first}]

    approve = staff.post(
        f"/api/v1/review/filings/{first}/decision/", {"action": "approve"}, format="json"
    )
    assert approve.status_code == 200, approve.content
    assert approve.json()["status"] == "approved"
    refused = staff.post(
        f"/api/v1/review/filings/{second}/decision/", {"action": "approve"}, format="json"
    )
    assert refused.status_code == 400

    # A turns out to be the squatter: revoke A, re-check B, approve B.
    revoke = staff.post(
        f"/api/v1/review/filings/{first}/revoke/", {"reason": "恶意抢注 a.cn"}, format="json"
    )
    assert revoke.json()["status"] == "revoked"
    recheck = staff.post(f"/api/v1/review/filings/{second}/recheck/")
    assert recheck.json()["conflicts"] == []
    approve = staff.post(
        f"/api/v1/review/filings/{second}/decision/", {"action": "approve"}, format="json"
    )
    assert approve.status_code == 200, approve.content
    assert approve.json()["status"] == "approved"


def test_on_the_console_the_first_filers_reviewer_sees_the_later_claim_and_approves(otp_client):
    first, second = two_owners_claim_a_cn()
    console = otp_client(beijing_reviewer())

    page = console.get(reverse("review:detail", args=[first]))
    text = page.content.decode()
    # A notice naming who claimed what and how to reach them, and no block on the decision.
    assert [c.other.pk for c in page.context["later_claims"]] == [second]
    assert page.context["open_conflicts"] == []
    assert "乙方科技有限公司" in text and "13722220002" in text and "b@example.cn" in text
    assert reverse("review:approve", args=[first]) in text

    approved = console.post(reverse("review:approve", args=[first]), follow=True)
    assert approved.status_code == 200
    assert Filing.objects.get(pk=first).status == "approved"

    # The later filing's page keeps the conflict and offers to revoke the first one.
    later_page = console.get(reverse("review:detail", args=[second]))
    assert [c.other.pk for c in later_page.context["open_conflicts"]] == [first]
    assert reverse("review:approve", args=[second]) not in later_page.content.decode()

    console.post(
        reverse("review:revoke", args=[first]),
        {"revoke-reason": "恶意抢注 a.cn", "revoke-confirmed": "on"},
    )
    assert Filing.objects.get(pk=first).status == "revoked"
    console.post(reverse("review:recheck", args=[second]))
    console.post(reverse("review:approve", args=[second]))
    assert Filing.objects.get(pk=second).status == "approved"


def test_the_earlier_owner_is_not_shown_the_later_claimants_details():
    first, second = two_owners_claim_a_cn()
    owner = Filing.objects.get(pk=first).owner

    body = owner_api(owner).get(f"/api/v1/filings/{first}/").json()

    assert body["conflicts"] == []
    assert "13722220002" not in str(body)
    client = Client()
    client.force_login(owner)
    tasks = client.get(reverse("filings:task_list")).content.decode()
    assert "乙方科技有限公司" not in tasks and "13722220002" not in tasks
    assert 'id="conflicts-title"' not in tasks
