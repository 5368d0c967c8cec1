"""An application goes to one access provider's first review (SPEC §12): a ``new`` or
``amendment`` application whose new or changed accesses name a second registered provider is
refused at submission, on each such access, at every entrance; another provider's access comes
as a new access (新增接入) once the application is approved."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from filings.models import Application, Filing, FilingDraft
from filings.serializers import editable_data
from filings.services import FilingInvalid, filing_create, filing_save_data, filing_submit
from tests import app_support as apps
from tests import filings_support as fs
from tests.factories import AccessProviderFactory, UserFactory
from tests.providers_support import provider_staff
from tests.test_providers_imports import filing_data

pytestmark = [pytest.mark.django_db, pytest.mark.stages]


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def first():
    return AccessProviderFactory(name="甲云")


@pytest.fixture
def second():
    return AccessProviderFactory(name="乙云")


def access(provider, ips=("120.79.1.10",)) -> dict:
    return {
        "provider": provider.pk if provider != "other" else "other",
        "method": "cloud",
        "server_location": "11",
        "ips": list(ips),
    }


def site(name: str, domain: str, *accesses) -> dict:
    website = fs.website(name=name, homepage=f"http://www.{domain}/", domains=[domain])
    for key in ("ips", "server_location", "access_provider"):
        del website[key]
    website["accesses"] = list(accesses)
    return website


def two_sites(first, second) -> dict:
    return fs.data(
        websites=[
            site("甲网站", "jia-site.cn", access(first)),
            site("乙网站", "yi-site.cn", access(second, ["121.40.8.10"])),
        ]
    )


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def english(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


# A new filing ------------------------------------------------------------------------------


def test_a_new_filing_through_the_api_naming_two_providers_is_refused_on_the_second(first, second):
    owner = UserFactory()
    client = api(owner)
    client.cookies["django_language"] = "en"
    created = client.post("/api/v1/filings/", two_sites(first, second), format="json")
    assert created.status_code == 201
    filing_id = created.json()["id"]

    answer = client.post(f"/api/v1/filings/{filing_id}/submit/", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400
    errors = answer.json()["websites"]
    assert errors[0] == {}
    (message,) = errors[1]["accesses"][0]["provider"]
    assert message == (
        "This application goes to the first review of 甲云, and an application goes to one "
        "access provider only. Only 乙云 serves the website “乙网站”: either change its access "
        "to 甲云, or take it out of this application and, once this application is approved, "
        "add it in an amendment (变更), which goes to 乙云."
    )

    # Nothing went anywhere, and everything typed is kept.
    filing = Filing.objects.get(pk=filing_id)
    assert filing.status == "draft" and not Application.objects.filter(filing=filing).exists()
    kept = client.get(f"/api/v1/filings/{filing_id}/").json()["websites"]
    assert [w["accesses"][0]["provider"] for w in kept] == [first.pk, second.pk]


def test_a_cdn_on_the_same_website_is_refused_with_the_advice_of_a_new_access(first, second):
    owner = UserFactory()
    data = fs.data(
        websites=[site("甲网站", "jia-site.cn", access(first), access(second, ["121.40.8.10"]))]
    )
    filing = filing_create(owner=owner, data=data)
    with translation.override("en"), pytest.raises(FilingInvalid) as refused:
        filing_submit(filing=filing, by=owner)
    (message,) = refused.value.errors["websites"][0]["accesses"][1]["provider"]
    assert message == (
        "This application goes to the first review of 甲云, and an application goes to one "
        "access provider only. On the website “甲网站”, either change this access at 乙云 to "
        "甲云, or take it out and, once this application is approved, apply for a new access "
        "(新增接入) at 乙云."
    )
    assert (
        "accesses" not in refused.value.errors["websites"][0]
        or not refused.value.errors["websites"][0]["accesses"][0]
    )

    # Without it the filing goes to 甲云 alone; 乙云 comes as a new access once approved.
    data["websites"][0]["accesses"].pop()
    filing_save_data(filing=filing, by=owner, data=data)
    filing = filing_submit(filing=filing, by=owner)
    assert filing.applications.get().provider_id == first.pk


def test_a_website_served_only_at_the_second_provider_is_told_to_come_in_its_own_application(
    first, second
):
    owner = UserFactory()
    filing = filing_create(owner=owner, data=two_sites(first, second))
    with translation.override("zh-hans"), pytest.raises(FilingInvalid) as refused:
        filing_submit(filing=filing, by=owner)
    (message,) = refused.value.errors["websites"][1]["accesses"][0]["provider"]
    assert "甲云" in message and "乙云" in message and "初审" in message
    for word in ("退回", "驳回"):
        assert word not in message


def test_every_problem_is_told_at_once(first, second):
    owner = UserFactory()
    data = two_sites(first, second)
    data["websites"][1]["accesses"][0]["ips"] = ["999.1.1.1"]
    data["websites"][0]["name"] = ""
    filing = filing_create(owner=owner, data=data)
    with pytest.raises(FilingInvalid) as refused:
        filing_submit(filing=filing, by=owner)
    errors = refused.value.errors["websites"]
    assert errors[0]["name"]
    assert errors[1]["accesses"][0]["ips"] and errors[1]["accesses"][0]["provider"]


def test_the_wizard_shows_it_on_the_access_and_check_your_answers_refuses_it(first, second):
    owner = UserFactory()
    filing = filing_create(owner=owner, data=two_sites(first, second))
    browser = english(owner)

    page = browser.get(reverse("filings:website", args=[1]) + "?check=1")
    text = page.content.decode()
    assert 'id="f-w-access_provider"' in text
    assert "change this access at 乙云" not in text  # it is the website's only access
    assert "Only 乙云 serves the website “乙网站”" in text

    check = browser.get(reverse("filings:check_answers"))
    assert "Only 乙云 serves the website “乙网站”" in check.content.decode()
    refused = browser.post(reverse("filings:check_answers"))
    assert refused.status_code == 400
    assert f"{reverse('filings:website', args=[1])}?check=1#f-w-access_provider" in (
        refused.content.decode()
    )
    filing.refresh_from_db()
    assert filing.status == "draft" and FilingDraft.objects.filter(filing=filing).exists()


def test_the_refusal_names_the_website_and_offers_both_ways_in_chinese(first, second):
    owner = UserFactory()
    filing = filing_create(owner=owner, data=two_sites(first, second))
    with translation.override("zh-hans"), pytest.raises(FilingInvalid) as refused:
        filing_submit(filing=filing, by=owner)
    (message,) = refused.value.errors["websites"][1]["accesses"][0]["provider"]
    assert message == (
        "本申请由甲云初审，一次申请只交一家接入服务提供商初审。网站“乙网站”只在乙云接入："
        "请将其接入改为甲云；或将其移出本申请，待本申请通过后，再以变更添加，该变更由乙云初审。"
    )


def test_a_website_without_a_name_is_named_by_its_homepage(first, second):
    owner = UserFactory()
    data = two_sites(first, second)
    data["websites"][1]["name"] = ""
    filing = filing_create(owner=owner, data=data)
    with translation.override("en"), pytest.raises(FilingInvalid) as refused:
        filing_submit(filing=filing, by=owner)
    errors = refused.value.errors["websites"][1]
    assert errors["name"]
    (message,) = errors["accesses"][0]["provider"]
    assert "Only 乙云 serves the website “http://www.yi-site.cn/”:" in message


def test_an_app_at_a_second_provider_is_named_as_an_app(first, second):
    owner = UserFactory()
    data = fs.data(websites=[site("甲网站", "jia-site.cn", access(first))])
    data["apps"] = [apps.app(accesses=[access(second, ["121.40.8.10"])])]
    filing = filing_create(owner=owner, data=data)
    with translation.override("en"), pytest.raises(FilingInvalid) as refused:
        filing_submit(filing=filing, by=owner)
    (message,) = refused.value.errors["apps"][0]["accesses"][0]["provider"]
    assert "Only 乙云 serves the app “示例App”: either change its access to 甲云" in message
    assert "website" not in message
    with translation.override("zh-hans"), pytest.raises(FilingInvalid) as refused:
        filing_submit(filing=filing, by=owner)
    (message,) = refused.value.errors["apps"][0]["accesses"][0]["provider"]
    assert "App“示例App”只在乙云接入：请将其接入改为甲云" in message


def test_moving_the_refused_access_to_the_first_provider_submits_it(first, second):
    owner = UserFactory()
    data = two_sites(first, second)
    filing = filing_create(owner=owner, data=data)
    with pytest.raises(FilingInvalid):
        filing_submit(filing=filing, by=owner)

    # The other way out the message offers: the website's access at 甲云 instead.
    data["websites"][1]["accesses"][0]["provider"] = first.pk
    filing_save_data(filing=filing, by=owner, data=data)
    filing = filing_submit(filing=filing, by=owner)
    assert filing.applications.get().provider_id == first.pk
    assert [w["name"] for w in editable_data(filing)["websites"]] == ["甲网站", "乙网站"]


def row_states(html: str) -> dict[str, str]:
    """The websites page's rows: ``{website name: data-state}``."""
    return dict(
        re.findall(
            r'<tr>\s*<td>([^<]*)(?:<div[^>]*>[^<]*</div>)?</td>.*?data-state="(\w+)"', html, re.S
        )
    )


def test_the_websites_list_says_a_refused_website_needs_attention(first, second):
    owner = UserFactory()
    data = two_sites(first, second)
    data["websites"].append(site("", "bing-site.cn", access(first, ["120.79.1.12"])))
    filing_create(owner=owner, data=data)
    browser = english(owner)

    page = browser.get(reverse("filings:websites")).content.decode()
    assert row_states(page) == {
        "甲网站": "completed",
        "乙网站": "needs_attention",
        "—": "in_progress",  # no name yet
    }
    assert "needs attention" in page and "in progress" in page

    tasks = browser.get(reverse("filings:task_list")).content.decode()
    assert 'data-section="websites" data-state="needs_attention"' in tasks

    chinese = Client()
    chinese.force_login(owner)
    chinese.cookies["django_language"] = "zh-hans"
    page = chinese.get(reverse("filings:websites")).content.decode()
    assert "需要处理" in page and "处理中" in page


def test_a_website_still_missing_an_answer_stays_in_progress(first, second):
    owner = UserFactory()
    data = two_sites(first, second)
    data["websites"][1]["services"] = []
    filing_create(owner=owner, data=data)
    page = english(owner).get(reverse("filings:websites")).content.decode()
    assert row_states(page) == {"甲网站": "completed", "乙网站": "in_progress"}


def test_an_import_row_naming_another_provider_is_refused_on_that_access(first, second):
    staff = provider_staff(first)
    row_data = filing_data(7)
    row_data["websites"].append({**site("乙网站", "yi-site.cn", access(second, ["121.40.8.10"]))})
    client = api(staff)
    answer = client.post(
        "/api/v1/provider/imports/",
        {
            "rows": [
                {
                    "client": {
                        "username": "client7",
                        "email": "c7@client.example.cn",
                        "mobile": "13600000007",
                    },
                    "filing": row_data,
                }
            ]
        },
        format="json",
    )
    assert answer.status_code == 200
    (result,) = answer.json()["results"]
    assert result["status"] == "error"
    assert result["errors"]["filing"]["websites"][1]["accesses"][0]["provider"]
    assert not Filing.objects.filter(owner__username="client7").exists()


def test_a_provider_submitting_for_its_client_may_not_name_another_provider(first, second):
    staff = provider_staff(first)
    owner = UserFactory()
    filing = filing_create(owner=owner, provider=first, data=two_sites(first, second))
    with pytest.raises(FilingInvalid) as refused:
        filing_submit(filing=filing, by=staff)
    assert refused.value.errors["websites"][1]["accesses"][0]["provider"]
    assert not Application.objects.filter(filing=filing).exists()


# An amendment ------------------------------------------------------------------------------


def approved_at(owner, websites) -> Filing:
    filing = fs.submitted_filing(owner, fs.data(websites=websites))
    return fs.approve(fs.to_bureau(filing))


def test_an_amendment_adding_a_website_at_another_provider_goes_to_that_provider(first, second):
    owner = UserFactory()
    filing = approved_at(owner, [site("甲网站", "jia-site.cn", access(first))])
    data = editable_data(filing)
    data["websites"].append(site("乙网站", "yi-site.cn", access(second, ["121.40.8.10"])))
    filing_save_data(filing=filing, by=owner, data=data)
    filing = filing_submit(filing=filing, by=owner)
    assert filing.applications.get(closed_at=None).provider_id == second.pk


def test_an_amendment_changing_accesses_at_two_providers_is_refused_on_the_second(first, second):
    owner = UserFactory()
    filing = approved_at(
        owner,
        [
            site("甲网站", "jia-site.cn", access(first)),
            site("乙网站", "yi-site.cn", access(first, ["120.79.1.11"])),
        ],
    )
    # 乙云 added to the second website by a new access, approved.
    (website_id,) = [w["id"] for w in editable_data(filing)["websites"][1:]]
    api(owner).post(
        f"/api/v1/filings/{filing.pk}/accesses/",
        {"website": website_id, **access(second, ["121.40.8.10"])},
        format="json",
    )
    filing = fs.approve(fs.to_bureau(Filing.objects.get(pk=filing.pk)))

    # Renaming a website changes no access: it goes to the provider serving the record.
    data = editable_data(filing)
    data["websites"][1]["name"] = "乙网站改名"
    filing_save_data(filing=filing, by=owner, data=data)
    with translation.override("en"):
        data["websites"][0]["accesses"][0]["ips"] = ["120.79.1.20"]
        data["websites"][1]["accesses"][1]["ips"] = ["121.40.8.20"]
        filing_save_data(filing=filing, by=owner, data=data)
        with pytest.raises(FilingInvalid) as refused:
            filing_submit(filing=filing, by=owner)
    errors = refused.value.errors["websites"]
    assert errors[0] == {}
    (message,) = errors[1]["accesses"][1]["provider"]
    assert message == (
        "This application goes to the first review of 甲云, and an application goes to one "
        "access provider only. On the website “乙网站改名”, either change this access to 甲云, "
        "or leave it at 乙云 as it was approved and change it once this application is "
        "approved, in an application of its own."
    )

    data["websites"][1]["accesses"][1]["ips"] = ["121.40.8.10"]
    filing_save_data(filing=filing, by=owner, data=data)
    filing = filing_submit(filing=filing, by=owner)
    assert filing.applications.get(closed_at=None).provider_id == first.pk
