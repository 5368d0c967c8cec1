"""Apps and mini-programs in the filing record (SPEC §13): the JSON, the rules, numbers,
conflicts, publishing and cancellation."""

import threading

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from filings.models import (
    App,
    Conflict,
    Filing,
    Identifier,
    MiniProgram,
    PublishedDomain,
    PublishedIdentifier,
    PublishedWebsite,
    Website,
)
from review.services import filing_approve
from tests import app_support as aps
from tests import filings_support as fs
from tests.factories import AccessProviderFactory, MinistryFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def record(**parts) -> dict:
    payload = fs.data()
    payload.update(parts)
    return payload


def submit(owner, payload) -> dict:
    client = api(owner)
    pk = client.post("/api/v1/filings/", payload, format="json").json()["id"]
    answer = client.post(f"/api/v1/filings/{pk}/submit/")
    return answer.status_code, answer.json()


def approved(owner, payload) -> Filing:
    status, body = submit(owner, payload)
    assert status == 200, body
    filing = fs.to_bureau(Filing.objects.get(pk=body["id"]))
    return fs.approve(filing)


def test_apps_and_mini_programs_are_filed_numbered_and_shown_in_the_json():
    owner = UserFactory()
    payload = record(apps=[aps.app()], mini_programs=[aps.mini_program()])

    filing = approved(owner, payload)

    body = api(owner).get(f"/api/v1/filings/{filing.pk}/").json()
    assert [w["number"] for w in body["websites"]] == [f"{filing.number}-1"]
    (app,) = body["apps"]
    assert app["number"] == f"{filing.number}-1A"
    assert set(app) == {
        "id",
        "name",
        "number",
        "platforms",
        "domains",
        "stores",
        "services",
        "commercial",
        "preapprovals",
        "accesses",
    }
    assert app["platforms"] == [aps.android()]
    assert app["domains"] == ["api.example.cn"]
    assert app["accesses"] == [aps.ACCESS]
    (program,) = body["mini_programs"]
    assert program["number"] == f"{filing.number}-1X"
    assert (program["platform"], program["platform_id"]) == ("wechat", "wx0123456789abcdef")
    assert set(program) == {
        "id",
        "name",
        "number",
        "platform",
        "platform_id",
        "services",
        "commercial",
        "preapprovals",
    }
    # The websites list holds websites only; the services keep their ids.
    assert app["id"] == App.objects.get(filing=filing).pk
    assert Website.objects.filter(filing=filing).count() == 1
    # The approval email lists every service under its kind.
    from beian.models import Message

    email = Message.objects.get(to=owner.email, template="review_approved", channel="email")
    assert "网站、App和小程序：" in email.body
    assert f"{filing.number}-1A  App  示例App" in email.body
    assert f"{filing.number}-1X  小程序  示例小程序" in email.body


def test_a_record_of_apps_only_is_filed_without_a_website():
    owner = UserFactory()
    filing = approved(
        owner,
        record(websites=[], apps=[aps.app(), aps.app(name="第二个App", platforms=[aps.ios()])]),
    )

    numbers = list(
        App.objects.filter(filing=filing).order_by("position").values_list("number", flat=True)
    )
    assert numbers == [f"{filing.number}-1A", f"{filing.number}-2A"]


def test_a_record_with_no_service_at_all_says_what_to_add():
    status, body = submit(UserFactory(), record(websites=[]))

    assert status == 400
    assert body["websites"] == ["请至少添加一个网站、App或小程序。"]


def test_every_problem_of_an_app_is_said_at_once_on_its_field():
    bad = aps.app(
        name="",
        platforms=[
            {
                "platform": "android",
                "identifier": "com.1bad",
                "public_key": "zz",
                "fingerprint": "12:34",
            },
            {
                "platform": "android",
                "identifier": "cn.example.two",
                "public_key": aps.ANDROID_KEY,
                "fingerprint": aps.ANDROID_MD5,
            },
        ],
        domains=["not a domain"],
        stores=[],
        accesses=[],
    )
    program = aps.mini_program(platform_id="wx12")

    status, body = submit(UserFactory(), record(apps=[bad], mini_programs=[program]))

    assert status == 400
    errors = body["apps"][0]
    assert set(errors) == {"name", "platforms", "domains", "stores", "accesses"}
    first, second = errors["platforms"]
    assert set(first) == {"identifier", "public_key", "fingerprint"}
    assert set(second) == {"platform"}
    assert "wx0123456789abcdef" in body["mini_programs"][0]["platform_id"][0]


def test_fingerprints_and_identifiers_are_stored_one_way_whatever_notation_was_typed():
    owner = UserFactory()
    colons = ":".join(aps.ANDROID_MD5[i : i + 2] for i in range(0, 32, 2)).lower()
    typed = aps.app(
        platforms=[aps.android(identifier="ｃｎ．example。beian.demo", fingerprint=colons)]
    )

    filing = approved(
        owner,
        record(apps=[typed], mini_programs=[aps.mini_program(platform_id="WX0123456789ABCDEF")]),
    )

    row = Identifier.objects.get(filing=filing, platform="android")
    assert (row.identifier, row.fingerprint) == (aps.ANDROID_PACKAGE, aps.ANDROID_MD5)
    assert (
        Identifier.objects.get(filing=filing, platform="wechat").identifier == "wx0123456789abcdef"
    )


def test_an_app_only_offered_by_an_unregistered_store_is_refused_on_its_stores():
    shop = AccessProviderFactory(name="某云")  # an access provider, not a distribution platform
    store = AccessProviderFactory(
        name="某应用商店", is_distribution_platform=True, is_access_provider=False
    )

    status, body = submit(UserFactory(), record(apps=[aps.app(stores=[shop.pk])]))
    assert status == 400
    assert "stores" in body["apps"][0]

    status, body = submit(UserFactory(), record(websites=[], apps=[aps.app(stores=[store.pk])]))
    assert status == 200, body


def test_the_same_package_name_under_another_account_is_a_conflict_of_the_later_filing():
    first = approved(UserFactory(), record(apps=[aps.app()]))
    later_owner = UserFactory()
    other_site = fs.website(name="另一个", domains=["another.cn"], homepage="http://another.cn/")

    status, body = submit(
        later_owner,
        fs.data(
            sponsor={"name": "另一家公司", "id_number": "91110000600037341L"},
            websites=[other_site],
        )
        | {"apps": [aps.app(name="冒名App")]},
    )

    assert status == 200, body
    (conflict,) = body["conflicts"]
    assert conflict == {
        "field": "app_identifier",
        "value": aps.ANDROID_PACKAGE,
        "other_filing": first.pk,
    }
    notice = Conflict.objects.get(filing=first, kind="later_claim")
    assert notice.field == "app_identifier"


def test_ios_bundle_ids_conflict_without_case_and_mini_program_ids_conflict_too():
    approved(
        UserFactory(),
        record(
            websites=[], apps=[aps.app(platforms=[aps.ios()])], mini_programs=[aps.mini_program()]
        ),
    )

    status, body = submit(
        UserFactory(),
        record(
            sponsor=fs.SPONSOR | {"name": "另一家公司", "id_number": "91110000600037341L"},
            websites=[],
            apps=[aps.app(platforms=[aps.ios(identifier=aps.IOS_BUNDLE.upper())])],
            mini_programs=[aps.mini_program()],
        ),
    )

    assert status == 200, body
    assert sorted(c["field"] for c in body["conflicts"]) == ["app_identifier", "mini_program_id"]


def test_approval_publishes_identifiers_but_not_an_apps_domains_for_gating():
    filing = approved(UserFactory(), record(apps=[aps.app()], mini_programs=[aps.mini_program()]))

    kinds = dict(
        PublishedWebsite.objects.filter(filing=filing).values_list("website_number", "service_type")
    )
    assert kinds == {
        f"{filing.number}-1": "website",
        f"{filing.number}-1A": "app",
        f"{filing.number}-1X": "mini_program",
    }
    assert set(
        PublishedIdentifier.objects.filter(filing=filing).values_list("identifier", flat=True)
    ) == {
        aps.ANDROID_PACKAGE,
        "wx0123456789abcdef",
    }
    assert not PublishedDomain.objects.filter(name="api.example.cn").exists()


def test_a_cancelled_apps_number_is_never_given_again():
    owner = UserFactory()
    filing = approved(
        owner,
        record(apps=[aps.app(), aps.app(name="二号", platforms=[aps.android("cn.example.two")])]),
    )
    second = App.objects.get(filing=filing, name="二号")
    assert second.number.endswith("-2A")

    client = api(owner)
    answer = client.post(
        f"/api/v1/filings/{filing.pk}/websites/{second.pk}/cancel/",
        {"reason": "下架"},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    filing = fs.approve(fs.to_bureau(Filing.objects.get(pk=filing.pk)))
    assert not App.objects.filter(pk=second.pk).exists()
    assert not PublishedWebsite.objects.filter(website_number=second.number).exists()

    data = client.get(f"/api/v1/filings/{filing.pk}/").json()
    data["apps"].append(aps.app(name="三号", platforms=[aps.android("cn.example.three")]))
    client.put(
        f"/api/v1/filings/{filing.pk}/",
        {k: data[k] for k in ("sponsor", "websites", "apps", "mini_programs")},
        format="json",
    )
    assert client.post(f"/api/v1/filings/{filing.pk}/submit/").status_code == 200
    fs.approve(fs.to_bureau(Filing.objects.get(pk=filing.pk)))

    assert App.objects.get(filing=filing, name="三号").number == f"{filing.number}-3A"


def test_cancelling_the_last_service_is_refused_even_when_it_is_an_app():
    owner = UserFactory()
    filing = approved(owner, record(websites=[], apps=[aps.app()]))
    only = App.objects.get(filing=filing)

    answer = api(owner).post(
        f"/api/v1/filings/{filing.pk}/websites/{only.pk}/cancel/", {"reason": "x"}, format="json"
    )

    assert answer.status_code == 400
    assert "website" in answer.json()


def test_an_access_of_an_app_counts_for_the_first_review():
    provider = AccessProviderFactory()
    status, body = submit(
        UserFactory(),
        record(websites=[], apps=[aps.app(accesses=[{**aps.ACCESS, "provider": provider.pk}])]),
    )

    assert status == 200, body
    assert body["application"]["provider"] == provider.pk
    assert body["status"] == "provider_review"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency needs row locks")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_approvals_number_each_kind_from_one_without_gaps_or_repeats(
    fast_password_hashing,
):
    from tests.review_support import beijing_reviewer

    filings = []
    for i in range(4):
        owner = UserFactory()
        payload = record(
            sponsor=fs.SPONSOR
            | {
                "name": f"并行公司{i}",
                "principal": fs.SPONSOR["principal"]
                | {"mobile": f"1360000{i:04d}", "email": f"p{i}@example.cn"},
            },
            websites=[fs.website(domains=[f"par{i}.cn"], homepage=f"http://par{i}.cn/")],
            apps=[
                aps.app(platforms=[aps.android(f"cn.par{i}.one")]),
                aps.app(name="二", platforms=[aps.android(f"cn.par{i}.two")]),
            ],
            mini_programs=[aps.mini_program(platform_id=f"wx{i:016x}")],
        )
        status, body = submit(owner, payload)
        assert status == 200, body
        filings.append(fs.to_bureau(Filing.objects.get(pk=body["id"])))
    barrier = threading.Barrier(len(filings))
    errors = []
    reviewers = [beijing_reviewer() if i % 2 else MinistryFactory() for i in range(len(filings))]

    def run(filing, reviewer):
        try:
            barrier.wait(timeout=20)
            filing_approve(filing=filing, by=reviewer)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=pair) for pair in zip(filings, reviewers, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    for filing in filings:
        filing.refresh_from_db()
        numbers = sorted(Website.every_kind.filter(filing=filing).values_list("number", flat=True))
        assert numbers == sorted(
            [
                f"{filing.number}-1",
                f"{filing.number}-1A",
                f"{filing.number}-2A",
                f"{filing.number}-1X",
            ]
        )
    assert MiniProgram.objects.filter(filing__in=filings).count() == 4


def test_an_app_whose_last_access_is_withdrawn_is_an_empty_shell_and_is_cancelled_past_notice(
    otp_client, settings
):
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone

    from tests.review_support import beijing_reviewer

    provider = AccessProviderFactory()
    owner = UserFactory()
    filing = approved(
        owner, record(apps=[aps.app(accesses=[{**aps.ACCESS, "provider": provider.pk}])])
    )
    app = App.objects.get(filing=filing)
    staff = UserFactory(role="provider", provider=provider)

    answer = api(staff).post(
        "/api/v1/provider/accesses/cancel/",
        {"website": app.pk, "reason": "欠费停机"},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    fs.approve(Filing.objects.get(pk=filing.pk))

    app.refresh_from_db()
    assert app.shell_since is not None
    App.objects.filter(pk=app.pk).update(
        shell_since=timezone.now() - timedelta(days=settings.FILING_SHELL_NOTICE_DAYS + 1)
    )
    reviewer = otp_client(beijing_reviewer())
    assert app.number in reviewer.get(reverse("review:shells")).content.decode()
    reviewer.post(reverse("review:shells"))

    assert not App.objects.filter(pk=app.pk).exists()
    assert Website.objects.filter(filing=filing).count() == 1
    assert not PublishedWebsite.objects.filter(website_number=app.number).exists()


def test_a_provider_returns_an_application_on_an_apps_fingerprint_and_a_mini_programs_id():
    from filings.selectors import return_fields

    provider = AccessProviderFactory()
    status, body = submit(
        UserFactory(),
        record(
            websites=[],
            apps=[aps.app(accesses=[{**aps.ACCESS, "provider": provider.pk}])],
            mini_programs=[aps.mini_program()],
        ),
    )
    assert body["status"] == "provider_review"
    staff = UserFactory(role="provider", provider=provider)
    labels = dict(return_fields(body))
    assert labels["apps.0.platforms.0.fingerprint"] == "App 1 · 平台 1 · 证书指纹"
    assert "mini_programs.0.platform_id" in labels

    answer = api(staff).post(
        f"/api/v1/provider/reviews/{body['id']}/decision/",
        {
            "action": "return",
            "returns": [
                {"field": "apps.0.platforms.0.fingerprint", "reason": "与安装包签名不一致"},
                {"field": "mini_programs.0.platform_id", "reason": "AppID有误"},
            ],
        },
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "returned"
    assert [r["field"] for r in answer.json()["application"]["returns"]] == [
        "apps.0.platforms.0.fingerprint",
        "mini_programs.0.platform_id",
    ]


def test_a_commercial_app_and_a_news_mini_program_without_its_approval_are_refused():
    status, body = submit(
        UserFactory(),
        record(
            apps=[aps.app(commercial=True)],
            mini_programs=[aps.mini_program(services=["news"])],
        ),
    )

    assert status == 400
    assert "增值电信业务经营许可证" in body["apps"][0]["commercial"][0]
    (entry,) = body["mini_programs"][0]["preapprovals"]
    assert set(entry) == {"authority", "document_number", "document"}


def test_the_owner_cancels_an_app_and_a_mini_program_from_the_task_list():
    from django.test import Client
    from django.urls import reverse

    owner = UserFactory()
    filing = approved(owner, record(apps=[aps.app()], mini_programs=[aps.mini_program()]))
    app = App.objects.get(filing=filing)
    program = MiniProgram.objects.get(filing=filing)
    page = Client()
    page.force_login(owner)

    tasks = page.get(reverse("filings:task_list")).content.decode()
    assert app.number in tasks and program.number in tasks
    assert reverse("filings:website-cancel", args=[app.pk]) in tasks
    assert reverse("filings:access-new", args=[app.pk]) in tasks
    # A mini-program has no access of its own to add.
    assert page.get(reverse("filings:access-new", args=[program.pk])).status_code == 404

    shown = page.get(reverse("filings:website-cancel", args=[program.pk])).content.decode()
    assert "注销小程序" in shown
    answer = page.post(reverse("filings:website-cancel", args=[program.pk]), {"reason": "停止运营"})
    assert answer.status_code == 302
    filing = fs.approve(Filing.objects.get(pk=filing.pk))
    assert not MiniProgram.objects.filter(filing=filing).exists()
    assert App.objects.filter(filing=filing).count() == 1


def test_a_returned_new_access_of_an_app_is_corrected_on_its_own_page_and_applied_again():
    from django.test import Client
    from django.urls import reverse

    from filings.models import Application

    cdn = AccessProviderFactory(name="上海青云内容分发有限公司")
    owner = UserFactory()
    filing = approved(owner, record(apps=[aps.app()]))
    app = App.objects.get(filing=filing)
    page = Client()
    page.force_login(owner)
    url = reverse("filings:access-new", args=[app.pk])
    applied = page.post(
        url,
        {
            "access_provider": str(cdn.pk),
            "access_method": "cloud",
            "server_location": "31",
            "ips": "121.40.8.7",
        },
    )
    assert applied.status_code == 302
    staff = UserFactory(role="provider", provider=cdn)
    returned = api(staff).post(
        f"/api/v1/provider/reviews/{filing.pk}/decision/",
        {"action": "return", "returns": [{"field": "apps.0.accesses.1.ips", "reason": "IP有误"}]},
        format="json",
    )
    assert returned.json()["status"] == "returned"

    tasks = page.get(reverse("filings:task_list")).content.decode()
    assert f"{url}#f-w-ips" in tasks
    shown = page.get(url).content.decode()
    assert "IP有误" in shown and "121.40.8.7" in shown
    again = page.post(
        url,
        {
            "access_provider": str(cdn.pk),
            "access_method": "cloud",
            "server_location": "31",
            "ips": "121.40.8.8",
        },
    )
    assert again.status_code == 302
    application = Application.objects.get(filing=filing, closed_at=None)
    assert (application.kind, application.status) == ("new_access", "provider_review")


def test_a_provider_withdraws_its_access_to_an_app_in_its_console_by_the_apps_number():
    from django.test import Client
    from django.urls import reverse

    from filings.models import Application

    provider = AccessProviderFactory()
    owner = UserFactory()
    filing = approved(
        owner,
        record(
            apps=[
                aps.app(
                    accesses=[
                        {**aps.ACCESS, "provider": provider.pk},
                        {**aps.ACCESS, "ips": ["120.79.1.21"]},
                    ]
                )
            ]
        ),
    )
    app = App.objects.get(filing=filing)
    console = Client()
    console.force_login(UserFactory(role="provider", provider=provider))

    typed = app.number.replace("-", "－").lower()  # full-width dash, lower-case letter
    answer = console.post(
        reverse("providers:access-withdraw"),
        {"website_number": typed, "reason": "停止服务", "confirm": app.number},
    )

    assert answer.status_code == 302, answer.content.decode()[:2000]
    application = Application.objects.get(filing=filing, closed_at=None)
    assert application.kind == "cancel_access"
