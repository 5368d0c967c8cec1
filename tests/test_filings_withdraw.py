"""The owner withdraws an application still waiting for the bureau (SPEC §12): an amendment or
an application for revocation. The record is left as it was before; the withdrawal is audited.
And the "change" links of check-your-answers come back to it."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from beian.models import AuditLog
from filings.models import Application, Conflict, Filing, FilingDraft, PublishedDomain
from filings.serializers import filing_as_json
from filings.services import (
    FilingError,
    filing_apply_revocation,
    filing_save_data,
    filing_submit,
    filing_withdraw,
)
from tests import filings_support as fs
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def approved_filing(domains=("kept.cn",)):
    owner = UserFactory()
    website = fs.website(homepage=f"http://www.{domains[0]}/", domains=list(domains))
    sponsor = {"name": f"{domains[0]} 的主办单位"}
    return fs.approve(fs.submitted_filing(owner, fs.data(sponsor=sponsor, websites=[website])))


def amend(filing, *, domains):
    data = filing_as_json(filing)
    data["websites"][0]["domains"] = domains
    filing_save_data(filing=filing, by=filing.owner, data=data)
    return filing_submit(filing=filing, by=filing.owner)


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def page(user):
    client = Client()
    client.force_login(user)
    return client


# The service ----------------------------------------------------------------------------------


def test_withdrawing_an_amendment_leaves_the_approved_record_as_it_was():
    filing = approved_filing()
    approved = filing_as_json(filing)
    filing.refresh_from_db()
    submitted_at, deadline = filing.submitted_at, filing.review_deadline
    amend(filing, domains=["kept.cn", "added.cn"])

    withdrawn = filing_withdraw(filing=filing, by=filing.owner)

    assert withdrawn.status == Filing.Status.APPROVED
    assert filing_as_json(withdrawn) == approved
    # The time of the approved submission (as its version recorded it), and its deadline.
    assert abs((withdrawn.submitted_at - submitted_at).total_seconds()) < 1
    assert withdrawn.review_deadline == deadline
    assert set(PublishedDomain.objects.filter(filing=filing).values_list("name", flat=True)) == {
        "kept.cn"
    }
    # The withdrawn amendment stays in the history; no unsubmitted changes appear.
    versions = list(filing.versions.values_list("kind", flat=True))
    assert versions == ["submitted", "approved", "submitted"]
    assert not FilingDraft.objects.filter(filing=filing).exists()


def test_withdrawing_an_amendment_is_audited():
    filing = approved_filing()
    amend(filing, domains=["kept.cn", "audit-added.cn"])

    filing_withdraw(filing=filing, by=filing.owner)

    entry = AuditLog.objects.get(action="filing.withdraw", target_id=str(filing.pk))
    assert entry.actor == filing.owner
    assert entry.before["status"] == "amendment_pending"
    assert entry.after == {
        "status": "approved",
        "review_deadline": filing.review_deadline.isoformat(),
        "withdrawn": "amendment",
        "application": Application.objects.get(filing=filing, kind="amendment").pk,
    }


def test_a_withdrawn_amendment_takes_its_conflict_and_its_notice_with_it():
    other = approved_filing(domains=["theirs.cn"])
    filing = approved_filing(domains=["mine.cn"])
    amend(filing, domains=["mine.cn", "theirs.cn"])
    filing.refresh_from_db()
    assert filing.has_open_conflicts

    filing_withdraw(filing=filing, by=filing.owner)

    filing.refresh_from_db()
    assert not filing.has_open_conflicts
    assert not Conflict.objects.filter(resolved_at=None, filing__in=[filing, other]).exists()


def test_withdrawing_a_revocation_application_keeps_the_filing_approved():
    filing = approved_filing()
    filing.refresh_from_db()
    deadline = filing.review_deadline
    filing_apply_revocation(filing=filing, by=filing.owner, reason="网站已关闭")

    withdrawn = filing_withdraw(filing=filing, by=filing.owner)

    assert withdrawn.status == Filing.Status.APPROVED
    assert withdrawn.revocation_reason == ""
    assert withdrawn.review_deadline == deadline
    assert withdrawn.owner.is_active
    entry = AuditLog.objects.get(action="filing.withdraw", target_id=str(filing.pk))
    assert entry.after["withdrawn"] == "revocation"


def test_withdrawing_a_first_filing_at_the_bureau_leaves_a_draft_with_everything_typed():
    owner = UserFactory()
    filing = fs.submitted_filing(owner, fs.data())
    typed = filing_as_json(filing)

    withdrawn = filing_withdraw(filing=filing, by=owner)

    assert withdrawn.status == Filing.Status.DRAFT
    assert withdrawn.review_deadline is None and withdrawn.submitted_at is None
    again = filing_as_json(withdrawn)
    assert again["application"] is None
    assert again["sponsor"] == typed["sponsor"] and again["websites"] == typed["websites"]
    closed = Application.objects.get(filing=filing)
    assert closed.outcome == Application.Outcome.WITHDRAWN
    # The draft can be submitted again as it stands.
    assert filing_submit(filing=withdrawn, by=owner).status == Filing.Status.PENDING_REVIEW


@pytest.mark.parametrize("status", ["draft", "approved", "rejected", "revoked"])
def test_nothing_else_can_be_withdrawn(status):
    filing = approved_filing()
    Filing.objects.filter(pk=filing.pk).update(status=status)
    filing.refresh_from_db()

    with pytest.raises(FilingError) as refused:
        filing_withdraw(filing=filing, by=filing.owner)

    assert refused.value.code == "invalid_state"
    assert not AuditLog.objects.filter(action="filing.withdraw").exists()


def test_only_the_owner_withdraws():
    from django.core.exceptions import PermissionDenied

    filing = approved_filing()
    filing_apply_revocation(filing=filing, by=filing.owner, reason="网站已关闭")

    with pytest.raises(PermissionDenied):
        filing_withdraw(filing=filing, by=UserFactory())


# The API: POST /api/v1/filings/{id}/withdraw/ -------------------------------------------------


def test_the_api_withdraws_and_answers_the_filing():
    filing = approved_filing()
    amend(filing, domains=["kept.cn", "api-added.cn"])

    response = api(filing.owner).post(f"/api/v1/filings/{filing.pk}/withdraw/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == filing.pk
    assert body["status"] == "approved"
    assert body["websites"][0]["domains"] == ["kept.cn"]


def test_the_api_answers_409_when_there_is_nothing_to_withdraw():
    filing = approved_filing()

    response = api(filing.owner).post(f"/api/v1/filings/{filing.pk}/withdraw/")

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"


def test_the_api_answers_404_for_another_owners_filing():
    filing = approved_filing()
    filing_apply_revocation(filing=filing, by=filing.owner, reason="网站已关闭")

    response = api(UserFactory()).post(f"/api/v1/filings/{filing.pk}/withdraw/")

    assert response.status_code == 404
    filing.refresh_from_db()
    assert filing.status == Filing.Status.REVOCATION_PENDING


# The owner's pages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "apply, label",
    [
        (lambda f: amend(f, domains=["kept.cn", "page-added.cn"]), "Withdraw the amendment"),
        (
            lambda f: filing_apply_revocation(filing=f, by=f.owner, reason="网站已关闭"),
            "Withdraw the application for revocation",
        ),
    ],
)
def test_the_task_list_offers_withdrawal_which_asks_first(apply, label):
    filing = approved_filing()
    apply(filing)
    client = page(filing.owner)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    tasks = client.get(reverse("filings:task_list")).content.decode()
    assert label in tasks and reverse("filings:withdraw") in tasks

    confirm = client.get(reverse("filings:withdraw"))
    assert confirm.status_code == 200
    filing.refresh_from_db()
    assert filing.status != Filing.Status.APPROVED  # asking changes nothing

    done = client.post(reverse("filings:withdraw"), follow=True)
    filing.refresh_from_db()
    assert filing.status == Filing.Status.APPROVED
    assert "withdrawn" in done.content.decode()


def test_the_withdraw_page_sends_back_to_the_task_list_when_nothing_waits():
    filing = approved_filing()

    response = page(filing.owner).get(reverse("filings:withdraw"))

    assert response.status_code == 302
    assert response["Location"] == reverse("filings:task_list")


# Check your answers: "change" comes back --------------------------------------------------------


def draft_with_answers():
    owner = UserFactory()
    from filings.services import filing_create

    filing = filing_create(owner=owner)
    filing_save_data(filing=filing, by=owner, data=fs.data())
    return filing, page(owner)


def test_every_change_link_on_check_your_answers_comes_back_to_it():
    filing, client = draft_with_answers()

    body = client.get(reverse("filings:check_answers")).content.decode()

    sponsor_page, website_page = reverse("filings:sponsor"), reverse("filings:website", args=[0])
    links = {
        link
        for link in re.findall(r'href="([^"]+)"', body)
        if link.startswith((sponsor_page, website_page))
    }
    assert links and all("?return=check#" in link for link in links)
    # The website name has its own change link.
    assert f"{reverse('filings:website', args=[0])}?return=check#f-w-name" in links


def test_saving_the_sponsor_from_a_change_link_returns_to_check_your_answers():
    filing, client = draft_with_answers()
    form = client.get(reverse("filings:sponsor") + "?return=check").content.decode()
    assert 'name="return" value="check"' in form
    data = fs.data()["sponsor"]
    post = {
        "nature": data["nature"],
        "name": "北京改过名的科技有限公司",
        "id_type": data["id_type"],
        "id_number": data["id_number"],
        "province": data["province"],
        "address": data["address"],
        "principal_name": data["principal"]["name"],
        "principal_id_type": data["principal"]["id_type"],
        "principal_id_number": data["principal"]["id_number"],
        "principal_mobile": data["principal"]["mobile"],
        "principal_email": data["principal"]["email"],
        "action": "continue",
        "return": "check",
    }

    response = client.post(reverse("filings:sponsor"), post)

    assert response.status_code == 302
    assert response["Location"] == reverse("filings:check_answers")


def test_saving_a_website_from_a_change_link_returns_to_check_your_answers():
    filing, client = draft_with_answers()
    website = fs.data()["websites"][0]
    post = {
        "name": "改过名的网站",
        "domains": "\n".join(website["domains"]),
        "homepage": website["homepage"],
        "ips": "\n".join(website["ips"]),
        "services": website["services"],
        "commercial": "no",
        "server_location": website["server_location"],
        "access_provider": website["access_provider"],
        "action": "continue",
        "return": "check",
    }

    response = client.post(reverse("filings:website", args=[0]), post)

    assert response.status_code == 302
    assert response["Location"] == reverse("filings:check_answers")
    assert "改过名的网站" in client.get(reverse("filings:check_answers")).content.decode()


def test_without_a_change_link_the_wizard_goes_on_as_before():
    filing, client = draft_with_answers()
    website = fs.data()["websites"][0]
    post = {
        "name": website["name"],
        "domains": "\n".join(website["domains"]),
        "homepage": website["homepage"],
        "ips": "\n".join(website["ips"]),
        "services": website["services"],
        "commercial": "no",
        "server_location": website["server_location"],
        "access_provider": website["access_provider"],
        "action": "continue",
    }

    response = client.post(reverse("filings:website", args=[0]), post)

    assert response["Location"] == reverse("filings:websites")


# The deadline a closed application leaves (SPEC §12) ------------------------------------------


def _approved_then_later(time_machine):
    """An approved record, and the clock 40 days on: an application submitted now has a
    deadline of its own, later than the one the approval left."""
    import datetime as dt

    from django.utils import timezone

    filing = approved_filing(domains=["deadline.cn"])
    filing.refresh_from_db()
    time_machine.move_to(timezone.now() + dt.timedelta(days=40), tick=False)
    return filing, filing.review_deadline


def test_a_refused_amendment_leaves_the_deadline_of_the_approval_not_its_own(time_machine):
    from review.services import filing_reject
    from tests.factories import MinistryFactory

    filing, approved_deadline = _approved_then_later(time_machine)
    amend(filing, domains=["deadline.cn", "refused.cn"])
    filing.refresh_from_db()
    assert filing.review_deadline > approved_deadline

    refused = filing_reject(filing=filing, by=MinistryFactory(), reason="域名材料不全")

    assert refused.status == Filing.Status.APPROVED
    assert refused.review_deadline == approved_deadline
    body = api(filing.owner).get(f"/api/v1/filings/{filing.pk}/").json()
    assert body["review_deadline"] == approved_deadline.isoformat()


def test_a_refused_revocation_leaves_the_deadline_of_the_approval(time_machine):
    from review.services import revocation_refuse
    from tests.factories import MinistryFactory

    filing, approved_deadline = _approved_then_later(time_machine)
    filing_apply_revocation(filing=filing, by=filing.owner, reason="网站已关闭")

    refused = revocation_refuse(filing=filing, by=MinistryFactory(), reason="仍在运营")

    assert refused.status == Filing.Status.APPROVED
    assert refused.review_deadline == approved_deadline


def test_a_rejected_first_filing_carries_no_deadline_of_the_rejected_submission():
    from review.services import filing_reject
    from tests.factories import MinistryFactory

    filing = fs.submitted_filing(UserFactory(), fs.data())
    filing.refresh_from_db()
    assert filing.review_deadline is not None

    rejected = filing_reject(filing=filing, by=MinistryFactory(), reason="材料不全")

    assert rejected.status == Filing.Status.REJECTED
    assert rejected.review_deadline is None
    body = api(filing.owner).get(f"/api/v1/filings/{filing.pk}/").json()
    assert body["review_deadline"] is None


def test_a_withdrawal_after_a_refusal_leaves_the_deadline_of_the_approval(time_machine):
    from review.services import filing_reject
    from tests.factories import MinistryFactory

    filing, approved_deadline = _approved_then_later(time_machine)
    amend(filing, domains=["deadline.cn", "refused.cn"])
    filing_reject(filing=filing, by=MinistryFactory(), reason="域名材料不全")
    filing.refresh_from_db()
    amend(filing, domains=["deadline.cn", "again.cn"])

    withdrawn = filing_withdraw(filing=filing, by=filing.owner)

    assert withdrawn.review_deadline == approved_deadline
    entry = AuditLog.objects.get(action="filing.withdraw", target_id=str(filing.pk))
    assert entry.after["review_deadline"] == approved_deadline.isoformat()
