"""Accesses as the record's third part (SPEC §12): a new access (新增接入), an access cancelled
(取消接入), a website cancelled (注销网站), empty shells, and gating that knows who may serve."""

from __future__ import annotations

import itertools

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from beian.models import AuditLog, Message
from certificates.models import Certificate
from filings.models import Application, Filing, PublishedWebsite, Website
from providers.models import WebhookDelivery
from review.services import filing_approve, filing_reject
from tests import filings_support as fs
from tests.factories import AccessProviderFactory, MinistryFactory, UserFactory
from tests.providers_support import provider_staff

pytestmark = pytest.mark.django_db

CHECK = "/api/v1/provider/domains/check/"
_sponsors = itertools.count(1)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def approved_record(owner, *, websites: list[dict] | None = None, provider=None) -> Filing:
    """An owner's record approved through the services, each website served by ``provider``
    (or "other")."""
    websites = websites or [fs.website()]
    for w in websites:
        w["access_provider"] = provider.pk if provider else "other"
    name = f"北京示例科技有限公司{next(_sponsors)}"
    filing = fs.submitted_filing(owner, fs.data(sponsor={"name": name}, websites=websites))
    filing = fs.to_bureau(filing)
    return fs.approve(filing)


def two_websites() -> list[dict]:
    return [
        fs.website(),
        fs.website(
            name="第二个网站", homepage="http://www.second-site.cn/", domains=["second-site.cn"]
        ),
    ]


def website_ids(filing) -> list[int]:
    return list(
        Website.objects.filter(filing=filing).order_by("position").values_list("pk", flat=True)
    )


def access_of(provider) -> dict:
    return {
        "provider": provider.pk,
        "method": "cloud",
        "server_location": "44",
        "ips": ["121.40.8.10"],
    }


def gating(provider, domain: str) -> dict:
    return api(provider_staff(provider)).get(f"/api/v1/provider/domains/{domain}/").json()


def decide(filing) -> Filing:
    filing.refresh_from_db()
    return filing_approve(filing=filing, by=MinistryFactory())


# New access (新增接入) ---------------------------------------------------------------------------


@pytest.mark.stages
def test_an_owners_new_access_passes_the_new_provider_the_phone_and_the_bureau(outbox_messages):
    first, cdn = AccessProviderFactory(), AccessProviderFactory(name="蓝山内容分发网络有限公司")
    owner = UserFactory()
    filing = approved_record(owner, provider=first)
    (website,) = website_ids(filing)
    certificate = Certificate.objects.get(filing=filing, status="valid")

    answer = api(owner).post(
        f"/api/v1/filings/{filing.pk}/accesses/",
        {"website": website, **access_of(cdn)},
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["status"] == "provider_review"
    assert body["application"]["kind"] == "new_access"
    assert body["application"]["provider"] == cdn.pk
    # Meanwhile the approved access alone counts, and the record stays filed.
    assert (gating(cdn, "example.cn")["access"], gating(first, "example.cn")["access"]) == (
        False,
        True,
    )
    fs.first_review_pass(filing)
    filing.refresh_from_db()
    assert filing.status == "verification"
    fs.verify(filing)
    filing = decide(filing)

    assert filing.status == "approved"
    shown = api(owner).get(f"/api/v1/filings/{filing.pk}/").json()["websites"][0]
    assert [a["provider"] for a in shown["accesses"]] == [first.pk, cdn.pk]
    assert shown["access_provider"] == first.pk  # the shorthand shows the first access
    assert gating(cdn, "www.example.cn")["access"] is True
    certificate.refresh_from_db()
    assert certificate.status == "superseded"
    told = Message.objects.filter(template="provider_filing_change")
    assert set(told.values_list("to", flat=True)) == {first.email, cdn.email}


def test_the_new_provider_applies_by_the_website_number_and_has_passed_its_own_review():
    first, second = AccessProviderFactory(), AccessProviderFactory()
    filing = approved_record(UserFactory(), provider=first)
    number = Website.objects.get(filing=filing).number
    staff = provider_staff(second)

    answer = api(staff).post(
        "/api/v1/provider/accesses/",
        {
            "website_number": number.replace("-", "—"),
            "method": "hosting",
            "server_location": "31",
            "ips": ["121.40.8.20"],
        },
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    application = Application.objects.get(filing=filing, closed_at=None)
    assert (application.kind, application.provider_id) == ("new_access", second.pk)
    assert application.provider_passed_by == staff
    # SMS verification is off in these tests: straight to the bureau.
    assert answer.json()["status"] == "amendment_pending"
    decide(filing)
    assert gating(second, "example.cn")["access"] is True


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"website": 999999}, "website"),
        ({"website": "one"}, "website"),
        ({"method": "satellite"}, "method"),
        ({"server_location": "98"}, "server_location"),
        ({"ips": ["10.0.0.1"]}, "ips"),
        ({"provider": 999999}, "provider"),
    ],
)
def test_a_new_access_with_a_problem_is_refused_on_its_field_and_changes_nothing(change, field):
    owner = UserFactory()
    filing = approved_record(owner)
    (website,) = website_ids(filing)
    payload = {"website": website, **access_of(AccessProviderFactory()), **change}

    answer = api(owner).post(f"/api/v1/filings/{filing.pk}/accesses/", payload, format="json")

    assert answer.status_code == 400
    assert field in answer.json()
    filing.refresh_from_db()
    assert filing.status == "approved"
    assert not Application.objects.filter(filing=filing, closed_at=None).exists()


def test_every_problem_of_a_new_access_is_told_at_once():
    owner = UserFactory()
    filing = approved_record(owner)
    answer = api(owner).post(
        f"/api/v1/filings/{filing.pk}/accesses/",
        {"website": 0, "provider": "", "method": "", "server_location": "", "ips": []},
        format="json",
    )
    assert answer.status_code == 400
    assert set(answer.json()) == {"website", "provider", "method", "server_location", "ips"}


def test_a_provider_already_serving_the_website_needs_no_new_access():
    provider = AccessProviderFactory()
    owner = UserFactory()
    filing = approved_record(owner, provider=provider)
    (website,) = website_ids(filing)
    answer = api(owner).post(
        f"/api/v1/filings/{filing.pk}/accesses/",
        {"website": website, **access_of(provider)},
        format="json",
    )
    assert answer.status_code == 400
    with translation.override("zh-hans"):
        already = translation.gettext(
            "This access provider already serves the website: it needs no new access."
        )
    assert answer.json()["provider"] == [already]


def test_another_owners_filing_is_404_and_an_open_application_is_409():
    owner = UserFactory()
    filing = approved_record(owner)
    (website,) = website_ids(filing)
    payload = {"website": website, **access_of(AccessProviderFactory())}
    assert (
        api(UserFactory()).post(f"/api/v1/filings/{filing.pk}/accesses/", payload).status_code
        == 404
    )
    assert api(owner).post(f"/api/v1/filings/{filing.pk}/accesses/", payload, format="json")
    again = api(owner).post(f"/api/v1/filings/{filing.pk}/accesses/", payload, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "application_open"


def test_a_provider_with_no_part_in_the_record_learns_only_that_it_cannot_apply_now():
    from filings.services import filing_save_data, filing_submit

    serving, stranger = AccessProviderFactory(), AccessProviderFactory()
    owner = UserFactory()
    filing = approved_record(owner, provider=serving)
    number = Website.objects.get(filing=filing).number
    # The owner amends the record: an amendment is open.
    filing_save_data(
        filing=filing,
        by=owner,
        data=fs.data(
            sponsor={"name": filing.sponsor_name, "address": "北京市海淀区中关村大街5号"},
            websites=[fs.website(access_provider=serving.pk, number=number)],
        ),
    )
    filing_submit(filing=filing, by=owner)
    body = {
        "website_number": number,
        "method": "cloud",
        "server_location": "44",
        "ips": ["121.40.8.30"],
    }

    strangers = api(provider_staff(stranger)).post(
        "/api/v1/provider/accesses/", body, format="json"
    )
    servings = api(provider_staff(serving)).post("/api/v1/provider/accesses/", body, format="json")

    assert strangers.status_code == 409
    assert strangers.json() == {
        "detail": "您现在不能为该网站申请接入，请稍后再试。",
        "code": "application_open",
    }
    # The provider serving the record is told which application is open, as the owner is.
    assert servings.status_code == 409 and servings.json()["code"] == "application_open"
    assert "变更" in servings.json()["detail"]


def test_a_draft_filing_has_no_approved_website_to_add_an_access_to():
    owner = UserFactory()
    filing = fs.submitted_filing(owner)
    (website,) = website_ids(filing)
    answer = api(owner).post(
        f"/api/v1/filings/{filing.pk}/accesses/",
        {"website": website, **access_of(AccessProviderFactory())},
        format="json",
    )
    assert answer.status_code == 409


# Cancelling an access (取消接入) ------------------------------------------------------------------


def test_a_provider_withdraws_its_access_and_the_bureau_decides():
    first = AccessProviderFactory(webhook_url="https://hooks.example.cn/icp")
    second = AccessProviderFactory()
    owner = UserFactory()
    filing = approved_record(owner, provider=first)
    (website,) = website_ids(filing)
    api(owner).post(
        f"/api/v1/filings/{filing.pk}/accesses/",
        {"website": website, **access_of(second)},
        format="json",
    )
    fs.to_bureau(filing)
    decide(filing)

    answer = api(provider_staff(first)).post(
        "/api/v1/provider/accesses/cancel/",
        {"website": website, "reason": "客户已停止使用本公司服务器"},
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "amendment_pending"
    assert answer.json()["application"]["kind"] == "cancel_access"
    assert Application.objects.get(filing=filing, closed_at=None).reason.startswith("客户")
    # Until the bureau decides, the approved access stands.
    assert gating(first, "example.cn")["access"] is True
    decide(filing)
    assert gating(first, "example.cn")["access"] is False
    assert gating(second, "example.cn")["access"] is True
    assert Website.objects.get(pk=website).shell_since is None
    assert WebhookDelivery.objects.filter(provider=first, event="access_cancelled").exists()
    # The provider whose access ended is told, though it serves the record no more.
    assert Message.objects.filter(to=first.email, template="provider_filing_change").exists()


def test_a_provider_cannot_cancel_an_access_it_does_not_hold():
    holder, stranger = AccessProviderFactory(), AccessProviderFactory()
    filing = approved_record(UserFactory(), provider=holder)
    (website,) = website_ids(filing)
    answer = api(provider_staff(stranger)).post(
        "/api/v1/provider/accesses/cancel/", {"website": website, "reason": "无"}, format="json"
    )
    assert answer.status_code == 404
    missing_reason = api(provider_staff(holder)).post(
        "/api/v1/provider/accesses/cancel/", {"website": website}, format="json"
    )
    assert missing_reason.status_code == 400
    assert "reason" in missing_reason.json()


def test_the_last_access_cancelled_leaves_an_empty_shell_and_the_owner_is_warned():
    provider = AccessProviderFactory()
    owner = UserFactory(mobile="13911112222")
    filing = approved_record(owner, provider=provider)
    (website,) = website_ids(filing)
    api(provider_staff(provider)).post(
        "/api/v1/provider/accesses/cancel/",
        {"website": website, "reason": "欠费停机"},
        format="json",
    )
    decide(filing)

    shell = Website.objects.get(pk=website)
    assert shell.shell_since is not None
    assert shell.number  # still filed until the bureau cancels it after the notice period
    warned = Message.objects.filter(template="website_shell")
    assert set(warned.values_list("channel", flat=True)) == {"email", "sms"}
    assert shell.number in warned.get(channel="email").body
    answer = gating(provider, "example.cn")
    assert (answer["filed"], answer["access"]) == (True, False)
    audit = AuditLog.objects.filter(action="filing.approve_amendment").latest("id")
    assert audit.after["empty_shells"] == [shell.number]


def test_a_new_access_approved_for_a_shell_ends_its_notice():
    provider, rescuer = AccessProviderFactory(), AccessProviderFactory()
    owner = UserFactory()
    filing = approved_record(owner, provider=provider)
    (website,) = website_ids(filing)
    api(provider_staff(provider)).post(
        "/api/v1/provider/accesses/cancel/", {"website": website, "reason": "停机"}, format="json"
    )
    decide(filing)
    assert Website.objects.get(pk=website).shell_since is not None
    api(provider_staff(rescuer)).post(
        "/api/v1/provider/accesses/",
        {"website": website, "method": "cloud", "server_location": "11", "ips": ["121.40.8.5"]},
        format="json",
    )
    decide(filing)
    assert Website.objects.get(pk=website).shell_since is None
    assert gating(rescuer, "example.cn")["access"] is True


def test_with_the_setting_a_providers_withdrawal_takes_effect_at_once_and_is_audited(settings):
    settings.PROVIDER_ACCESS_CANCEL_AT_ONCE = True
    provider = AccessProviderFactory()
    filing = approved_record(UserFactory(), provider=provider)
    (website,) = website_ids(filing)
    staff = provider_staff(provider)

    answer = api(staff).post(
        "/api/v1/provider/accesses/cancel/", {"website": website, "reason": "已下线"}, format="json"
    )

    assert answer.json()["status"] == "approved"
    assert answer.json()["application"] is None
    assert gating(provider, "example.cn")["access"] is False
    entry = AuditLog.objects.get(action="access.cancel_at_once")
    assert entry.actor == staff
    assert Application.objects.get(filing=filing, kind="cancel_access").decided_by == staff


def test_the_owner_cancels_one_access_by_its_provider():
    first, second = AccessProviderFactory(), AccessProviderFactory()
    owner = UserFactory()
    filing = approved_record(owner, provider=first)
    (website,) = website_ids(filing)
    api(owner).post(
        f"/api/v1/filings/{filing.pk}/accesses/",
        {"website": website, **access_of(second)},
        format="json",
    )
    fs.to_bureau(filing)
    decide(filing)
    wrong = api(owner).post(
        f"/api/v1/filings/{filing.pk}/accesses/cancel/",
        {"website": website, "provider": "other", "reason": "换服务商"},
        format="json",
    )
    assert wrong.status_code == 400
    assert "provider" in wrong.json()
    answer = api(owner).post(
        f"/api/v1/filings/{filing.pk}/accesses/cancel/",
        {"website": website, "provider": first.pk, "reason": "换服务商"},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    decide(filing)
    assert [a["provider"] for a in answer.json()["websites"][0]["accesses"]] == [second.pk]
    assert gating(first, "example.cn")["access"] is False


# Cancelling a website (注销网站) ------------------------------------------------------------------


def public_numbers(domain: str) -> list[str]:
    results = APIClient().get("/api/v1/public/filings/", {"q": domain}).json()["results"]
    return [r["website_number"] for r in results]


def test_the_owner_cancels_one_of_two_websites_and_its_number_is_never_given_again(
    django_capture_on_commit_callbacks,
):
    owner = UserFactory()
    filing = approved_record(owner, websites=two_websites())
    first, second = website_ids(filing)
    cancelled_number = Website.objects.get(pk=second).number
    old = Certificate.objects.get(filing=filing, status="valid")

    answer = api(owner).post(
        f"/api/v1/filings/{filing.pk}/websites/{second}/cancel/",
        {"reason": "网站已停办"},
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    assert answer.json()["application"]["kind"] == "cancel_website"
    assert answer.json()["status"] == "amendment_pending"
    # Until the bureau decides, the website stays public.
    assert public_numbers("second-site.cn") == [cancelled_number]
    # The decision's commit drops the query's cached answers.
    with django_capture_on_commit_callbacks(execute=True):
        decide(filing)
    assert public_numbers("second-site.cn") == []
    assert gating(AccessProviderFactory(), "second-site.cn")["filed"] is False
    old.refresh_from_db()
    assert old.status == "superseded"
    new = Certificate.objects.get(filing=filing, status="valid")
    assert cancelled_number not in new.content
    assert Website.objects.get(pk=first).number in new.content
    assert "second-site.cn" not in new.domains

    # A website added later gets the next number, never the cancelled one.
    data = api(owner).get(f"/api/v1/filings/{filing.pk}/").json()
    data["websites"].append(
        fs.website(name="新网站", homepage="http://www.third-site.cn/", domains=["third-site.cn"])
        | {"number": cancelled_number}
    )
    assert api(owner).put(f"/api/v1/filings/{filing.pk}/", data, format="json").status_code == 200
    api(owner).post(f"/api/v1/filings/{filing.pk}/submit/")
    decide(fs.to_bureau(filing))
    numbers = set(Website.objects.filter(filing=filing).values_list("number", flat=True))
    assert cancelled_number not in numbers
    assert f"{filing.number}-3" in numbers


def test_the_last_website_cannot_be_cancelled_alone_and_the_owner_is_sent_to_revocation():
    owner = UserFactory()
    filing = approved_record(owner)
    (website,) = website_ids(filing)
    answer = api(owner).post(
        f"/api/v1/filings/{filing.pk}/websites/{website}/cancel/", {"reason": "停办"}, format="json"
    )
    assert answer.status_code == 400
    assert "注销主体" in str(answer.json()["website"]) or "revoke" in str(answer.json()["website"])
    filing.refresh_from_db()
    assert filing.status == "approved"


@pytest.mark.parametrize("how", ["refused", "withdrawn"])
def test_a_website_cancellation_refused_or_withdrawn_keeps_the_website_and_its_number(how):
    owner = UserFactory()
    filing = approved_record(owner, websites=two_websites())
    _first, second = website_ids(filing)
    number = Website.objects.get(pk=second).number
    api(owner).post(
        f"/api/v1/filings/{filing.pk}/websites/{second}/cancel/", {"reason": "停办"}, format="json"
    )
    if how == "refused":
        filing_reject(filing=filing, by=MinistryFactory(), reason="网站仍在使用，不予注销")
    else:
        assert api(owner).post(f"/api/v1/filings/{filing.pk}/withdraw/").status_code == 200

    filing.refresh_from_db()
    assert filing.status == "approved"
    restored = Website.objects.get(filing=filing, number=number)
    assert restored.accesses.count() == 1
    assert PublishedWebsite.objects.get(website_number=number).website == restored
    assert public_numbers("second-site.cn") == [number]


# Empty shells (空壳网站) --------------------------------------------------------------------------


def shell_of(filing, website: int, provider) -> None:
    """Leave ``website`` without access: its provider withdraws, the bureau approves."""
    api(provider_staff(provider)).post(
        "/api/v1/provider/accesses/cancel/", {"website": website, "reason": "停机"}, format="json"
    )
    decide(filing)


def test_the_bureau_lists_its_shells_and_cancels_those_past_notice_in_one_batch(
    otp_client, settings
):
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone

    from tests.review_support import beijing_reviewer, shanghai_reviewer

    provider = AccessProviderFactory()
    owner = UserFactory()
    filing = approved_record(owner, websites=two_websites(), provider=provider)
    _first, second = website_ids(filing)
    shell_of(filing, second, provider)
    number = Website.objects.get(pk=second).number
    reviewer = otp_client(beijing_reviewer())

    page = reviewer.get(reverse("review:shells"))
    assert number in page.content.decode()
    assert page.context["due_count"] == 0
    assert (
        number not in otp_client(shanghai_reviewer()).get(reverse("review:shells")).content.decode()
    )
    # Nothing is past its notice yet: the batch cancels nothing.
    reviewer.post(reverse("review:shells"))
    assert Website.objects.filter(number=number).exists()

    Website.objects.filter(pk=second).update(
        shell_since=timezone.now() - timedelta(days=settings.FILING_SHELL_NOTICE_DAYS + 1)
    )
    assert reviewer.get(reverse("review:shells")).context["due_count"] == 1
    reviewer.post(reverse("review:shells"))

    filing.refresh_from_db()
    assert filing.status == "approved"
    assert not Website.objects.filter(number=number).exists()
    assert not PublishedWebsite.objects.filter(website_number=number).exists()
    assert gating(provider, "second-site.cn")["filed"] is False
    assert gating(provider, "example.cn")["filed"] is True
    entry = AuditLog.objects.get(action="shell.cancel")
    assert entry.after["cancelled"] == [number]
    assert Message.objects.filter(to=owner.email, template="shells_cancelled").exists()
    assert number not in Certificate.objects.get(filing=filing, status="valid").content


def test_a_record_whose_only_website_is_a_shell_past_notice_is_revoked(settings):
    from datetime import timedelta

    from django.utils import timezone

    from review.shells import shells_cancel_due
    from tests.review_support import beijing_reviewer

    provider = AccessProviderFactory()
    owner = UserFactory()
    filing = approved_record(owner, provider=provider)
    (website,) = website_ids(filing)
    shell_of(filing, website, provider)
    Website.objects.filter(pk=website).update(
        shell_since=timezone.now() - timedelta(days=settings.FILING_SHELL_NOTICE_DAYS + 1)
    )

    reviewer = beijing_reviewer()
    run = shells_cancel_due(by=reviewer)

    assert run.revoked == [filing.number]
    # The revoked record's website leaves the list of shells.
    from review.shells import shells_in_scope

    assert not shells_in_scope(reviewer).exists()
    filing.refresh_from_db()
    owner.refresh_from_db()
    assert (filing.status, owner.is_active) == ("revoked", False)
    assert not Certificate.objects.filter(filing=filing, status="valid").exists()
    assert AuditLog.objects.filter(action="shell.revoke", target_id=str(filing.pk)).exists()


def test_a_shell_whose_record_has_an_application_open_is_left_for_a_later_batch(settings):
    from datetime import timedelta

    from django.utils import timezone

    from review.shells import shells_cancel_due
    from tests.review_support import beijing_reviewer

    provider, rescuer = AccessProviderFactory(), AccessProviderFactory()
    filing = approved_record(UserFactory(), websites=two_websites(), provider=provider)
    _first, second = website_ids(filing)
    shell_of(filing, second, provider)
    Website.objects.filter(pk=second).update(
        shell_since=timezone.now() - timedelta(days=settings.FILING_SHELL_NOTICE_DAYS + 1)
    )
    # A new access for the shell is on its way.
    api(provider_staff(rescuer)).post(
        "/api/v1/provider/accesses/",
        {"website": second, "method": "cloud", "server_location": "11", "ips": ["121.40.8.9"]},
        format="json",
    )

    run = shells_cancel_due(by=beijing_reviewer())

    assert (run.cancelled, run.skipped) == ([], [filing.number])
    assert Website.objects.filter(pk=second).exists()


def test_the_statistics_count_the_shells_of_the_province(otp_client):
    from django.urls import reverse

    from tests.review_support import beijing_reviewer

    provider = AccessProviderFactory()
    filing = approved_record(UserFactory(), websites=two_websites(), provider=provider)
    _first, second = website_ids(filing)
    shell_of(filing, second, provider)
    stats = otp_client(beijing_reviewer()).get(reverse("review:statistics")).context["stats"]
    assert stats.national.empty_shells == 1


# The owner's pages ----------------------------------------------------------------------------


def owner_page(owner):
    from django.test import Client

    client = Client()
    client.force_login(owner)
    return client


def test_the_owner_applies_for_a_new_access_on_the_page_and_a_mistake_keeps_the_typing():
    from django.urls import reverse

    provider = AccessProviderFactory(name="北京蓝山云计算有限公司")
    owner = UserFactory()
    filing = approved_record(owner)
    (website,) = website_ids(filing)
    page = owner_page(owner)
    tasks = page.get(reverse("filings:task_list")).content.decode()
    assert reverse("filings:access-new", args=[website]) in tasks
    url = reverse("filings:access-new", args=[website])

    wrong = page.post(
        url,
        {
            "access_provider": str(provider.pk),
            "access_method": "cloud",
            "server_location": "",
            "ips": "121.40.8.7\n10.1.1.1",
        },
    )
    assert wrong.status_code == 400
    body = wrong.content.decode()
    assert 'href="#f-w-server_location"' in body and 'href="#f-w-ips"' in body
    assert "121.40.8.7" in body and provider.name in body  # nothing typed is lost

    right = page.post(
        url,
        {
            "access_provider": str(provider.pk),
            "access_method": "cloud",
            "server_location": "11",
            "ips": "121.40.8.7",
        },
    )
    assert right.status_code == 302
    application = Application.objects.get(filing=filing, closed_at=None)
    assert (application.kind, application.provider_id) == ("new_access", provider.pk)


def test_the_owners_page_sends_the_last_website_to_revocation_and_cancels_another():
    from django.urls import reverse

    owner = UserFactory()
    filing = approved_record(owner, websites=two_websites())
    first, second = website_ids(filing)
    page = owner_page(owner)
    answer = page.post(reverse("filings:website-cancel", args=[second]), {"reason": ""})
    assert answer.status_code == 400
    assert 'href="#f-reason"' in answer.content.decode()
    assert (
        page.post(reverse("filings:website-cancel", args=[second]), {"reason": "停办"}).status_code
        == 302
    )
    assert Application.objects.get(filing=filing, closed_at=None).kind == "cancel_website"

    lone = UserFactory()
    single = approved_record(
        lone, websites=[fs.website(domains=["lone.cn"], homepage="http://lone.cn/")]
    )
    (only,) = website_ids(single)
    shown = owner_page(lone).get(reverse("filings:website-cancel", args=[only])).content.decode()
    assert "data-last-website" in shown
    assert reverse("filings:revocation") in shown
    # Another owner's website is not found.
    assert owner_page(lone).get(reverse("filings:website-cancel", args=[first])).status_code == 404


def test_cancelling_the_only_access_on_the_page_warns_of_the_empty_shell():
    from django.urls import reverse

    provider = AccessProviderFactory()
    owner = UserFactory()
    filing = approved_record(owner, provider=provider)
    (website,) = website_ids(filing)
    access = Website.objects.get(pk=website).accesses.get()
    url = reverse("filings:access-cancel", args=[website, access.pk])
    page = owner_page(owner)
    assert "data-last-access" in page.get(url).content.decode()
    assert page.post(url, {"reason": "迁移到其他服务商"}).status_code == 302
    application = Application.objects.get(filing=filing, closed_at=None)
    assert (application.kind, application.reason) == ("cancel_access", "迁移到其他服务商")


# What a first user found -----------------------------------------------------------------------

NUL = "\x00"


def test_a_control_character_in_a_reason_is_refused_on_its_field_at_every_entrance():
    from django.urls import reverse

    provider = AccessProviderFactory()
    owner = UserFactory()
    filing = approved_record(owner, websites=two_websites(), provider=provider)
    first, second = website_ids(filing)
    access = Website.objects.get(pk=first).accesses.get()
    reason = f"迁移{NUL}到别处"
    page = owner_page(owner)
    for url in (
        reverse("filings:access-cancel", args=[first, access.pk]),
        reverse("filings:website-cancel", args=[second]),
    ):
        answer = page.post(url, {"reason": reason})
        assert answer.status_code == 400
        assert 'href="#f-reason"' in answer.content.decode()
    calls = [
        (owner, f"/api/v1/filings/{filing.pk}/websites/{second}/cancel/", {"reason": reason}),
        (
            owner,
            f"/api/v1/filings/{filing.pk}/accesses/cancel/",
            {"website": first, "provider": provider.pk, "reason": reason},
        ),
        (
            provider_staff(provider),
            "/api/v1/provider/accesses/cancel/",
            {"website": first, "reason": reason},
        ),
    ]
    for user, url, body in calls:
        answer = api(user).post(url, body, format="json")
        assert answer.status_code == 400, (url, answer.content)
        assert "reason" in answer.json()
    assert not Application.objects.filter(filing=filing, closed_at=None).exists()


def test_a_record_approved_before_versions_were_kept_takes_a_new_access():
    from tests.providers_support import approved_filing

    filing = approved_filing(domains=["old-record.cn"])
    assert not filing.versions.exists()
    (website,) = website_ids(filing)
    provider = AccessProviderFactory()
    answer = api(provider_staff(provider)).post(
        "/api/v1/provider/accesses/",
        {"website": website, "method": "cloud", "server_location": "11", "ips": ["121.40.8.3"]},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    assert [a["provider"] for a in answer.json()["websites"][0]["accesses"]] == [
        "other",
        provider.pk,
    ]


def test_every_website_of_the_owners_json_shows_its_accesses_after_a_shorthand_write():
    owner = UserFactory()
    filing = fs.submitted_filing(owner)
    data = fs.data(websites=[fs.website(ips=["120.79.1.12"])])
    written = api(owner).put(f"/api/v1/filings/{filing.pk}/", data, format="json")
    assert written.status_code == 200
    for body in (written.json(), api(owner).get(f"/api/v1/filings/{filing.pk}/").json()):
        (website,) = body["websites"]
        assert website["accesses"] == [
            {
                "provider": "other",
                "method": "other",
                "server_location": "11",
                "ips": ["120.79.1.12"],
            }
        ]


def test_while_a_new_access_is_on_its_way_the_owner_is_not_offered_edits_it_cannot_submit():
    from django.urls import reverse

    owner = UserFactory()
    filing = approved_record(owner)
    (website,) = website_ids(filing)
    api(owner).post(
        f"/api/v1/filings/{filing.pk}/accesses/",
        {"website": website, **access_of(AccessProviderFactory())},
        format="json",
    )
    actions = owner_page(owner).get(reverse("filings:task_list")).context["actions"]
    assert "withdraw" in actions
    assert not {"edit", "amend", "submit", "discard"} & set(actions)
    data = api(owner).get(f"/api/v1/filings/{filing.pk}/").json()
    data["websites"][0]["name"] = "改名"
    answer = api(owner).put(f"/api/v1/filings/{filing.pk}/", data, format="json")
    assert answer.status_code == 409
    assert answer.json()["code"] == "application_open"


def test_a_provider_returns_a_further_access_by_its_own_name():
    from filings.selectors import return_field_label
    from filings.stages import returnable_paths

    paths = returnable_paths(
        {"sponsor": {}, "websites": [{"name": "x", "accesses": [{"ips": []}, {"ips": []}]}]}
    )
    assert "websites.0.accesses.1.ips" in paths and "websites.0.accesses" not in paths
    with translation.override("en"):
        assert return_field_label("websites.0.accesses.1.ips") == (
            "Website 1 · Access 2 · IP addresses"
        )


def test_a_provider_call_without_a_website_names_the_missing_fields():
    staff = provider_staff(AccessProviderFactory())
    applied = api(staff).post("/api/v1/provider/accesses/", {}, format="json")
    assert applied.status_code == 400
    assert "website" in applied.json()
    cancelled = api(staff).post("/api/v1/provider/accesses/cancel/", {}, format="json")
    assert cancelled.status_code == 400
    assert set(cancelled.json()) == {"website", "reason"}


def test_the_bureaus_queue_filters_the_changes_of_one_access_or_website(otp_client):
    from django.urls import reverse

    from tests.review_support import beijing_reviewer

    owner = UserFactory()
    filing = approved_record(owner, websites=two_websites())
    _first, second = website_ids(filing)
    api(owner).post(
        f"/api/v1/filings/{filing.pk}/websites/{second}/cancel/", {"reason": "停办"}, format="json"
    )
    reviewer = otp_client(beijing_reviewer())

    def found(kind):
        page = reviewer.get(reverse("review:queue"), {"kind": kind})
        return [row.pk for row in page.context["page"]]

    assert found("cancel_website") == [filing.pk]
    assert found("new_access") == [] == found("cancel_access")
    assert found("amendment") == [filing.pk]


def test_the_reviewer_reads_a_cancelled_access_as_that_access_removed():
    from filings.selectors import filing_changes

    first, second = AccessProviderFactory(name="甲云"), AccessProviderFactory(name="乙云")
    owner = UserFactory()
    filing = approved_record(owner, provider=first)
    (website,) = website_ids(filing)
    api(owner).post(
        f"/api/v1/filings/{filing.pk}/accesses/",
        {"website": website, **access_of(second)},
        format="json",
    )
    decide(fs.to_bureau(filing))
    api(owner).post(
        f"/api/v1/filings/{filing.pk}/accesses/cancel/",
        {"website": website, "provider": first.pk, "reason": "迁移"},
        format="json",
    )
    with translation.override("en"):
        changes = filing_changes(filing).since_approved
    assert {(c.field, c.before, c.after) for c in changes} >= {
        ("access provider (access at 甲云)", "甲云", ""),
        ("IP addresses (access at 甲云)", "120.79.1.10", ""),
    }
    assert not [c for c in changes if "乙云" in c.field]


@pytest.mark.stages
def test_a_returned_new_access_is_corrected_on_its_own_page_and_applied_for_again():
    from django.urls import reverse

    from filings.stages import provider_decide

    first, cdn = AccessProviderFactory(), AccessProviderFactory(name="蓝山内容分发网络有限公司")
    owner = UserFactory()
    filing = approved_record(owner, provider=first)
    (website,) = website_ids(filing)
    api(owner).post(
        f"/api/v1/filings/{filing.pk}/accesses/",
        {"website": website, **access_of(cdn)},
        format="json",
    )
    provider_decide(
        filing_id=filing.pk,
        by=provider_staff(cdn),
        action="return",
        returns=[{"field": "websites.0.accesses.1.ips", "reason": "该地址不属于本公司"}],
    )
    filing.refresh_from_db()
    assert filing.status == "returned"
    page = owner_page(owner)
    url = reverse("filings:access-new", args=[website])

    tasks = page.get(reverse("filings:task_list"))
    assert {"reapply", "withdraw"} <= set(tasks.context["actions"])
    body = tasks.content.decode()
    assert f'href="{url}" data-action="reapply"' in body and "修改后重新申请" in body
    assert f'href="{url}#f-w-ips"' in body  # the reason links to the field it is about

    shown = page.get(url)
    assert shown.status_code == 200
    form = shown.content.decode()
    assert "修改后重新申请" in form and 'id="f-w-ips-returned"' in form
    assert "该地址不属于本公司" in form
    assert "121.40.8.10" in form and f'value="{cdn.pk}"' in form  # what was applied for
    now = form[
        form.index("data-accesses-now") : form.index("</ul>", form.index("data-accesses-now"))
    ]
    assert first.name in now and cdn.name not in now  # the approved accesses only

    again = page.post(
        url,
        {
            "access_provider": str(cdn.pk),
            "access_method": "cloud",
            "server_location": "44",
            "ips": "121.40.8.11",
        },
    )
    assert again.status_code == 302
    filing.refresh_from_db()
    assert filing.status == "provider_review"
    application = Application.objects.get(filing=filing, closed_at=None)
    assert (application.kind, application.returns) == ("new_access", [])
    shown = api(owner).get(f"/api/v1/filings/{filing.pk}/").json()["websites"][0]
    assert shown["accesses"][1]["ips"] == ["121.40.8.11"]


@pytest.mark.stages
def test_a_providers_own_new_access_returned_after_a_lapsed_code_is_applied_for_again(
    time_machine,
):
    import datetime as dt

    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from filings.tasks import verification_lapse

    first, second = AccessProviderFactory(), AccessProviderFactory()
    filing = approved_record(UserFactory(), provider=first)
    number = Website.objects.get(filing=filing).number
    staff = provider_staff(second)
    console = Client()
    console.force_login(staff)
    typed = {"website_number": number, "method": "hosting", "server_location": "31"}
    console.post(reverse("providers:access-new"), {**typed, "ips": "121.40.8.20"})
    filing.refresh_from_db()
    assert filing.status == "verification"
    time_machine.move_to(timezone.now() + dt.timedelta(hours=25), tick=False)
    assert verification_lapse() == 1
    console.force_login(staff)  # a new day, a new sign-in

    listing = console.get(reverse("providers:accesses")).content.decode()
    applied = listing[listing.index("data-applied") :]
    assert "新增接入 · 已发回修改" in applied and 'data-action="reapply"' in applied
    link = applied.split('data-action="reapply"')[0].rsplit('href="', 1)[1].split('"')[0]
    form = console.get(link.replace("&amp;", "&")).content.decode()
    assert f'value="{number}"' in form and "121.40.8.20" in form
    assert '<option value="hosting" selected>' in form

    again = console.post(reverse("providers:access-new"), {**typed, "ips": "121.40.8.21"})
    assert again.status_code == 302
    filing.refresh_from_db()
    assert filing.status == "verification"


@pytest.mark.parametrize(
    ("written", "field"),
    [
        ({"provider": True}, "provider"),
        ({"provider": "cloud-company"}, "provider"),
        ({"server_location": ["11"]}, "server_location"),
        ({"server_location": "1" * 20}, "server_location"),
        ({"ips": 7}, "ips"),
        ({"ips": [f"121.40.8.{n}" for n in range(120)]}, "ips"),
        ({"ips": ["1" * 300]}, "ips"),
    ],
)
def test_a_draft_saved_through_the_api_reports_a_further_access_as_the_first(written, field):
    owner = UserFactory()
    filing = fs.submitted_filing(owner)
    data = api(owner).get(f"/api/v1/filings/{filing.pk}/").json()
    website = data["websites"][0]
    first = dict(website["accesses"][0])
    for key in ("ips", "server_location", "access_provider"):
        website.pop(key)

    website["accesses"] = [first, {**first, **written}]
    further = api(owner).put(f"/api/v1/filings/{filing.pk}/", data, format="json")
    website["accesses"] = [{**first, **written}]
    only = api(owner).put(f"/api/v1/filings/{filing.pk}/", data, format="json")

    assert (further.status_code, only.status_code) == (400, 400)
    (reported,) = further.json()["websites"]
    assert reported["accesses"][0] == {}
    assert reported["accesses"][1][field] == only.json()["websites"][0]["accesses"][0][field]
