"""Every change to a filing record is an application (SPEC §12): its kind, the filing's status
while it is open, the provider that first-reviews it, who submitted it and when; one open at a
time; closed by the bureau's decision or the owner's withdrawal; shown as the filing JSON's
``application``."""

import importlib
import types

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from beian.audit import audit
from beian.models import AuditLog
from filings.models import Application, Filing
from filings.serializers import filing_as_json
from filings.services import (
    FilingError,
    filing_apply_revocation,
    filing_save_data,
    filing_submit,
    filing_withdraw,
)
from providers import import_jobs
from review.services import (
    filing_approve,
    filing_reject,
    filing_revoke,
    revocation_approve,
    revocation_refuse,
)
from tests import filings_support as fs
from tests.factories import (
    AccessProviderFactory,
    FilingFactory,
    MinistryFactory,
    UserFactory,
    WebsiteFactory,
)
from tests.providers_support import provider_staff
from tests.test_import_batch import chunk_queries
from tests.test_providers_imports import row
from tests.test_review_api import api as staff_api

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

APPLICATION_KEYS = {
    "kind",
    "status",
    "provider",
    "submitted_at",
    "verification_expires_at",
    "returns",
}


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


def submitted(*, provider=None, domain="example.cn", owner=None):
    owner = owner or UserFactory()
    website = fs.website(
        homepage=f"http://www.{domain}/",
        domains=[domain],
        access_provider=provider.pk if provider else "other",
    )
    sponsor = {"name": f"{domain} 的主办单位"}
    return fs.submitted_filing(owner, fs.data(sponsor=sponsor, websites=[website]))


def approved(**kwargs):
    return fs.approve(fs.to_bureau(submitted(**kwargs)))


def amend(filing, *, websites):
    data = filing_as_json(filing)
    data["websites"] = websites
    filing_save_data(filing=filing, by=filing.owner, data=data)
    return filing_submit(filing=filing, by=filing.owner)


def owner_api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def the_application(filing) -> Application:
    return Application.objects.get(filing=filing, closed_at__isnull=True)


# Each kind is opened by its action ----------------------------------------------------------


def test_a_first_submission_opens_a_new_application_first_reviewed_by_the_named_provider():
    provider = AccessProviderFactory()
    filing = submitted(provider=provider)

    application = the_application(filing)
    assert (application.kind, application.status) == ("new", "provider_review")
    assert application.provider == provider
    assert application.submitted_by == filing.owner
    assert application.submitted_at == filing.submitted_at
    # It reaches the bureau, and its deadline starts, once the provider passes it on.
    assert application.reached_bureau_at is None and filing.review_deadline is None
    assert application.provider_deadline is not None
    assert application.verification_expires_at is None
    assert application.returns == []
    assert (application.closed_at, application.outcome, application.decided_by) == (None, "", None)
    entry = AuditLog.objects.get(action="filing.submit", target_id=str(filing.pk))
    assert entry.after["application"] == application.pk


def test_an_application_whose_accesses_are_all_other_has_no_provider():
    filing = submitted()

    assert the_application(filing).provider is None


def test_submitting_again_before_the_decision_updates_the_open_application():
    provider = AccessProviderFactory()
    filing = submitted()
    first = the_application(filing)

    website = fs.website(access_provider=provider.pk)
    filing_save_data(filing=filing, by=filing.owner, data=fs.data(websites=[website]))
    filing = filing_submit(filing=filing, by=filing.owner)

    again = the_application(filing)
    assert again.pk == first.pk
    assert Application.objects.filter(filing=filing).count() == 1
    assert again.provider == provider
    assert again.submitted_at == filing.submitted_at > first.submitted_at


def test_an_amendment_goes_to_the_provider_of_the_access_it_changes():
    kept, added = AccessProviderFactory(), AccessProviderFactory()
    filing = approved(provider=kept, domain="kept.cn")
    websites = filing_as_json(filing)["websites"]
    new_site = fs.website(
        name="新网站",
        homepage="http://www.added.cn/",
        domains=["added.cn"],
        access_provider=added.pk,
    )

    filing = amend(filing, websites=[*websites, new_site])

    application = the_application(filing)
    assert (application.kind, application.status) == ("amendment", "provider_review")
    assert application.provider == added
    history = Application.objects.filter(filing=filing).order_by("id")
    assert [(a.kind, a.outcome) for a in history] == [("new", "approved"), ("amendment", "")]


def test_an_amendment_changing_no_access_goes_to_the_provider_serving_the_record():
    provider = AccessProviderFactory()
    filing = approved(provider=provider, domain="same.cn")
    websites = filing_as_json(filing)["websites"]
    websites[0]["name"] = "改名后的网站"

    filing = amend(filing, websites=websites)

    assert the_application(filing).provider == provider


def test_an_application_for_revocation_opens_a_revocation_application():
    filing = approved(provider=AccessProviderFactory())

    filing = filing_apply_revocation(filing=filing, by=filing.owner, reason="网站已关闭")

    application = the_application(filing)
    assert (application.kind, application.status) == ("revocation", "revocation_pending")
    assert application.provider is None
    assert application.submitted_by == filing.owner
    entry = AuditLog.objects.get(action="filing.revocation_apply", target_id=str(filing.pk))
    assert entry.after["application"] == application.pk


# One open at a time ---------------------------------------------------------------------------


def test_a_second_application_is_refused_by_the_service():
    filing = approved(domain="kept.cn")
    amend(filing, websites=filing_as_json(filing)["websites"][:1] + [fs.website()])

    with pytest.raises(FilingError) as refused:
        filing_apply_revocation(filing=filing, by=filing.owner, reason="网站已关闭")

    assert refused.value.code == "application_open"
    assert Application.objects.filter(filing=filing, closed_at__isnull=True).count() == 1


def test_a_second_application_is_refused_by_the_api():
    filing = approved(domain="kept.cn")
    filing_apply_revocation(filing=filing, by=filing.owner, reason="网站已关闭")

    response = owner_api(filing.owner).post(
        f"/api/v1/filings/{filing.pk}/revocation/", {"reason": "再次申请"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "application_open"
    # The first filing's, closed, and the application for revocation, open.
    assert Application.objects.filter(filing=filing).count() == 2


def test_the_database_holds_one_open_application_per_filing():
    filing = submitted()

    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.create(
            filing=filing,
            kind="revocation",
            status="revocation_pending",
            submitted_at=timezone.now(),
        )


# Closing: the bureau's decision, the owner's withdrawal ---------------------------------------


def test_approval_closes_the_application_as_approved_by_the_reviewer():
    filing = submitted()
    reviewer = MinistryFactory()

    filing = filing_approve(filing=filing, by=reviewer)

    application = Application.objects.get(filing=filing)
    assert application.outcome == "approved" and application.decided_by == reviewer
    assert application.closed_at is not None and application.status == "pending_review"
    assert filing_as_json(filing)["application"] is None
    entry = AuditLog.objects.get(action="filing.approve", target_id=str(filing.pk))
    assert entry.after["application"] == application.pk


def test_rejection_closes_the_application_as_rejected():
    filing = submitted()
    reviewer = MinistryFactory()

    filing_reject(filing=filing, by=reviewer, reason="材料不全")

    application = Application.objects.get(filing=filing)
    assert (application.outcome, application.decided_by) == ("rejected", reviewer)
    assert application.closed_at is not None


def test_a_rejected_filing_submitted_again_opens_a_new_application():
    filing = submitted()
    filing_reject(filing=filing, by=MinistryFactory(), reason="材料不全")

    filing_save_data(filing=filing, by=filing.owner, data=fs.data())
    filing_submit(filing=filing, by=filing.owner)

    history = Application.objects.filter(filing=filing).order_by("id")
    assert [(a.kind, a.outcome) for a in history] == [("new", "rejected"), ("new", "")]


def test_withdrawal_closes_the_application_as_withdrawn_by_the_owner():
    filing = approved(domain="kept.cn")
    amend(filing, websites=filing_as_json(filing)["websites"] + [fs.website()])

    filing_withdraw(filing=filing, by=filing.owner)

    application = Application.objects.get(filing=filing, kind="amendment")
    assert (application.outcome, application.decided_by) == ("withdrawn", filing.owner)
    assert not Application.objects.filter(filing=filing, closed_at__isnull=True).exists()


@pytest.mark.parametrize(("decide", "outcome"), [("grant", "approved"), ("refuse", "rejected")])
def test_the_decision_on_an_application_for_revocation_closes_it(decide, outcome):
    filing = approved()
    filing_apply_revocation(filing=filing, by=filing.owner, reason="网站已关闭")
    reviewer = MinistryFactory()

    if decide == "grant":
        revocation_approve(filing=filing, by=reviewer)
    else:
        revocation_refuse(filing=filing, by=reviewer, reason="仍有网站在运营")

    application = Application.objects.get(filing=filing, kind="revocation")
    assert (application.outcome, application.decided_by) == (outcome, reviewer)


# The JSON -------------------------------------------------------------------------------------


def test_the_owner_api_shows_the_open_application_and_null_without_one():
    provider = AccessProviderFactory()
    filing = submitted(provider=provider)
    client = owner_api(filing.owner)

    body = client.get(f"/api/v1/filings/{filing.pk}/").json()

    application = body["application"]
    assert set(application) == APPLICATION_KEYS
    assert application["kind"] == "new" and application["status"] == "provider_review"
    assert application["provider"] == provider.pk
    assert parse_datetime(application["submitted_at"]) == filing.submitted_at
    assert application["verification_expires_at"] is None and application["returns"] == []

    draft = FilingFactory()
    assert owner_api(draft.owner).get(f"/api/v1/filings/{draft.pk}/").json()["application"] is None


def test_the_review_api_shows_the_application_on_the_queue_and_the_filing():
    filing = submitted()
    client = staff_api(MinistryFactory())

    (item,) = client.get("/api/v1/review/queue/").json()["results"]
    one = client.get(f"/api/v1/review/filings/{filing.pk}/").json()

    assert item["application"] == one["application"] == filing_as_json(filing)["application"]
    assert item["application"]["kind"] == "new"


def test_the_provider_import_answers_each_filing_with_its_application():
    staff = provider_staff()
    client = APIClient()
    client.force_authenticate(staff)

    response = client.post("/api/v1/provider/imports/", {"rows": [row(1)]}, format="json")

    application = response.json()["results"][0]["filing"]["application"]
    assert application["kind"] == "new" and application["provider"] == staff.provider.pk


# The provider import --------------------------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite splits a bulk insert into batches by its limit on query parameters",
)
def test_an_import_chunk_opens_every_row_an_application_in_constant_queries():
    staff = provider_staff()

    small = chunk_queries(staff, 5, first=1)
    large = chunk_queries(staff, 40, first=100)

    assert large == small
    filings = Filing.objects.filter(filed_by_provider=staff.provider)
    assert filings.count() == 45
    opened = Application.objects.filter(filing__in=filings, closed_at__isnull=True)
    assert opened.count() == 45
    assert set(opened.values_list("kind", "status", "provider_id", "submitted_by_id")) == {
        ("new", "pending_review", staff.provider.pk, staff.pk)
    }


def test_the_one_row_import_path_opens_the_application_too():
    staff = provider_staff()

    (result,) = import_jobs.import_rows(provider=staff.provider, by=staff, rows=[row(7)])

    assert the_application(result.filing).submitted_by == staff


# Pages ------------------------------------------------------------------------------------------


def test_the_owners_page_and_the_bureaus_detail_name_the_kind(otp_client, english):
    filing = approved()
    filing_apply_revocation(filing=filing, by=filing.owner, reason="网站已关闭")
    owner = Client()
    owner.force_login(filing.owner)

    mine = owner.get(reverse("filings:task_list")).content.decode()
    detail = otp_client(MinistryFactory()).get(reverse("review:detail", args=[filing.pk]))

    assert 'data-application="revocation"' in mine
    assert 'data-application="revocation"' in detail.content.decode()


def test_the_kinds_read_in_chinese():
    from django.utils import translation

    with translation.override("zh-hans"):
        labels = [str(label) for label in Application.Kind.labels]

    assert labels == ["新增备案", "变更备案", "注销主体", "新增接入", "取消接入", "注销网站"]


# The data migration ---------------------------------------------------------------------------


def _migration():
    return importlib.import_module("filings.migrations.0009_open_applications")


def _run(function):
    function(apps, types.SimpleNamespace(connection=connection))


def test_the_data_migration_opens_an_application_for_every_filing_waiting_for_the_bureau(
    monkeypatch,
):
    migration = _migration()
    monkeypatch.setattr(migration, "BATCH_IDS", 2)  # several batches
    provider = AccessProviderFactory()
    submitter = UserFactory()
    at = timezone.now() - timezone.timedelta(days=3)
    new = FilingFactory(status="pending_review", submitted_at=at, submitted_by=submitter)
    WebsiteFactory(filing=new, access_provider_other=True, position=0)
    WebsiteFactory(filing=new, access_provider=provider, access_provider_other=False, position=1)
    amendment = FilingFactory(status="amendment_pending", submitted_at=at, submitted_by=submitter)
    WebsiteFactory(filing=amendment)
    revocation = FilingFactory(status="revocation_pending", submitted_at=at)
    applied = audit(actor=revocation.owner, action="filing.revocation_apply", target=revocation)
    untouched = [FilingFactory(status=s) for s in ("draft", "approved", "rejected", "revoked")]

    _run(migration.open_applications)
    _run(migration.open_applications)  # again, after an interruption: nothing twice

    opened = {a.filing_id: a for a in Application.objects.filter(closed_at__isnull=True)}
    assert set(opened) == {new.pk, amendment.pk, revocation.pk}
    assert not any(f.pk in opened for f in untouched)
    first = opened[new.pk]
    assert (first.kind, first.status, first.provider_id) == ("new", "pending_review", provider.pk)
    assert (first.submitted_at, first.reached_bureau_at, first.submitted_by) == (at, at, submitter)
    assert (first.returns, first.verification_expires_at) == ([], None)
    second = opened[amendment.pk]
    assert (second.kind, second.status, second.provider_id) == (
        "amendment",
        "amendment_pending",
        None,
    )
    third = opened[revocation.pk]
    assert (third.kind, third.status) == ("revocation", "revocation_pending")
    assert (third.submitted_at, third.submitted_by) == (applied.created_at, revocation.owner)
    assert third.submitted_at != at
    assert filing_as_json(new)["application"]["kind"] == "new"

    _run(migration.remove_applications)
    assert not Application.objects.exists()


def test_revoking_on_the_bureaus_own_motion_closes_an_open_amendment_as_rejected():
    filing = approved(domain="kept.cn")
    amend(filing, websites=filing_as_json(filing)["websites"] + [fs.website()])
    reviewer = MinistryFactory()

    filing_revoke(filing=filing, by=reviewer, reason="冒用他人信息")

    application = Application.objects.get(filing=filing, kind="amendment")
    assert (application.outcome, application.decided_by) == ("rejected", reviewer)
    assert filing_as_json(filing)["application"] is None
