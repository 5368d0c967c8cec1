"""What each reader compares an application with (SPEC §3 "the bureau sees what changed
between versions", §12): the last approved version, and the previous submission of the same
application, never the version of an application withdrawn or refused; and the version lists
say what became of each version."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from filings.models import Filing
from filings.serializers import editable_data
from filings.services import filing_save_data, filing_submit, filing_withdraw
from filings.stages import provider_decide
from review.services import filing_reject
from tests import filings_support as fs
from tests.factories import AccessProviderFactory, BureauFactory, MinistryFactory, UserFactory
from tests.providers_support import provider_staff

pytestmark = [pytest.mark.django_db, pytest.mark.stages]

PREVIOUS = "Against this application's previous submission"


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def provider():
    return AccessProviderFactory(name="甲云")


def english(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def bureau_page(otp_client, filing) -> str:
    """The bureau's filing page, in English, as a reviewer of the province reads it."""
    client = otp_client(BureauFactory())
    client.cookies["django_language"] = "en"
    answer = client.get(reverse("review:detail", args=[filing.pk]))
    assert answer.status_code == 200
    return answer.content.decode()


def outcomes(owner, language: str = "en") -> list[tuple[str, str]]:
    """The owner's list of versions: (version, status), newest first."""
    client = Client()
    client.force_login(owner)
    client.cookies["django_language"] = language
    page = client.get(reverse("filings:task_list"))
    return [(str(v.seq), str(v.outcome_label)) for v in page.context["versions"]]


def first_filing(owner, provider) -> Filing:
    return fs.submitted_filing(owner, fs.data(websites=[fs.website(access_provider=provider.pk)]))


def rename(filing, name: str) -> None:
    data = editable_data(filing)
    data["websites"][0]["name"] = name
    filing_save_data(filing=filing, by=filing.owner, data=data)


def returned(filing, provider) -> None:
    provider_decide(
        filing_id=filing.pk, by=provider_staff(provider), action="return", reason="网站名称有误"
    )


def test_a_new_access_after_a_withdrawn_amendment_is_compared_with_the_approved_version(
    provider, otp_client
):
    cdn = AccessProviderFactory(name="乙云")
    owner = UserFactory()
    filing = fs.approve(fs.to_bureau(first_filing(owner, provider)))  # versions 1, 2
    rename(filing, "撤回的名字")
    filing = filing_submit(filing=filing, by=owner)  # version 3
    filing_withdraw(filing=filing, by=owner)
    (website_id,) = [w["id"] for w in editable_data(filing)["websites"]]
    client = APIClient()
    client.force_authenticate(owner)
    answer = client.post(
        f"/api/v1/filings/{filing.pk}/accesses/",
        {
            "website": website_id,
            "provider": cdn.pk,
            "method": "cloud",
            "server_location": "11",
            "ips": ["121.40.8.10"],
        },
        format="json",
    )
    assert answer.status_code == 200  # version 4

    page = english(provider_staff(cdn)).get(reverse("providers:review-detail", args=[filing.pk]))
    text = page.content.decode()
    assert PREVIOUS not in text and "撤回的名字" not in text
    assert "Against the approved version (version 2" in text
    changes = page.context["changes"]
    assert changes.previous is None
    assert {c.field for c in changes.since_approved} == {
        "access provider (access at 乙云)",
        "access method (access at 乙云)",
        "server location (access at 乙云)",
        "IP addresses (access at 乙云)",
    }

    filing = fs.to_bureau(Filing.objects.get(pk=filing.pk))
    detail = bureau_page(otp_client, filing)
    assert PREVIOUS not in detail and "撤回的名字" not in detail
    assert "Version 3: withdrawn" in detail

    assert outcomes(owner) == [
        ("4", "submitted"),
        ("3", "withdrawn"),
        ("2", "approved"),
        ("1", "approved"),
    ]
    assert outcomes(owner, "zh-hans")[1] == ("3", "已撤回")


def test_a_first_filing_returned_and_submitted_again_is_compared_with_its_own_submission(
    provider, otp_client
):
    owner = UserFactory()
    filing = first_filing(owner, provider)  # version 1
    returned(filing, provider)
    rename(filing, "改正后的网站")

    # The owner sees what they change in their application before submitting it again.
    check = english(owner).get(reverse("filings:check_answers"))
    text = check.content.decode()
    assert "What you change in your application" in text
    assert "Against what you submitted in this application (version 1" in text
    assert [(c.before, c.after) for c in check.context["comparison"].changes] == [
        ("示例网站", "改正后的网站")
    ]

    filing = filing_submit(filing=Filing.objects.get(pk=filing.pk), by=owner)  # version 2
    page = english(provider_staff(provider)).get(
        reverse("providers:review-detail", args=[filing.pk])
    )
    text = page.content.decode()
    assert f"{PREVIOUS} (version 1" in text and "returned for changes)" in text
    assert [(c.before, c.after) for c in page.context["changes"].since_previous] == [
        ("示例网站", "改正后的网站")
    ]
    assert outcomes(owner) == [("2", "submitted"), ("1", "returned for changes")]
    assert outcomes(owner, "zh-hans")[1] == ("1", "已发回修改")

    filing = fs.to_bureau(filing)
    text = bureau_page(otp_client, filing)
    assert f"{PREVIOUS} (version 1" in text


def test_a_submission_replaced_before_any_decision_says_so(provider):
    owner = UserFactory()
    filing = first_filing(owner, provider)
    rename(filing, "再次提交的网站")
    filing_submit(filing=filing, by=owner)
    assert outcomes(owner) == [("2", "submitted"), ("1", "replaced by a later submission")]
    page = english(provider_staff(provider)).get(
        reverse("providers:review-detail", args=[filing.pk])
    )
    assert "replaced by a later submission)" in page.content.decode()


def test_a_rejected_filing_submitted_again_is_not_compared_with_the_refused_one(
    provider, otp_client
):
    owner = UserFactory()
    filing = fs.to_bureau(first_filing(owner, provider))
    filing_reject(filing=filing, by=MinistryFactory(), reason="材料不全")
    rename(filing, "重新申请的网站")
    filing = fs.to_bureau(filing_submit(filing=Filing.objects.get(pk=filing.pk), by=owner))

    text = bureau_page(otp_client, filing)
    assert PREVIOUS not in text
    assert "The first submission of this application, and nothing approved before" in text
    assert outcomes(owner) == [("2", "submitted"), ("1", "rejected")]
    check = english(owner).get(reverse("filings:check_answers"))
    assert check.context["comparison"].against == "submitted"


def test_an_amendment_returned_is_checked_against_the_approved_version(provider):
    owner = UserFactory()
    filing = fs.approve(fs.to_bureau(first_filing(owner, provider)))
    rename(filing, "变更后的网站")
    filing = filing_submit(filing=filing, by=owner)
    returned(filing, provider)
    check = english(owner).get(reverse("filings:check_answers"))
    text = check.content.decode()
    assert "What this amendment changes" in text and "Submit the amendment" in text
    assert check.context["comparison"].against == "approved"
    assert [(c.before, c.after) for c in check.context["comparison"].changes] == [
        ("示例网站", "变更后的网站")
    ]


def test_the_owners_version_page_says_what_became_of_it(provider):
    owner = UserFactory()
    filing = first_filing(owner, provider)
    filing_withdraw(filing=filing, by=owner)
    page = english(owner).get(reverse("filings:version", args=[1]))
    assert page.context["outcome"] == "withdrawn"
    assert "data-version-outcome>withdrawn<" in page.content.decode()


def test_a_returned_submission_reads_returned_as_soon_as_it_is_returned(provider):
    owner = UserFactory()
    filing = first_filing(owner, provider)  # version 1
    assert outcomes(owner) == [("1", "submitted")]

    returned(filing, provider)
    assert outcomes(owner) == [("1", "returned for changes")]
    assert outcomes(owner, "zh-hans") == [("1", "已发回修改")]
    page = english(owner).get(reverse("filings:version", args=[1]))
    assert page.context["outcome"] == "returned for changes"
    assert "data-version-outcome>returned for changes<" in page.content.decode()
    tasks = english(owner).get(reverse("filings:task_list")).content.decode()
    assert 'data-version-outcome="returned">returned for changes<' in tasks

    # Withdrawn while returned, it reads withdrawn.
    filing_withdraw(filing=Filing.objects.get(pk=filing.pk), by=owner)
    assert outcomes(owner) == [("1", "withdrawn")]


def test_the_bureau_reads_a_returned_amendment_as_returned(provider, otp_client):
    owner = UserFactory()
    filing = fs.approve(fs.to_bureau(first_filing(owner, provider)))  # versions 1 and 2
    rename(filing, "变更后的网站")
    filing = filing_submit(filing=filing, by=owner)  # version 3
    returned(filing, provider)

    detail = bureau_page(otp_client, Filing.objects.get(pk=filing.pk))
    assert "Version 3: returned for changes" in detail
    assert outcomes(owner)[0] == ("3", "returned for changes")
