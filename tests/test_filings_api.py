"""The owner's filing API [contract, SPEC §10]: /api/v1/filings/…"""

import pytest
from rest_framework.test import APIClient

from tests import filings_support as fs
from tests.factories import AccessProviderFactory, UserFactory
from tests.filings_support import FILING_KEYS, WEBSITE_KEYS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


def api(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_a_complete_filing_through_the_api():
    owner = UserFactory()
    provider = AccessProviderFactory(name="示例云计算有限公司")
    client = api(owner)

    created = client.post("/api/v1/filings/", {}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert set(body) == FILING_KEYS
    assert (body["status"], body["number"], body["review_deadline"]) == ("draft", None, None)
    pk = body["id"]

    document = client.post(
        f"/api/v1/filings/{pk}/documents/",
        {"file": fs.upload(fs.PDF_BYTES, "news.pdf")},
        format="multipart",
    )
    assert document.status_code == 201
    news = {
        "category": "news",
        "authority": "北京市委网信办",
        "document_number": "京网信[2026]12号",
        "document": document.json()["id"],
    }
    payload = fs.data(
        websites=[
            fs.website(services=["news"], preapprovals=[news], access_provider=provider.pk),
            fs.website(
                name="海外站",
                domains=["example-abroad.com"],
                homepage="https://example-abroad.com/",
                server_location="other",
                access_provider="other",
            ),
        ]
    )
    saved = client.put(f"/api/v1/filings/{pk}/", payload, format="json")
    assert saved.status_code == 200, saved.json()
    assert saved.json()["websites"][1]["server_location"] == "other"

    submitted = client.post(f"/api/v1/filings/{pk}/submit/")
    assert submitted.status_code == 200, submitted.json()
    body = submitted.json()
    # The provider named first-reviews it; the bureau's deadline starts on arrival (SPEC §12).
    assert body["status"] == "provider_review" == body["application"]["status"]
    assert body["review_deadline"] is None
    assert body["application"]["provider"] == provider.pk
    assert [set(w) for w in body["websites"]] == [WEBSITE_KEYS, WEBSITE_KEYS]
    assert body["websites"][0]["preapprovals"] == [news]
    assert body["websites"][0]["access_provider"] == provider.pk
    assert body["websites"][1]["access_provider"] == "other"

    listed = client.get("/api/v1/filings/").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == pk


def test_submission_answers_400_with_every_problem_in_the_nested_field_shape():
    owner = UserFactory()
    client = api(owner)
    payload = fs.data(
        sponsor={"principal": {**fs.SPONSOR["principal"], "id_number": "110105194912310021"}},
        websites=[fs.website(), fs.website(domains=["github.io"], commercial=True)],
    )
    pk = client.post("/api/v1/filings/", payload, format="json").json()["id"]
    answer = client.post(f"/api/v1/filings/{pk}/submit/")
    assert answer.status_code == 400
    errors = answer.json()
    assert list(errors["sponsor"]["principal"]) == ["id_number"]
    assert errors["websites"][0] == {}
    # The homepage's host is not among the domains typed either: reported in the same answer.
    assert set(errors["websites"][1]) == {"domains", "homepage", "commercial"}


def test_the_error_messages_follow_the_language_asked_for():
    owner = UserFactory()
    client = api(owner)
    payload = fs.data(sponsor={"id_number": "91350100M000100Y44"})
    pk = client.post("/api/v1/filings/", payload, format="json").json()["id"]
    english = client.post(f"/api/v1/filings/{pk}/submit/", HTTP_ACCEPT_LANGUAGE="en")
    assert "check character" in english.json()["sponsor"]["id_number"][0]


def test_patch_merges_sponsor_keys_and_keeps_the_rest():
    owner = UserFactory()
    client = api(owner)
    pk = client.post("/api/v1/filings/", fs.data(), format="json").json()["id"]
    answer = client.patch(
        f"/api/v1/filings/{pk}/", {"sponsor": {"address": "北京市东城区1号"}}, format="json"
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["sponsor"]["address"] == "北京市东城区1号"
    assert body["sponsor"]["name"] == fs.SPONSOR["name"]
    assert len(body["websites"]) == 1


def test_malformed_json_is_a_400_not_a_500():
    client = api(UserFactory())
    pk = client.post("/api/v1/filings/", {}, format="json").json()["id"]
    for body in ({"websites": {"a": 1}}, {"sponsor": "x"}, {"websites": [{"domains": 5}]}):
        assert client.put(f"/api/v1/filings/{pk}/", body, format="json").status_code == 400
    assert client.put(f"/api/v1/filings/{pk}/", [1, 2], format="json").status_code == 400
    assert client.post(
        f"/api/v1/filings/{pk}/revocation/", {"reason": 5}, format="json"
    ).status_code in (400, 409)


def test_another_owners_filing_is_not_found():
    owner = UserFactory()
    pk = api(owner).post("/api/v1/filings/", fs.data(), format="json").json()["id"]
    stranger = api(UserFactory())
    assert stranger.get(f"/api/v1/filings/{pk}/").status_code == 404
    assert stranger.put(f"/api/v1/filings/{pk}/", fs.data(), format="json").status_code == 404
    assert stranger.post(f"/api/v1/filings/{pk}/submit/").status_code == 404
    assert (
        stranger.post(
            f"/api/v1/filings/{pk}/documents/",
            {"file": fs.upload(fs.PDF_BYTES)},
            format="multipart",
        ).status_code
        == 404
    )
    assert stranger.get("/api/v1/filings/").json()["count"] == 0


def test_a_second_filing_for_the_same_account_is_refused():
    client = api(UserFactory())
    assert client.post("/api/v1/filings/", {}, format="json").status_code == 201
    answer = client.post("/api/v1/filings/", {}, format="json")
    assert answer.status_code == 409
    assert answer.json()["code"] == "exists"


def test_an_illegal_transition_is_refused_with_a_clear_message():
    owner = UserFactory()
    client = api(owner)
    pk = client.post("/api/v1/filings/", fs.data(), format="json").json()["id"]
    answer = client.post(f"/api/v1/filings/{pk}/revocation/", {"reason": "网站关闭"}, format="json")
    assert answer.status_code == 409
    assert "approved" in answer.json()["detail"] or "审核通过" in answer.json()["detail"]


def test_revocation_through_the_api():
    owner = UserFactory()
    filing = fs.approve(fs.submitted_filing(owner))
    answer = api(owner).post(
        f"/api/v1/filings/{filing.pk}/revocation/", {"reason": "网站已关闭"}, format="json"
    )
    assert answer.status_code == 200
    assert answer.json()["status"] == "revocation_pending"


def test_a_disguised_upload_is_refused_on_the_file_field():
    client = api(UserFactory())
    pk = client.post("/api/v1/filings/", {}, format="json").json()["id"]
    answer = client.post(
        f"/api/v1/filings/{pk}/documents/",
        {"file": fs.upload(b"#!/bin/sh\nrm -rf /\n", "approval.png")},
        format="multipart",
    )
    assert answer.status_code == 400
    assert "file" in answer.json()


def test_only_verified_owners_use_the_filing_api():
    assert api().get("/api/v1/filings/").status_code in (401, 403)
    assert api(UserFactory(email_verified_at=None)).get("/api/v1/filings/").status_code == 403
    from tests.factories import BureauFactory

    assert api(BureauFactory()).get("/api/v1/filings/").status_code == 403
