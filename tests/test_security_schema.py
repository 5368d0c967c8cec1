"""The JSON API against its own OpenAPI schema (issue 9), with schemathesis.

The schema is read from ``/api/schema/`` of the WSGI application in-process, and every
operation is called with generated requests: as an owner (Token) for the owner's filing calls,
provider staff for the provider calls, the ministry (whose token counts as its second factor)
for the review calls, and anonymously for the public ones. Calls on ``{id}`` go half to
generated ids and half to the caller's real filing, so the real answers are checked too.

Two checks: no answer is a server error, and every answer whose status the schema documents
matches the schema. Bounded: a few examples per operation, fewer once the module has used most
of its time budget, never a database of examples kept between runs.
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from beian.wsgi import application

SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", application)
LABELS = sorted(result.ok().label for result in SCHEMA.get_all_operations())

# Valid requests, and requests that break the schema (bad input must never be a 500).
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
EXAMPLES = 25
EXAMPLES_LATE = 6
BUDGET_SECONDS = 60  # after this much of the module, operations get EXAMPLES_LATE examples
_started: list[float] = []


def test_the_schema_lists_every_api_call_of_the_contract():
    """SPEC §10's calls are all documented (so all of them are exercised below)."""
    for label in (
        "POST /api/v1/accounts/register/",
        "POST /api/v1/accounts/verify/",
        "POST /api/v1/accounts/resend-code/",
        "POST /api/v1/auth/token/",
        "GET /api/v1/filings/",
        "POST /api/v1/filings/",
        "GET /api/v1/filings/{id}/",
        "PUT /api/v1/filings/{id}/",
        "PATCH /api/v1/filings/{id}/",
        "POST /api/v1/filings/{id}/documents/",
        "POST /api/v1/filings/{id}/submit/",
        "POST /api/v1/filings/{id}/revocation/",
        "GET /api/v1/filings/{id}/certificate/",
        "GET /api/v1/review/queue/",
        "POST /api/v1/review/filings/{id}/decision/",
        "POST /api/v1/review/filings/{id}/recheck/",
        "POST /api/v1/review/filings/{id}/revoke/",
        "POST /api/v1/provider/imports/",
        "GET /api/v1/provider/domains/{domain}/",
        "POST /api/v1/provider/domains/check/",
        "POST /api/v1/provider/apps/check/",
    ):
        assert label in LABELS, label


def test_the_schema_generates_without_a_warning_and_validates(tmp_path):
    """drf-spectacular warns about what it had to guess (a clash of security scheme or
    operation names, an unknown field type): the schema must need no guessing."""
    from django.core.management import call_command

    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )


@pytest.fixture
def _keep_the_test_connection():
    """The WSGI handler closes the database connection after each request (it is in a
    transaction, so Django deems it obsolete); Django's own test client switches that off the
    same way, or the test's transaction would be closed under it."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def callers(_keep_the_test_connection, db, fast_password_hashing, settings, tmp_path):
    """The accounts that call, their tokens, and the filing each acts on."""
    from accounts.models import User
    from accounts.services import api_token_issue
    from tests.factories import MinistryFactory, UserFactory
    from tests.providers_support import provider_staff
    from tests.review_support import approved, submit

    settings.MEDIA_ROOT = str(tmp_path)
    owner = UserFactory(username="schema-owner")
    owner_filing = approved(owner, domains=["schema-owner.cn"])
    provider = provider_staff(username="schema-provider")
    ministry = MinistryFactory(username="schema-ministry")
    under_review = submit(domains=["schema-review.cn"])
    approved(domains=["schema-filed.cn"])
    tokens = {u.role: api_token_issue(user=u).key for u in (owner, provider, ministry)}
    return {
        "/api/v1/filings/": (tokens[User.Role.OWNER], owner_filing.pk),
        "/api/v1/provider/": (tokens[User.Role.PROVIDER], None),
        "/api/v1/review/": (tokens[User.Role.MINISTRY], under_review.pk),
    }


def _caller(path: str, callers: dict) -> tuple[str | None, int | None]:
    for prefix, (key, filing_id) in callers.items():
        if path.startswith(prefix):
            return key, filing_id
    return None, None


@pytest.mark.parametrize("label", LABELS)
def test_the_api_answers_as_its_schema_says(label, callers):
    if not _started:
        _started.append(time.monotonic())
    late = time.monotonic() - _started[0] > BUDGET_SECONDS
    operation = SCHEMA.find_operation_by_label(label)
    key, filing_id = _caller(operation.path, callers)
    headers = {"Authorization": f"Token {key}"} if key else {}
    strategies = [operation.as_strategy(mode) for mode in MODES]
    if filing_id is not None and "{id}" in operation.path:
        strategies += [
            operation.as_strategy(mode, path_parameters={"id": filing_id}) for mode in MODES
        ]

    @hypothesis_settings(
        max_examples=EXAMPLES_LATE if late else EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def run(case):
        response = case.call(app=application, headers=headers)
        case.validate_response(
            response, checks=[not_a_server_error, response_schema_conformance], headers=headers
        )

    run()
