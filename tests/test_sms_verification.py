"""The SMS verification (短信核验, SPEC §12) and the owner's side of the stages: the public
page and API that confirm a code, its limits and lapse, the owner's task list at each stage,
a new code, the reasons of a return beside their fields, and withdrawing at every stage."""

import datetime as dt
import re

import pytest
from django.core.management import call_command
from django.db import connection  # noqa: F401 - read by the skipif conditions
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from beian import limits
from beian.delivery import outbox
from beian.models import Message
from beian.workdays import add_working_days
from filings import stages
from filings.models import Application, Filing
from filings.serializers import filing_as_json
from filings.services import filing_save_data, filing_submit
from tests import filings_support as fs
from tests.factories import AccessProviderFactory, UserFactory
from tests.providers_support import provider_staff

pytestmark = [
    pytest.mark.stages,
    pytest.mark.django_db,
    pytest.mark.usefixtures("fast_password_hashing"),
]

MOBILE = fs.SPONSOR["principal"]["mobile"]  # 13700000001
LAST6 = fs.RESIDENT_ID[-6:]  # 31002X


def codes_sent(mobile=MOBILE) -> list[str]:
    """The codes of the verification SMS sent to ``mobile``, newest first."""
    found = []
    for message in outbox(to=mobile):
        match = re.search(r"\b(\d{6})\b", message["body"])
        if message["channel"] == "sms" and match and "/verification/" in message["body"]:
            found.append(match.group(1))
    return found


def submitted(owner=None, payload=None) -> Filing:
    return fs.submitted_filing(owner or UserFactory(), payload)


def page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def confirm_by_page(mobile=MOBILE, code=None, last6=LAST6, client=None):
    client = client or Client()
    return client.post(
        reverse("public:verification"),
        {
            "mobile": mobile,
            "code": code if code is not None else codes_sent()[0],
            "id_last6": last6,
        },
    )


def today_deadline() -> dt.date:
    return add_working_days(timezone.localdate(), 20)


# --- Submission reaches the verification ------------------------------------------------------


def test_an_owner_filing_naming_other_goes_to_verification_with_a_code_by_sms():
    filing = submitted()

    assert filing.status == Filing.Status.VERIFICATION
    application = Application.objects.get(filing=filing, closed_at__isnull=True)
    assert application.status == Filing.Status.VERIFICATION
    assert application.provider_id is None
    assert application.verification_expires_at > timezone.now() + dt.timedelta(hours=23)
    (code,) = codes_sent()
    assert application.verification_code_hash and code not in application.verification_code_hash


def test_the_code_is_sent_even_when_the_owners_code_limits_are_used_up(settings):
    settings.ACCOUNTS_CODE_RATE_PER_RECIPIENT = "1/hour"
    limits.take(limits.Charge("code-to", MOBILE))  # the mobile had its code this hour

    submitted()

    assert len(codes_sent()) == 1


def test_the_outbox_command_shows_the_code(capsys):
    submitted()
    call_command("outbox", "--json", "--to", MOBILE)

    assert codes_sent()[0] in capsys.readouterr().out


def test_the_link_in_the_sms_lands_on_the_verification_page(settings, client):
    submitted()
    body = outbox(to=MOBILE)[0]["body"]
    url = re.search(r"(https?://\S+/verification/)", body).group(1)

    assert url == f"{settings.PORTAL_URL}/verification/"
    response = client.get(url.removeprefix(settings.PORTAL_URL))
    assert response.status_code == 200
    assert 'name="id_last6"' in response.content.decode()


# --- Confirming: the page -----------------------------------------------------------------


def test_confirming_on_the_page_sends_it_to_the_bureau_with_20_working_days():
    filing = submitted()

    response = confirm_by_page(mobile="137 0000 0001", last6=LAST6.lower())

    assert response.status_code == 200
    body = response.content.decode()
    filing.refresh_from_db()
    assert filing.status == Filing.Status.PENDING_REVIEW
    assert filing.review_deadline == today_deadline()
    assert filing.review_deadline.strftime("%Y-%m-%d") in body
    assert "北京市通信管理局" in body
    assert fs.RESIDENT_ID not in body and MOBILE not in body
    application = Application.objects.get(filing=filing, closed_at__isnull=True)
    assert application.status == Filing.Status.PENDING_REVIEW
    assert application.verified_at is not None


def test_the_page_keeps_what_was_typed_but_the_code_and_says_what_is_wrong():
    filing = submitted()

    response = confirm_by_page(mobile="12345", code="12a", last6="12")

    assert response.status_code == 400
    body = response.content.decode()
    for name in ("mobile", "code", "id_last6"):
        assert f'id="id_{name}_error"' in body
        assert re.search(rf'<input[^>]*name="{name}"[^>]*aria-invalid="true"', body)
    assert 'value="12345"' in body and 'value="12"' in body
    assert 'value="12a"' not in body
    assert 'id="error-summary"' in body
    filing.refresh_from_db()
    assert filing.status == Filing.Status.VERIFICATION


def test_a_code_typed_beside_a_malformed_mobile_is_kept():
    submitted()
    right = codes_sent()[0]

    response = confirm_by_page(mobile="1381111999x", code=right)

    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_mobile_error"' in body and 'id="id_code_error"' not in body
    assert f'value="{right}"' in body


@pytest.mark.parametrize(
    "change",
    [
        {"code": "wrong"},
        {"last6": "99999X"},
        {"mobile": "13900000009"},
    ],
)
def test_a_wrong_code_last6_or_mobile_is_refused_on_the_code_field(change):
    filing = submitted()
    right = codes_sent()[0]
    code = change.get("code")
    if code == "wrong":
        code = f"{(int(right) + 1) % 1_000_000:06d}"

    response = confirm_by_page(
        mobile=change.get("mobile", MOBILE), code=code or right, last6=change.get("last6", LAST6)
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_code_error"' in body
    assert "do not match" in body or "不匹配" in body
    filing.refresh_from_db()
    assert filing.status == Filing.Status.VERIFICATION


def test_five_wrong_tries_kill_the_code():
    filing = submitted()
    right = codes_sent()[0]
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _try in range(5):
        assert confirm_by_page(code=wrong).status_code == 400

    assert confirm_by_page(code=right).status_code == 400
    filing.refresh_from_db()
    assert filing.status == Filing.Status.VERIFICATION


def test_an_expired_code_is_refused(time_machine):
    filing = submitted()
    time_machine.move_to(timezone.now() + dt.timedelta(hours=24, minutes=1), tick=False)

    assert confirm_by_page().status_code == 400
    filing.refresh_from_db()
    assert filing.status == Filing.Status.VERIFICATION


def test_too_many_tries_from_one_address_answer_429_with_the_wait(settings):
    settings.FILING_VERIFICATION_TRIES_PER_IP = "2/hour"
    submitted()
    right = codes_sent()[0]
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    client = Client()
    confirm_by_page(code=wrong, client=client)
    confirm_by_page(code=wrong, client=client)

    response = confirm_by_page(code=right, client=client)

    assert response.status_code == 429
    body = response.content.decode()
    assert re.search(r"\d+ *分钟", body)
    assert 'id="error-summary"' in body
    assert 'value="13700000001"' in body
    api_answer = APIClient().post(
        "/api/v1/verification/", {"mobile": MOBILE, "code": right, "id_last6": LAST6}, format="json"
    )
    assert api_answer.status_code == 429
    assert "Retry-After" in api_answer


def test_the_page_is_in_english_too():
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    body = client.get(reverse("public:verification")).content.decode()

    assert "SMS verification of a filing" in body
    assert "Last 6 characters of the certificate number" in body


# --- Confirming: the API [contract] ----------------------------------------------------------


def test_the_api_confirms_with_a_small_body():
    filing = submitted()

    response = APIClient().post(
        "/api/v1/verification/",
        {"mobile": MOBILE, "code": codes_sent()[0], "id_last6": LAST6},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {
        "status": "pending_review",
        "review_deadline": today_deadline().isoformat(),
    }
    filing.refresh_from_db()
    assert filing.status == Filing.Status.PENDING_REVIEW
    assert filing.applications.get(closed_at__isnull=True).status == "pending_review"


def test_the_api_answers_field_errors():
    submitted()

    malformed = APIClient().post(
        "/api/v1/verification/", {"mobile": "abc", "code": "12", "id_last6": ""}, format="json"
    )
    wrong_type = APIClient().post(
        "/api/v1/verification/", {"mobile": ["x"], "code": {}, "id_last6": 1.5}, format="json"
    )
    wrong = APIClient().post(
        "/api/v1/verification/",
        {
            "mobile": MOBILE,
            "code": "000000" if codes_sent()[0] != "000000" else "111111",
            "id_last6": LAST6,
        },
        format="json",
    )

    assert malformed.status_code == 400
    assert set(malformed.json()) == {"mobile", "code", "id_last6"}
    assert wrong_type.status_code == 400
    assert set(wrong_type.json()) == {"mobile", "code", "id_last6"}
    assert wrong.status_code == 400
    assert list(wrong.json()) == ["code"]


def test_the_api_call_is_in_the_schema():
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/v1/verification/"]["post"]
    assert {"200", "400", "429"} <= set(operation["responses"])
    assert "/api/v1/filings/{id}/verification/resend/" in schema["paths"]


# --- A lapsed code: returned, told, submitted again -------------------------------------------


def test_the_beat_task_returns_lapsed_verifications_and_a_second_submission_gets_a_new_code(
    time_machine,
):
    owner = UserFactory()
    filing = submitted(owner)
    old_code = codes_sent()[0]
    time_machine.move_to(timezone.now() + dt.timedelta(hours=25), tick=False)

    from filings.tasks import verification_lapse

    assert verification_lapse() == 1
    assert verification_lapse() == 0  # safe to run again

    filing.refresh_from_db()
    assert filing.status == Filing.Status.RETURNED
    application = filing.applications.get(closed_at__isnull=True)
    assert application.returns[0]["field"] == "sponsor.principal.mobile"
    assert Message.objects.filter(channel="sms", to=owner.mobile).exists()
    assert Message.objects.filter(channel="email", to=owner.email).exists()

    tasks = page(owner).get(reverse("filings:task_list")).content.decode()
    assert 'data-stage="returned"' in tasks and 'data-whose="owner"' in tasks
    assert 'data-return-field="f-sponsor-principal-mobile"' in tasks
    sponsor_page = page(owner).get(reverse("filings:sponsor")).content.decode()
    assert 'id="f-sponsor-principal-mobile-returned"' in sponsor_page
    assert re.search(
        r'<input[^>]*id="f-sponsor-principal-mobile"[^>]*aria-describedby="[^"]*'
        r"f-sponsor-principal-mobile-returned",
        sponsor_page,
    )

    # Submitted again unchanged: the verification again, with a new code.
    again = page(owner).post(reverse("filings:check_answers"))
    assert again.status_code == 302
    filing.refresh_from_db()
    assert filing.status == Filing.Status.VERIFICATION
    new_code = codes_sent()[0]
    assert len(codes_sent()) == 2
    assert confirm_by_page(code=old_code).status_code == 400 or old_code == new_code
    assert confirm_by_page(code=new_code).status_code == 200


def test_submitting_again_skips_a_provider_that_passed_it(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    provider = AccessProviderFactory()
    staff = provider_staff(provider)
    owner = UserFactory()
    filing = submitted(owner, fs.data(websites=[fs.website(access_provider=provider.pk)]))
    assert filing.status == Filing.Status.PROVIDER_REVIEW

    from django.core.files.base import ContentFile

    record = stages.Record(ContentFile(fs.PDF_BYTES), "application/pdf", "a" * 64)
    stages.provider_decide(
        filing_id=filing.pk,
        by=staff,
        action="pass",
        checklist=list(stages.CHECKLIST_CODES),
        record=record,
    )
    filing.refresh_from_db()
    assert filing.status == Filing.Status.VERIFICATION
    stages.verification_lapse_due(now=timezone.now() + dt.timedelta(hours=25))
    filing.refresh_from_db()
    assert filing.status == Filing.Status.RETURNED

    filing_submit(filing=filing, by=owner)

    filing.refresh_from_db()
    assert filing.status == Filing.Status.VERIFICATION
    assert len(codes_sent()) == 2


def test_a_changed_application_goes_back_to_the_provider_that_passed_it(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    provider = AccessProviderFactory()
    owner = UserFactory()
    filing = submitted(owner, fs.data(websites=[fs.website(access_provider=provider.pk)]))
    fs.first_review_pass(filing, by=provider_staff(provider))
    stages.verification_lapse_due(now=timezone.now() + dt.timedelta(hours=25))
    filing.refresh_from_db()
    assert filing.status == Filing.Status.RETURNED

    changed = fs.data(websites=[fs.website(access_provider=provider.pk, name="改过名字的网站")])
    filing_save_data(filing=filing, by=owner, data=changed)
    filing_submit(filing=filing, by=owner)

    filing.refresh_from_db()
    application = filing.applications.get(closed_at__isnull=True)
    # The provider vouches only for what it saw: a change waits for its first review again.
    assert filing.status == application.status == Filing.Status.PROVIDER_REVIEW
    assert application.provider_passed_at is None and application.returns == []
    assert len(codes_sent()) == 1


# --- The owner's task list and a new code -----------------------------------------------------


def test_the_task_list_says_whose_move_it_is_and_by_when():
    provider = AccessProviderFactory(name="华北云计算有限公司")
    owner = UserFactory()
    filing = submitted(owner, fs.data(websites=[fs.website(access_provider=provider.pk)]))
    application = filing.applications.get(closed_at__isnull=True)

    body = page(owner).get(reverse("filings:task_list")).content.decode()

    assert 'data-stage="provider_review"' in body and 'data-whose="provider"' in body
    assert "华北云计算有限公司" in body
    assert f'data-until="{application.provider_deadline:%Y-%m-%d}"' in body


def test_the_task_list_reads_the_stage_in_a_few_queries(django_assert_max_num_queries):
    provider = AccessProviderFactory()
    owner = UserFactory()
    submitted(owner, fs.data(websites=[fs.website(access_provider=provider.pk)]))
    client = page(owner)

    with django_assert_max_num_queries(23):
        body = client.get(reverse("filings:task_list")).content.decode()
    assert 'data-whose="provider"' in body


def test_the_task_list_at_verification_shows_the_phone_and_the_code_expiry():
    owner = UserFactory()
    filing = submitted(owner)
    expires = timezone.localtime(
        filing.applications.get(closed_at__isnull=True).verification_expires_at
    )

    body = page(owner).get(reverse("filings:task_list")).content.decode()

    assert 'data-whose="phone"' in body and "137****0001" in body
    assert f'data-until="{expires:%Y-%m-%d %H:%M}"' in body
    assert 'data-action="resend_code"' in body


def test_the_task_list_at_the_bureau_names_the_bureau_and_its_deadline():
    owner = UserFactory()
    filing = submitted(owner)
    confirm_by_page()
    filing.refresh_from_db()

    body = page(owner).get(reverse("filings:task_list")).content.decode()

    assert 'data-whose="bureau"' in body and "北京市通信管理局" in body
    assert f'data-deadline="{filing.review_deadline:%Y-%m-%d}"' in body


def test_a_new_code_replaces_the_old_one_and_is_rate_limited(settings):
    settings.ACCOUNTS_CODE_RATE_PER_RECIPIENT = "1/hour"
    owner = UserFactory()
    filing = submitted(owner)
    old = codes_sent()[0]
    client = page(owner)

    sent = client.post(reverse("filings:verification-resend"), follow=True)

    assert sent.status_code == 200
    assert len(codes_sent()) == 2
    new = codes_sent()[0]
    assert "137****0001" in sent.content.decode()

    limited = client.post(reverse("filings:verification-resend"), follow=True)
    assert len(codes_sent()) == 2
    assert re.search(r"验证码发送过于频繁，请\d+分钟后再试", limited.content.decode())
    by_api = api(owner).post(f"/api/v1/filings/{filing.pk}/verification/resend/")
    assert by_api.status_code == 429
    assert "Retry-After" in by_api

    if old != new:
        assert confirm_by_page(code=old).status_code == 400
    assert confirm_by_page(code=new).status_code == 200


def test_the_resend_api_answers_the_filing_and_refuses_at_another_stage():
    owner = UserFactory()
    filing = submitted(owner)

    response = api(owner).post(f"/api/v1/filings/{filing.pk}/verification/resend/")

    assert response.status_code == 200
    assert response.json()["status"] == "verification"
    assert response.json()["application"]["verification_expires_at"]
    confirm_by_page()
    again = api(owner).post(f"/api/v1/filings/{filing.pk}/verification/resend/")
    assert again.status_code == 409
    other = api(UserFactory()).post(f"/api/v1/filings/{filing.pk}/verification/resend/")
    assert other.status_code == 404


def test_asking_for_a_new_code_with_nothing_waiting_for_one_says_so():
    owner = UserFactory()
    filing = submitted(owner)
    assert confirm_by_page().status_code == 200

    at_bureau = api(owner).post(f"/api/v1/filings/{filing.pk}/verification/resend/")
    fs.approve(Filing.objects.get(pk=filing.pk))
    approved = api(owner).post(f"/api/v1/filings/{filing.pk}/verification/resend/")
    by_page = page(owner).post(reverse("filings:verification-resend"), follow=True)

    assert at_bureau.status_code == 409
    assert at_bureau.json()["detail"] == "该申请当前不在等待短信验证码：申请状态为待审核。"
    assert approved.status_code == 409
    assert approved.json() == {"detail": "没有等待短信验证码的申请。", "code": "invalid_state"}
    assert "没有等待短信验证码的申请。" in by_page.content.decode()
    assert "不在此环节" not in by_page.content.decode()


# --- The reasons of a provider's return beside their fields -----------------------------------


def test_a_providers_return_shows_each_reason_beside_its_field_and_keeps_the_typing():
    provider = AccessProviderFactory()
    staff = provider_staff(provider)
    owner = UserFactory()
    websites = [
        fs.website(access_provider=provider.pk),
        fs.website(
            name="第二网站",
            homepage="http://www.second.cn/",
            domains=["second.cn"],
            access_provider=provider.pk,
        ),
    ]
    filing = submitted(owner, fs.data(websites=websites))
    stages.provider_decide(
        filing_id=filing.pk,
        by=staff,
        action="return",
        reason="请补充核验单",
        returns=[
            {"field": "sponsor.principal.mobile", "reason": "手机号不是负责人本人的"},
            {"field": "websites.1.domains", "reason": "域名不是主办者实名"},
            {"field": "websites.0.homepage", "reason": "首页无法访问"},
        ],
    )
    client = page(owner)

    tasks = client.get(reverse("filings:task_list")).content.decode()
    for reason in ("手机号不是负责人本人的", "域名不是主办者实名", "首页无法访问", "请补充核验单"):
        assert reason in tasks
    assert "data-return-general" in tasks

    listed = client.get(reverse("filings:websites")).content.decode()
    assert 'data-return-field="f-w-domains"' in listed and "域名不是主办者实名" in listed
    assert reverse("filings:website", args=[1]) + "#f-w-domains" in listed
    assert "手机号不是负责人本人的" not in listed
    sponsor_page = client.get(reverse("filings:sponsor")).content.decode()
    assert re.search(r'id="f-sponsor-principal-mobile-returned"[^>]*>.*手机号不是', sponsor_page)
    check = client.get(reverse("filings:check_answers")).content.decode()
    for reason in ("手机号不是负责人本人的", "域名不是主办者实名", "首页无法访问", "请补充核验单"):
        assert reason in check

    first = client.get(reverse("filings:website", args=[0])).content.decode()
    assert re.search(r'id="f-w-homepage-returned"[^>]*>.*首页无法访问', first)
    assert "域名不是主办者实名" not in first
    assert "请补充核验单" in first  # the general reason, at the top of every page
    second = client.get(reverse("filings:website", args=[1])).content.decode()
    assert re.search(r'id="f-w-domains-returned"[^>]*>.*域名不是主办者实名', second)
    assert "首页无法访问" not in second

    # The owner corrects the homepage; the page saves it and moves on.
    form = {
        "name": "示例网站",
        "homepage": "https://www.example.cn/index.html",
        "domains": "example.cn",
        "ips": "120.79.1.10",
        "services": "corporate",
        "commercial": "no",
        "server_location": "11",
        "access_provider": str(provider.pk),
    }
    saved = client.post(reverse("filings:website", args=[0]), form)
    assert saved.status_code == 302
    kept = client.get(reverse("filings:website", args=[0])).content.decode()
    assert "https://www.example.cn/index.html" in kept

    resubmitted = client.post(reverse("filings:check_answers"))
    assert resubmitted.status_code == 302
    filing.refresh_from_db()
    assert filing.status == Filing.Status.PROVIDER_REVIEW
    assert filing.applications.get(closed_at__isnull=True).returns == []
    tasks = client.get(reverse("filings:task_list")).content.decode()
    assert "首页无法访问" not in tasks


# --- Withdrawing at every stage ----------------------------------------------------------------


def approved_record(owner):
    filing = submitted(owner)
    stages.verification_confirm(mobile=MOBILE, code=codes_sent()[0], id_last6=LAST6, ip=None)
    filing.refresh_from_db()
    return fs.approve(filing)


def to_stage(filing, owner, stage, provider=None):
    """Move the open application of ``filing`` to ``stage`` through the services."""
    if stage == "provider_review":
        return filing
    if stage == "returned":
        if provider is not None:
            stages.provider_decide(
                filing_id=filing.pk, by=provider_staff(provider), action="return", reason="不全"
            )
        else:
            stages.verification_lapse_due(now=timezone.now() + dt.timedelta(hours=25))
    if stage == "pending_review":
        stages.verification_confirm(mobile=MOBILE, code=codes_sent()[0], id_last6=LAST6, ip=None)
    filing.refresh_from_db()
    return filing


@pytest.mark.parametrize("stage", ["provider_review", "verification", "returned", "pending_review"])
@pytest.mark.parametrize("how", ["page", "api"])
def test_withdrawing_a_first_filing_at_any_stage_leaves_a_draft(stage, how):
    owner = UserFactory()
    provider = AccessProviderFactory() if stage == "provider_review" else None
    websites = [fs.website(access_provider=provider.pk)] if provider else None
    filing = submitted(owner, fs.data(websites=websites))
    filing = to_stage(filing, owner, stage, provider)
    assert filing.status == stage

    if how == "page":
        client = page(owner)
        asked = client.get(reverse("filings:withdraw")).content.decode()
        assert 'data-leaves="draft"' in asked and f'data-stage="{stage}"' in asked
        done = client.post(reverse("filings:withdraw"))
        assert done.status_code == 302
    else:
        answer = api(owner).post(f"/api/v1/filings/{filing.pk}/withdraw/")
        assert answer.status_code == 200
        assert answer.json()["status"] == "draft"
        assert answer.json()["application"] is None

    filing.refresh_from_db()
    assert filing.status == Filing.Status.DRAFT
    assert filing.review_deadline is None
    assert not filing.applications.filter(closed_at__isnull=True).exists()
    assert filing.applications.get().outcome == Application.Outcome.WITHDRAWN
    assert filing_as_json(filing)["sponsor"]["name"] == fs.SPONSOR["name"]  # nothing lost


@pytest.mark.parametrize("stage", ["provider_review", "verification", "returned", "pending_review"])
def test_withdrawing_an_amendment_at_any_stage_leaves_the_record_approved(stage):
    owner = UserFactory()
    filing = approved_record(owner)
    number = filing.number
    provider = AccessProviderFactory() if stage == "provider_review" else None
    data = filing_as_json(filing)
    data["websites"][0]["domains"] = ["example.cn", "added.cn"]
    if provider:
        data["websites"][0]["access_provider"] = provider.pk
    filing_save_data(filing=filing, by=owner, data=data)
    filing = filing_submit(filing=filing, by=owner)
    filing = to_stage(
        filing, owner, "pending_review" if stage == "pending_review" else stage, provider
    )
    expected = "amendment_pending" if stage == "pending_review" else stage
    assert filing.status == expected

    client = page(owner)
    asked = client.get(reverse("filings:withdraw")).content.decode()
    assert 'data-leaves="approved"' in asked
    client.post(reverse("filings:withdraw"))

    filing.refresh_from_db()
    assert filing.status == Filing.Status.APPROVED
    assert filing.number == number
    assert not filing.applications.filter(closed_at__isnull=True).exists()
    assert filing_as_json(filing)["websites"][0]["domains"] == ["example.cn"]


def test_a_second_application_is_refused_while_one_is_open():
    owner = UserFactory()
    filing = approved_record(owner)
    data = filing_as_json(filing)
    data["websites"][0]["domains"] = ["example.cn", "added.cn"]
    filing_save_data(filing=filing, by=owner, data=data)
    filing_submit(filing=filing, by=owner)

    response = api(owner).post(
        f"/api/v1/filings/{filing.pk}/revocation/", {"reason": "不再运营"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "application_open"
    filing.refresh_from_db()
    assert filing.status == Filing.Status.VERIFICATION
    assert filing.applications.get(closed_at__isnull=True).kind == Application.Kind.AMENDMENT


def test_the_lapse_reason_written_in_the_servers_language_reads_in_the_owners():
    from django.utils import translation

    from filings import wizard
    from filings.stages import VERIFICATION_FIELD, lapse_reason

    with translation.override("zh-hans"):
        stored = lapse_reason()  # as beat writes it
    returns = [{"field": VERIFICATION_FIELD, "reason": stored}, {"field": "", "reason": "原样"}]
    data = {"sponsor": {"principal": {"mobile": "13700000001"}}, "websites": []}
    with translation.override("en"):
        items = wizard.return_items(returns, data)
        assert items[0]["reason"] == lapse_reason()
    assert "did not confirm the SMS code within 24 hours" in items[0]["reason"]
    assert items[1]["reason"] == "原样"  # a reason someone typed stays as typed


def test_the_api_says_what_to_enter_for_null_and_for_values_that_are_not_text():
    submitted()

    answer = APIClient().post(
        "/api/v1/verification/",
        {"mobile": MOBILE, "code": None, "id_last6": ["x"]},
        format="json",
    )

    assert answer.status_code == 400
    errors = answer.json()
    # A null code is a missing code; a list is not text. Neither is "too long".
    assert errors["code"] == ["请输入短信中的 6 位验证码。"]
    assert errors["id_last6"] and "32" not in errors["id_last6"][0]


# --- The same confirmation twice: a double click, two requests at once ------------------------


def _confirm_by_api(code, client=None):
    return (client or APIClient()).post(
        "/api/v1/verification/",
        {"mobile": MOBILE, "code": code, "id_last6": LAST6},
        format="json",
    )


def _moved_once(filing):
    """One move to the bureau: one audit row, one email to the owner, no try counted."""
    from beian.models import AuditLog

    assert (
        AuditLog.objects.filter(action="application.verified", target_id=str(filing.pk)).count()
        == 1
    )
    arrived = Message.objects.filter(template="application_moved", subject__contains="通信管理局")
    assert arrived.count() == 1
    application = filing.applications.get(closed_at__isnull=True)
    assert application.verification_tries == 0
    assert application.status == Filing.Status.PENDING_REVIEW


def test_a_second_click_with_the_right_code_sees_the_confirmation_again(settings):
    settings.FILING_VERIFICATION_TRIES_PER_IP = "3/hour"
    filing = submitted()
    code = codes_sent()[0]
    client = Client()

    first = confirm_by_page(code=code, client=client)
    second = confirm_by_page(code=code, client=client)

    assert first.status_code == second.status_code == 200
    assert 'data-verified="pending_review"' in second.content.decode()
    assert today_deadline().strftime("%Y-%m-%d") in second.content.decode()
    filing.refresh_from_db()
    _moved_once(filing)
    # The second click counted no try from the address: two more are left of three.
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert confirm_by_page(code=wrong, client=client).status_code == 400
    assert confirm_by_page(code=wrong, client=client).status_code == 400
    assert confirm_by_page(code=wrong, client=client).status_code == 429


def test_the_api_answers_a_repeated_confirmation_the_same():
    filing = submitted()
    code = codes_sent()[0]

    first, second = _confirm_by_api(code), _confirm_by_api(code)

    assert first.status_code == second.status_code == 200
    assert (
        first.json()
        == second.json()
        == {
            "status": "pending_review",
            "review_deadline": today_deadline().isoformat(),
        }
    )
    filing.refresh_from_db()
    _moved_once(filing)


def test_a_repeat_needs_all_three_right_and_the_code_still_valid(time_machine):
    submitted()
    code = codes_sent()[0]
    assert confirm_by_page(code=code).status_code == 200

    assert confirm_by_page(code=code, last6="000000").status_code == 400
    assert confirm_by_page(code=f"{(int(code) + 1) % 1_000_000:06d}").status_code == 400
    time_machine.move_to(timezone.now() + dt.timedelta(hours=24, minutes=1), tick=False)
    assert confirm_by_page(code=code).status_code == 400


def test_a_code_that_confirmed_an_application_submitted_again_since_is_no_repeat():
    owner = UserFactory()
    filing = submitted(owner)
    old = codes_sent()[0]
    assert confirm_by_page(code=old).status_code == 200
    filing_save_data(
        filing=filing, by=owner, data=fs.data(sponsor={"address": "北京市海淀区中关村大街2号"})
    )
    filing_submit(filing=filing, by=owner)
    filing.refresh_from_db()
    assert filing.status == Filing.Status.VERIFICATION
    new = codes_sent()[0]

    assert old == new or confirm_by_page(code=old).status_code == 400
    filing.refresh_from_db()
    assert filing.status == Filing.Status.VERIFICATION
    assert confirm_by_page(code=new).status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="parallel requests need PostgreSQL")
def test_two_confirmations_at_once_both_see_the_success_and_move_it_once(settings):
    from tests.test_faults import run_at_once

    settings.FILING_VERIFICATION_TRIES_PER_IP = "2/hour"
    filing = submitted()
    code = codes_sent()[0]
    page_client, api_client = Client(), APIClient()

    answers = run_at_once(
        lambda: confirm_by_page(code=code, client=page_client),
        lambda: _confirm_by_api(code, client=api_client),
    )

    assert not [a for a in answers if isinstance(a, Exception)], answers
    assert [a.status_code for a in answers] == [200, 200]
    assert "备案已确认" in answers[0].content.decode()
    assert answers[1].json()["status"] == "pending_review"
    filing.refresh_from_db()
    _moved_once(filing)
    # The loser counted no try: the address has one left of two.
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert confirm_by_page(code=wrong).status_code == 400
    assert confirm_by_page(code=wrong).status_code == 429


# --- What the verification accepts: the house normal forms -----------------------------------


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


@pytest.mark.parametrize("how", ["page", "api"])
def test_full_width_digits_and_invisible_characters_confirm_as_typed_plainly(how):
    filing = submitted()
    values = {
        "mobile": "\u202d" + _full_width(MOBILE) + "\u202c",
        "code": _full_width(codes_sent()[0]),
        "id_last6": _full_width(LAST6),
    }

    if how == "page":
        answer = Client().post(reverse("public:verification"), values)
    else:
        answer = APIClient().post("/api/v1/verification/", values, format="json")

    assert answer.status_code == 200, answer.content.decode()
    filing.refresh_from_db()
    assert filing.status == Filing.Status.PENDING_REVIEW


def test_digits_of_other_scripts_are_not_a_code():
    submitted()

    answer = APIClient().post(
        "/api/v1/verification/",
        {"mobile": MOBILE, "code": "١٢٣٤٥٦", "id_last6": LAST6},
        format="json",
    )

    assert answer.status_code == 400
    assert answer.json()["code"] == ["请输入短信中的 6 位验证码。"]
