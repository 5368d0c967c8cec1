"""``/api/docs/`` (issue 14 §5): every call has a summary line and examples of its request and
answer in the SPEC §10 shapes, and the webhook notice and its signature are documented."""

import json

import pytest

from tests.filings_support import FILING_KEYS, WEBSITE_KEYS

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return json.loads(response.content)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def test_every_call_has_a_summary_line(schema):
    missing = [f"{m.upper()} {p}" for m, p, op in operations(schema) if not op.get("summary")]
    assert missing == []


def test_every_json_call_has_an_example_answer_and_request(schema):
    no_answer, no_request = [], []
    for method, path, operation in operations(schema):
        answers = [
            media
            for response in operation["responses"].values()
            for kind, media in (response.get("content") or {}).items()
            if kind == "application/json"
        ]
        if answers and not any("examples" in media for media in answers):
            no_answer.append(f"{method.upper()} {path}")
        body = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
        if body is not None and "examples" not in body:
            no_request.append(f"{method.upper()} {path}")
    assert no_answer == [] and no_request == []


def test_the_examples_are_in_the_contract_shapes_with_chinese_data(schema):
    submit = schema["paths"]["/api/v1/filings/{id}/submit/"]["post"]
    filing = submit["responses"]["200"]["content"]["application/json"]["examples"]["example"][
        "value"
    ]
    assert set(filing) == FILING_KEYS
    assert set(filing["websites"][0]) == WEBSITE_KEYS
    assert filing["sponsor"]["name"].endswith("有限公司")
    queue = schema["paths"]["/api/v1/review/queue/"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["examples"]["example"]["value"]
    assert queue["results"][0]["kind"] == "new" and set(queue["results"][0]) >= FILING_KEYS


def test_the_example_filing_passes_the_filing_validation():
    from beian.api_docs import FILING_DATA
    from filings.validation import coerce_data, validate_filing_data

    data = json.loads(json.dumps(FILING_DATA))
    data["websites"][0]["access_provider"] = "other"
    data["websites"][0]["accesses"][0]["provider"] = "other"
    data["apps"][0]["accesses"][0]["provider"] = "other"
    errors = validate_filing_data(coerce_data(data), filing=None)[1]
    assert errors == {}


def test_the_webhook_notice_and_its_signature_are_documented(schema):
    notice = schema["components"]["schemas"]["WebhookNotice"]
    assert set(notice["properties"]) == {"id", "event", "occurred_at", "filing"}
    assert notice["example"]["event"] == "approved"
    description = schema["info"]["description"]
    for header in ("X-Beian-Signature", "X-Beian-Timestamp", "X-Beian-Delivery", "HMAC-SHA256"):
        assert header in description


def test_the_documented_signature_is_the_one_the_portal_checks():
    import hashlib
    import hmac
    import re

    import time_machine

    from beian.api_docs import DESCRIPTION
    from providers.webhooks import verify

    body = json.dumps({"id": "x", "event": "approved"}, ensure_ascii=False).encode()
    timestamp = "1800000000"
    signature = hmac.new(b"whsec_demo", f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"X-Beian-Timestamp": timestamp, "X-Beian-Signature": signature}
    documented: dict = {}
    exec(re.search(r"```python\n(.*?)```", DESCRIPTION, re.S).group(1), documented)
    with time_machine.travel(1800000010, tick=False):
        assert documented["verify"]("whsec_demo", headers, body)
        assert not documented["verify"]("whsec_other", headers, body)
    assert verify(
        secret="whsec_demo", timestamp=timestamp, signature=signature, body=body, now=1800000010
    )


def test_the_docs_page_is_served(client):
    assert client.get("/api/docs/").status_code == 200


def test_the_schema_says_a_website_id_is_null_until_its_filing_is_submitted(schema):
    website = schema["components"]["schemas"]["WebsiteSchema"]["properties"]["id"]
    assert website["type"] == "integer" and website["nullable"] is True
    assert "null for a website not submitted yet" in website["description"]

    def example(path: str, method: str, status: str) -> dict:
        answer = schema["paths"][path][method]["responses"][status]["content"]
        return answer["application/json"]["examples"]["example"]["value"]

    draft = example("/api/v1/filings/", "post", "201")
    assert draft["status"] == "draft" and draft["websites"][0]["id"] is None
    submitted = example("/api/v1/filings/{id}/submit/", "post", "200")
    assert isinstance(submitted["websites"][0]["id"], int)
