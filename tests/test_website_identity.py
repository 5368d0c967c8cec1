"""A website keeps its identity, its id and then its number, on every path (SPEC §3, §12): an
edit saved at any stage stays an edit of that website, approval never gives a website it
already numbered a second number, and a number is retired only when the owner removes the
website on purpose or a ``cancel_website`` application is approved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from filings import stages
from filings.models import Filing, PublishedWebsite, Website
from filings.selectors import filing_changes
from filings.serializers import editable_data
from filings.services import filing_save_data, filing_submit, filing_withdraw
from review.services import filing_reject
from tests import app_support as apps
from tests import filings_support as fs
from tests.factories import AccessProviderFactory, MinistryFactory, UserFactory
from tests.providers_support import provider_staff

pytestmark = [pytest.mark.django_db, pytest.mark.stages]


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def provider():
    return AccessProviderFactory(name="蓝山云")


def at_provider(owner, provider, websites=None) -> Filing:
    websites = websites or [fs.website(access_provider=provider.pk)]
    return fs.submitted_filing(owner, fs.data(websites=websites))


def through(filing) -> Filing:
    """The application of ``filing`` through the provider, the SMS code and the bureau."""
    return fs.approve(fs.to_bureau(filing))


def rows(filing) -> list[tuple[int, str | None, str]]:
    return list(
        Website.objects.filter(filing=filing)
        .order_by("position")
        .values_list("pk", "number", "name")
    )


def english(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def website_form(provider, **overrides) -> dict:
    form = {
        "name": "示例网站",
        "domains": "example.cn",
        "homepage": "http://www.example.cn/",
        "ips": "120.79.1.10",
        "services": ["corporate"],
        "commercial": "no",
        "server_location": "11",
        "access_provider": provider.pk,
        "action": "continue",
    }
    form.update(overrides)
    return form


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# The tester's journey -----------------------------------------------------------------------


def test_a_website_renamed_in_the_wizard_during_the_first_review_keeps_its_number(provider):
    owner = UserFactory()
    filing = at_provider(owner, provider)
    assert filing.status == "provider_review"
    ((website_id, _none, _name),) = rows(filing)

    # Renamed while the provider reviews it, saved without submitting.
    browser = english(owner)
    saved = browser.post(
        reverse("filings:website", args=[0]), website_form(provider, name="新名网站")
    )
    assert saved.status_code == 302
    filing = through(filing)
    ((same_id, number, name),) = rows(filing)
    assert (same_id, name) == (website_id, "示例网站") and number.endswith("-1")

    # The saved edit is an edit of website -1: "name: old → new", nothing removed or added.
    check = browser.get(reverse("filings:check_answers"))
    changes = [(c.section, c.field, c.before, c.after) for c in check.context["comparison"].changes]
    assert changes == [(f"Website {number}", "name", "示例网站", "新名网站")]
    assert "Website #1" not in check.content.decode()

    assert browser.post(reverse("filings:check_answers")).status_code == 302
    filing.refresh_from_db()
    assert filing.status == "provider_review"
    staff = provider_staff(provider)
    console = english(staff)
    page = console.get(reverse("providers:review-detail", args=[filing.pk]))
    shown = [
        (c.section, c.field, c.before, c.after) for c in page.context["changes"].since_approved
    ]
    assert shown == [(f"Website {number}", "name", "示例网站", "新名网站")]

    filing = fs.to_bureau(filing)
    assert filing.status == "amendment_pending"
    with translation.override("en"):
        read = [(c.section, c.field) for c in filing_changes(filing).since_approved]
    assert read == [(f"Website {number}", "name")]

    filing = fs.approve(filing)
    assert rows(filing) == [(website_id, number, "新名网站")]
    assert filing.last_website_seq == 1
    assert list(
        PublishedWebsite.objects.filter(filing=filing).values_list("website_number", "website_name")
    ) == [(number, "新名网站")]


def test_a_draft_written_through_the_api_during_the_first_review_keeps_its_number(provider):
    owner = UserFactory()
    filing = at_provider(owner, provider)
    client = api(owner)
    body = client.get(f"/api/v1/filings/{filing.pk}/").json()
    body["websites"][0]["name"] = "接口改名网站"
    written = client.put(
        f"/api/v1/filings/{filing.pk}/",
        {"sponsor": body["sponsor"], "websites": body["websites"]},
        format="json",
    )
    assert written.status_code == 200
    filing = through(filing)
    ((website_id, number, _name),) = rows(filing)

    shown = client.get(f"/api/v1/filings/{filing.pk}/").json()["websites"][0]
    assert (shown["id"], shown["number"], shown["name"]) == (website_id, number, "接口改名网站")

    assert client.post(f"/api/v1/filings/{filing.pk}/submit/").status_code == 200
    filing = through(filing)
    assert rows(filing) == [(website_id, number, "接口改名网站")]


# Every path --------------------------------------------------------------------------------


def _returned(filing):
    staff = provider_staff(Filing.objects.get(pk=filing.pk).applications.get().provider)
    stages.provider_decide(filing_id=filing.pk, by=staff, action="return", reason="请核对")


def _lapsed(filing):
    fs.first_review_pass(filing)
    stages.verification_lapse_due(now=timezone.now() + dt.timedelta(hours=25))


def _withdrawn(filing):
    filing_withdraw(filing=filing, by=filing.owner)


def _rejected(filing):
    filing = fs.to_bureau(filing)
    filing_reject(filing=filing, by=MinistryFactory(), reason="材料不全")


@pytest.mark.parametrize("end", [_returned, _lapsed, _withdrawn, _rejected])
def test_a_first_filing_edited_then_ended_and_submitted_again_keeps_its_websites(provider, end):
    owner = UserFactory()
    filing = at_provider(owner, provider)
    ids = [pk for pk, _n, _name in rows(filing)]
    edited = editable_data(filing)
    edited["websites"][0]["name"] = "改过的网站"
    filing_save_data(filing=filing, by=owner, data=edited)
    end(filing)
    filing = filing_submit(filing=Filing.objects.get(pk=filing.pk), by=owner)
    filing = through(filing)
    assert [(pk, name) for pk, _n, name in rows(filing)] == [(ids[0], "改过的网站")]
    assert rows(filing)[0][1].endswith("-1") and filing.last_website_seq == 1


def _amendment_withdrawn(filing):
    filing_withdraw(filing=filing, by=filing.owner)


def _amendment_refused(filing):
    filing = fs.to_bureau(filing)
    filing_reject(filing=filing, by=MinistryFactory(), reason="不同意变更")


@pytest.mark.parametrize("end", [_amendment_withdrawn, _amendment_refused])
def test_an_edit_saved_while_an_amendment_waits_stays_with_the_numbered_website(provider, end):
    owner = UserFactory()
    second = fs.website(
        name="第二个网站",
        homepage="http://www.second-site.cn/",
        domains=["second-site.cn"],
        access_provider=provider.pk,
    )
    filing = through(
        at_provider(owner, provider, [fs.website(access_provider=provider.pk), second])
    )
    before = rows(filing)
    amended = editable_data(filing)
    amended["sponsor"]["address"] = "北京市海淀区中关村大街2号"
    filing_save_data(filing=filing, by=owner, data=amended)
    filing = filing_submit(filing=filing, by=owner)
    edited = editable_data(filing)
    edited["websites"][1]["name"] = "第二个网站改名"
    filing_save_data(filing=filing, by=owner, data=edited)
    end(Filing.objects.get(pk=filing.pk))

    filing = Filing.objects.get(pk=filing.pk)
    assert rows(filing) == before
    filing = through(filing_submit(filing=filing, by=owner))
    assert rows(filing) == [before[0], (before[1][0], before[1][1], "第二个网站改名")]
    assert filing.last_website_seq == 2


def test_a_client_that_rebuilds_the_list_without_ids_keeps_the_numbers(provider):
    owner = UserFactory()
    filing = through(at_provider(owner, provider))
    ((website_id, number, _name),) = rows(filing)
    rebuilt = fs.data(
        websites=[
            fs.website(name="重写的网站", access_provider=provider.pk),
            fs.website(
                name="新增网站",
                homepage="http://www.added-site.cn/",
                domains=["added-site.cn"],
                access_provider=provider.pk,
            ),
        ]
    )
    client = api(owner)
    assert client.put(f"/api/v1/filings/{filing.pk}/", rebuilt, format="json").status_code == 200
    shown = client.get(f"/api/v1/filings/{filing.pk}/").json()["websites"]
    assert [(w["id"], w["number"]) for w in shown] == [(website_id, number), (None, None)]

    assert client.post(f"/api/v1/filings/{filing.pk}/submit/").status_code == 200
    filing = through(filing)
    (first, added) = rows(filing)
    assert first == (website_id, number, "重写的网站")
    assert added[1].endswith("-2")


def test_a_client_that_names_websites_by_number_only_keeps_them(provider):
    owner = UserFactory()
    filing = through(at_provider(owner, provider))
    ((website_id, number, _name),) = rows(filing)
    data = fs.data(
        websites=[fs.website(name="按编号改名", number=number, access_provider=provider.pk)]
    )
    client = api(owner)
    assert client.put(f"/api/v1/filings/{filing.pk}/", data, format="json").status_code == 200
    assert client.post(f"/api/v1/filings/{filing.pk}/submit/").status_code == 200
    assert rows(through(filing)) == [(website_id, number, "按编号改名")]


def test_a_website_the_owner_removes_on_purpose_retires_its_number(provider):
    owner = UserFactory()
    second = fs.website(
        name="第二个网站",
        homepage="http://www.second-site.cn/",
        domains=["second-site.cn"],
        access_provider=provider.pk,
    )
    filing = through(
        at_provider(owner, provider, [fs.website(access_provider=provider.pk), second])
    )
    (first, removed) = rows(filing)
    browser = english(owner)
    assert browser.post(reverse("filings:website-remove", args=[1])).status_code == 302
    check = browser.get(reverse("filings:check_answers"))
    sections = {c.section for c in check.context["comparison"].changes}
    assert sections == {f"Website {removed[1]}"}
    assert browser.post(reverse("filings:check_answers")).status_code == 302
    filing = through(Filing.objects.get(pk=filing.pk))
    assert rows(filing) == [first]

    # A later website gets the next number: the removed one is never given again.
    data = editable_data(filing)
    data["websites"].append(
        fs.website(
            name="第三个网站",
            homepage="http://www.third-site.cn/",
            domains=["third-site.cn"],
            access_provider=provider.pk,
        )
    )
    filing_save_data(filing=filing, by=owner, data=data)
    filing = through(filing_submit(filing=filing, by=owner))
    assert [n for _pk, n, _name in rows(filing)] == [first[1], f"{filing.number}-3"]


def test_a_website_has_no_id_until_its_filing_is_submitted_and_then_keeps_it():
    """SPEC §12's calls on one website (a new access, a cancellation) name approved websites,
    which have rows; a website (an app, a mini-program) of a draft never submitted has none
    yet: ``"id": null`` (docs/decisions.md)."""
    owner = UserFactory()
    client = APIClient()
    client.force_authenticate(owner)

    def ids(answer) -> list:
        assert answer.status_code in (200, 201), answer.content
        return [w["id"] for w in answer.json()["websites"]]

    def others(answer) -> list:
        return [s["id"] for part in ("apps", "mini_programs") for s in answer.json()[part]]

    data = {**fs.data(), "apps": [apps.app()], "mini_programs": [apps.mini_program()]}
    created = client.post("/api/v1/filings/", data, format="json")
    url = f"/api/v1/filings/{created.json()['id']}/"
    assert ids(created) == [None] and others(created) == [None, None]
    assert ids(client.get(url)) == [None]
    patch = {"sponsor": {"address": "北京市海淀区中关村大街2号"}}
    assert ids(client.patch(url, patch, format="json")) == [None]

    submitted = client.post(f"{url}submit/")
    (first,) = ids(submitted)
    assert isinstance(first, int) and not isinstance(first, bool)
    services = others(submitted)
    assert all(isinstance(pk, int) for pk in services) and first not in services

    # A website added to the submitted filing's draft has none until that draft is submitted.
    second = fs.website(name="第二个网站", homepage="http://www.second.cn/", domains=["second.cn"])
    websites = [*submitted.json()["websites"], second]
    assert ids(client.patch(url, {"websites": websites}, format="json")) == [first, None]
    assert ids(client.get(url)) == [first, None]
    both = ids(client.post(f"{url}submit/"))
    assert both[0] == first and isinstance(both[1], int) and both[1] != first

    # Approved, then amended: every later draft and version keeps the ids.
    through(Filing.objects.get(owner=owner))
    approved = client.get(url).json()
    assert [w["id"] for w in approved["websites"]] == both
    approved["websites"][0]["name"] = "改名后的网站"
    assert ids(client.patch(url, {"websites": approved["websites"]}, format="json")) == both
    amended = client.post(f"{url}submit/")
    assert ids(amended) == both and others(amended) == services
