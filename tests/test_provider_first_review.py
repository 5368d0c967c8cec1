"""The access provider's first review (初审, SPEC §12): its queue, its decision in the console
and the API, the verification record, and imports that attest the checks made."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection  # noqa: F401 - read by the skipif condition
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from beian.models import AuditLog, Message
from beian.workdays import add_working_days
from filings.models import Application, Filing
from filings.selectors import first_review_rows, provider_review_queue
from filings.stages import CHECKLIST_CODES
from providers import imports
from providers.services import api_token_issue
from tests.factories import AccessProviderFactory, BureauFactory, UserFactory
from tests.filings_support import PDF_BYTES, data, png_bytes, submitted_filing, website
from tests.providers_support import provider_staff

pytestmark = [pytest.mark.django_db, pytest.mark.stages]

QUEUE = "/api/v1/provider/reviews/"


def decision_url(filing) -> str:
    return f"/api/v1/provider/reviews/{filing.pk}/decision/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def provider():
    return AccessProviderFactory()


@pytest.fixture
def staff(provider):
    return provider_staff(provider)


def at_provider(provider, n: int = 0) -> Filing:
    """A first filing, submitted by its owner, naming ``provider`` for its website."""
    owner = UserFactory()
    domain = f"first-review{n}.cn"
    payload = data(
        sponsor={"name": f"北京初审{n}科技有限公司"},
        websites=[
            website(
                name=f"初审网站{n}",
                homepage=f"http://www.{domain}/",
                domains=[domain],
                access_provider=provider.pk,
            )
        ],
    )
    payload["sponsor"]["principal"]["mobile"] = f"1370000{n:04d}"
    return submitted_filing(owner, payload)


def api_as(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user, name='t')[1]}")
    return client


def console_as(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def record(content: bytes = PDF_BYTES, name: str = "record.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def application_of(filing) -> Application:
    return Application.objects.get(filing=filing, closed_at__isnull=True)


def pass_form(**extra) -> dict:
    return {"action": "pass", "checklist": list(CHECKLIST_CODES), "record": record(), **extra}


# The queue -----------------------------------------------------------------------------------


def test_a_filing_naming_a_registered_provider_waits_for_its_first_review(provider):
    filing = at_provider(provider)
    application = application_of(filing)
    assert filing.status == application.status == "provider_review"
    assert application.provider_id == provider.pk
    assert application.provider_deadline == add_working_days(timezone.localdate(), 2)
    assert filing.review_deadline is None


def test_the_queue_is_oldest_first_with_the_overdue_flagged_and_only_this_providers(
    provider, staff, django_assert_max_num_queries
):
    newer, older, late = (at_provider(provider, n) for n in range(3))
    at_provider(AccessProviderFactory(), 9)  # another provider's
    now = timezone.now()
    Application.objects.filter(filing=older).update(submitted_at=now - dt.timedelta(days=2))
    Application.objects.filter(filing=late).update(
        submitted_at=now - dt.timedelta(days=30),
        provider_deadline=timezone.localdate() - dt.timedelta(days=7),
    )

    rows = first_review_rows(provider_review_queue(provider.pk))
    assert [r.filing.pk for r in rows] == [late.pk, older.pk, newer.pk]
    assert [r.overdue for r in rows] == [True, False, False]
    assert rows[0].days_left < 0 and rows[1].days_left == 2

    client = api_as(staff)
    with django_assert_max_num_queries(14):
        answer = client.get(QUEUE)
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 3
    assert [item["id"] for item in body["results"]] == [late.pk, older.pk, newer.pk]
    first = body["results"][0]
    assert first["kind"] == "new" and first["overdue"] is True
    assert first["application"]["status"] == "provider_review"
    assert first["sponsor"]["name"] == "北京初审2科技有限公司"

    page = console_as(staff).get(reverse("providers:reviews"))
    assert page.status_code == 200
    text = page.content.decode()
    assert text.index("北京初审2") < text.index("北京初审1") < text.index("北京初审0")
    assert text.count('data-overdue="1"') == 1
    assert (
        reverse("providers:reviews")
        in console_as(staff).get(reverse("providers:console")).content.decode()
    )


def test_the_queue_answers_in_a_constant_number_of_queries(
    provider, staff, django_assert_max_num_queries
):
    for n in range(2):
        at_provider(provider, n)
    client = api_as(staff)
    client.get(QUEUE)  # the calendar and the token are read and cached alike each time
    with django_assert_max_num_queries(14) as few:
        client.get(QUEUE)
    for n in range(2, 8):
        at_provider(provider, n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(QUEUE).json()["results"]) == 8


def test_the_console_queue_answers_in_a_constant_number_of_queries(
    provider, staff, django_assert_max_num_queries
):
    at_provider(provider, 0)
    client = console_as(staff)
    url = reverse("providers:reviews")
    client.get(url)
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    for n in range(1, 7):
        at_provider(provider, n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).content.decode().count("北京初审") == 7


# Passing it on -------------------------------------------------------------------------------


def test_passing_it_on_starts_the_sms_verification_of_the_responsible_person(provider, staff):
    filing = at_provider(provider)

    answer = api_as(staff).post(decision_url(filing), pass_form(), format="multipart")

    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "verification"
    assert answer.json()["application"]["verification_expires_at"]
    application = application_of(filing)
    assert application.status == "verification"
    assert application.provider_checklist == list(CHECKLIST_CODES)
    assert application.provider_passed_by == staff
    assert application.provider_record_type == "application/pdf"
    assert application.provider_record.read() == PDF_BYTES
    sms = Message.objects.get(channel="sms", to="13700000000", template="verification_code")
    assert re.search(r"\b\d{6}\b", sms.body)
    assert AuditLog.objects.filter(action="application.provider_pass").count() == 1


def test_passing_it_on_with_the_verification_off_sends_it_to_the_bureau_for_20_working_days(
    provider, staff, settings
):
    settings.FILING_SMS_VERIFICATION = False
    filing = at_provider(provider)

    answer = api_as(staff).post(decision_url(filing), pass_form(), format="multipart")

    assert answer.status_code == 200, answer.content
    filing.refresh_from_db()
    assert filing.status == "pending_review"
    assert filing.review_deadline == add_working_days(timezone.localdate(), 20)
    assert answer.json()["review_deadline"] == filing.review_deadline.isoformat()
    assert not Message.objects.filter(template="verification_code").exists()


def test_the_console_passes_it_on_with_the_checklist_and_a_photo_of_the_record(provider, staff):
    filing = at_provider(provider)
    client = console_as(staff)
    page = client.get(reverse("providers:review-detail", args=[filing.pk]))
    assert page.status_code == 200
    assert "北京初审0科技有限公司" in page.content.decode()

    answer = client.post(
        reverse("providers:review-detail", args=[filing.pk]),
        pass_form(record=record(png_bytes(), "record.png")),
    )

    assert answer.status_code == 302
    application = application_of(filing)
    assert application.status == "verification"
    assert application.provider_record_type == "image/png"
    # The provider's staff and the province's bureau may read the record; others may not.
    url = reverse("filings:verification-record", args=[application.pk])
    assert client.get(url).status_code == 200
    assert console_as(provider_staff()).get(url).status_code == 404
    assert console_as(filing.owner).get(url).status_code == 404


def test_the_bureau_of_the_province_reads_the_record_past_its_second_factor(
    provider, staff, otp_client, settings
):
    settings.FILING_SMS_VERIFICATION = False
    filing = at_provider(provider)
    api_as(staff).post(decision_url(filing), pass_form(), format="multipart")
    url = reverse("filings:verification-record", args=[application_of(filing).pk])
    bureau = otp_client(BureauFactory())
    page = bureau.get(reverse("review:detail", args=[filing.pk])).content.decode()
    assert url in page
    assert "接入服务商初审通过" in page  # the audit trail names the decision

    answer = bureau.get(url)
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    assert answer["Cache-Control"] == "private, no-store"
    assert b"".join(answer.streaming_content) == PDF_BYTES
    from beian.models import Province

    other = BureauFactory(province=Province.objects.get(code="31"))
    assert otp_client(other).get(url).status_code == 404
    not_verified = console_as(BureauFactory())
    assert not_verified.get(url).status_code == 302


# Returning it --------------------------------------------------------------------------------


def test_returning_it_names_the_fields_and_tells_the_owner_by_sms_and_email(provider, staff):
    filing = at_provider(provider)

    answer = api_as(staff).post(
        decision_url(filing),
        {
            "action": "return",
            "reason": "请补充负责人联系方式。",
            "returns": [{"field": "websites.0.homepage", "reason": "首页网址无法访问。"}],
        },
        format="json",
    )

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["status"] == "returned"
    assert body["application"]["status"] == "returned"
    assert body["application"]["returns"] == [
        {"field": "websites.0.homepage", "reason": "首页网址无法访问。"},
        {"field": "", "reason": "请补充负责人联系方式。"},
    ]
    owner = filing.owner
    assert Message.objects.filter(
        channel="sms", to=owner.mobile, template="application_returned"
    ).exists()
    assert Message.objects.filter(
        channel="email", to=owner.email, template="application_moved"
    ).exists()
    assert not Message.objects.filter(template="verification_code").exists()


def test_the_console_returns_it_with_a_reason_on_a_field_chosen_by_its_label(provider, staff):
    filing = at_provider(provider)
    client = console_as(staff)
    url = reverse("providers:review-detail", args=[filing.pk])
    assert "Website 1 · homepage URL" in client.get(url).content.decode()

    answer = client.post(
        url,
        {"action": "return", "return_0_field": "websites.0.homepage", "return_0_reason": "打不开"},
    )

    assert answer.status_code == 302
    assert application_of(filing).returns == [{"field": "websites.0.homepage", "reason": "打不开"}]


# Refusals ------------------------------------------------------------------------------------


def test_another_provider_neither_sees_nor_decides_it(provider):
    filing = at_provider(provider)
    stranger = provider_staff(AccessProviderFactory())

    assert (
        api_as(stranger).post(decision_url(filing), pass_form(), format="multipart").status_code
        == 404
    )
    assert api_as(stranger).get(QUEUE).json()["count"] == 0
    client = console_as(stranger)
    url = reverse("providers:review-detail", args=[filing.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, pass_form()).status_code == 404
    assert console_as(filing.owner).get(url).status_code == 404
    assert application_of(filing).status == "provider_review"


def test_an_inactive_staff_member_is_refused(provider):
    filing = at_provider(provider)
    gone = provider_staff(provider)
    client = api_as(gone)
    gone.is_active = False
    gone.save()
    assert client.post(decision_url(filing), pass_form(), format="multipart").status_code in (
        401,
        403,
    )
    assert application_of(filing).status == "provider_review"


def test_passing_needs_every_check_and_a_record_and_says_both_at_once(provider, staff):
    filing = at_provider(provider)

    answer = api_as(staff).post(
        decision_url(filing),
        {"action": "pass", "checklist": list(CHECKLIST_CODES[:-1])},
        format="multipart",
    )

    assert answer.status_code == 400
    assert set(answer.json()) == {"checklist", "record"}
    assert application_of(filing).status == "provider_review"


def test_a_record_that_is_not_a_pdf_or_an_image_by_content_is_refused(provider, staff):
    filing = at_provider(provider)

    answer = api_as(staff).post(
        decision_url(filing),
        pass_form(record=record(b"MZ\x90\x00 not a pdf at all", "record.pdf")),
        format="multipart",
    )

    assert answer.status_code == 400
    assert "PDF, JPEG or PNG" in answer.json()["record"][0] or answer.json()["record"]
    assert not application_of(filing).provider_record


def test_a_record_above_the_upload_limit_is_refused(provider, staff, settings):
    settings.UPLOAD_MAX_BYTES = 32
    filing = at_provider(provider)

    answer = api_as(staff).post(decision_url(filing), pass_form(), format="multipart")

    assert answer.status_code == 400 and "record" in answer.json()


def test_an_unknown_check_or_field_is_a_field_error(provider, staff):
    filing = at_provider(provider)
    client = api_as(staff)

    unknown_check = client.post(
        decision_url(filing),
        {"action": "pass", "checklist": ["looked_at_it"]},
        format="json",
    )
    unknown_field = client.post(
        decision_url(filing),
        {"action": "return", "returns": [{"field": "websites.7.homepage", "reason": "x"}]},
        format="json",
    )
    nothing = client.post(decision_url(filing), {"action": "return"}, format="json")

    assert unknown_check.status_code == 400 and "checklist" in unknown_check.json()
    assert unknown_field.status_code == 400 and "returns.0.field" in unknown_field.json()
    assert nothing.status_code == 400 and "reason" in nothing.json()
    assert application_of(filing).status == "provider_review"


def test_the_console_keeps_what_was_typed_and_puts_each_error_beside_its_field(provider, staff):
    filing = at_provider(provider)
    client = console_as(staff)

    answer = client.post(
        reverse("providers:review-detail", args=[filing.pk]),
        {
            "action": "return",
            "return_1_field": "sponsor.name",
            "return_1_reason": "",
            "reason": "请核对主办单位名称。",
        },
    )

    assert answer.status_code == 400
    text = answer.content.decode()
    assert "There is a problem" in text
    assert 'id="id_return_1_reason-error"' in text
    assert "请核对主办单位名称。" in text
    assert '<option value="sponsor.name" selected>' in text
    assert application_of(filing).status == "provider_review"


def test_a_control_character_in_a_return_reason_is_that_fields_error_everywhere(provider, staff):
    filing = at_provider(provider)
    console = console_as(staff).post(
        reverse("providers:review-detail", args=[filing.pk]),
        {
            "action": "return",
            "return_0_field": "websites.0.homepage",
            "return_0_reason": "打不开\u0007",
            "reason": "请核对\u0007",
        },
    )
    client = api_as(staff)
    by_json = client.post(
        decision_url(filing),
        {"action": "return", "returns": [{"field": "websites.0.homepage", "reason": "a\u0007"}]},
        format="json",
    )
    by_form = client.post(
        decision_url(filing),
        {
            "action": "return",
            "returns": '[{"field": "websites.0.homepage", "reason": "打不开\\u0007"}]',
            "reason": "请核对\u0007",
        },
        format="multipart",
    )

    assert console.status_code == 400
    text = console.content.decode()
    assert 'id="id_return_0_reason-error"' in text and 'id="id_reason-error"' in text
    assert "control character" in text
    assert by_json.status_code == 400
    assert by_form.status_code == 400
    assert set(by_form.json()) == {"returns.0.reason", "reason"}
    assert "控制字符" in by_form.json()["reason"][0]
    assert application_of(filing).status == "provider_review"
    assert application_of(filing).returns == []


def test_a_second_decision_is_refused_with_a_clear_answer(provider, staff):
    filing = at_provider(provider)
    client = api_as(staff)
    assert client.post(decision_url(filing), pass_form(), format="multipart").status_code == 200

    again = client.post(decision_url(filing), pass_form(), format="multipart")

    assert again.status_code == 409
    assert again.json()["code"] == "invalid_state"
    page = console_as(staff).post(
        reverse("providers:review-detail", args=[filing.pk]), pass_form(), follow=True
    )
    assert page.status_code == 200
    assert "not waiting at this stage any more" in page.content.decode()
    assert Message.objects.filter(template="verification_code").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="parallel requests need PostgreSQL")
def test_two_staff_deciding_at_once_one_wins_and_the_other_is_told(provider, settings, tmp_path):
    from tests.test_faults import run_at_once

    settings.MEDIA_ROOT = str(tmp_path)
    filing = at_provider(provider)
    clients = [api_as(provider_staff(provider)), api_as(provider_staff(provider))]

    answers = run_at_once(
        lambda: clients[0].post(decision_url(filing), pass_form(), format="multipart"),
        lambda: clients[1].post(
            decision_url(filing),
            {"action": "return", "reason": "资料不全"},
            format="json",
        ),
    )

    assert not [a for a in answers if isinstance(a, Exception)], answers
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert (
        AuditLog.objects.filter(
            action__in=["application.provider_pass", "application.provider_return"]
        ).count()
        == 1
    )


# Imports -------------------------------------------------------------------------------------


def import_row(n: int, provider, **extra) -> dict:
    domain = f"imported{n}.cn"
    filing = data(
        sponsor={"name": f"北京导入{n}科技有限公司"},
        websites=[
            website(homepage=f"http://www.{domain}/", domains=[domain], access_provider=provider.pk)
        ],
    )
    filing["sponsor"]["principal"]["mobile"] = f"1390000{n:04d}"
    return {
        "client": {
            "username": f"imported{n}",
            "email": f"imported{n}@example.cn",
            "mobile": f"1360000{n:04d}",
        },
        "filing": filing,
        **extra,
    }


def test_an_imported_row_starts_at_the_verification_with_its_attestation(provider, staff):
    rows = [
        import_row(1, provider, attestation={"checklist": list(CHECKLIST_CODES)}),
        import_row(2, provider),
    ]

    answer = api_as(staff).post("/api/v1/provider/imports/", {"rows": rows}, format="json")

    assert answer.status_code == 200, answer.content
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["created", "created"]
    attested, plain = (Filing.objects.get(pk=r["filing"]["id"]) for r in results)
    assert attested.status == plain.status == "verification"
    assert application_of(attested).provider_checklist == list(CHECKLIST_CODES)
    assert application_of(attested).provider_passed_by == staff
    assert application_of(plain).provider_checklist == []
    assert Message.objects.filter(template="verification_code", to="13900000001").exists()


def test_an_imported_row_goes_to_the_bureau_when_the_verification_is_off(provider, staff, settings):
    settings.FILING_SMS_VERIFICATION = False
    answer = api_as(staff).post(
        "/api/v1/provider/imports/", {"rows": [import_row(3, provider)]}, format="json"
    )
    assert answer.json()["results"][0]["filing"]["status"] == "pending_review"


def test_an_unknown_check_in_an_import_row_is_that_rows_error(provider, staff):
    rows = [import_row(4, provider, attestation={"checklist": ["sponsor_identity", "vibes"]})]

    answer = api_as(staff).post("/api/v1/provider/imports/", {"rows": rows}, format="json")

    result = answer.json()["results"][0]
    assert result["status"] == "error"
    assert "vibes" in result["errors"]["attestation"]["checklist"][0]
    assert not Filing.objects.filter(sponsor_name="北京导入4科技有限公司").exists()


def test_the_csv_file_takes_the_checks_in_an_optional_column():
    template = imports.template_csv().decode("utf-8-sig")
    assert "核验项目" in template.splitlines()[0]
    header = ",".join(imports.HEADERS)
    cells = dict.fromkeys(imports.HEADERS, "")
    cells["用户名"] = "csvclient"
    cells["核验项目"] = "sponsor_identity;domains"
    line = ",".join(cells[h] for h in imports.HEADERS)
    [(_line, payload)] = imports.parse_csv(f"{header}\n{line}\n".encode())
    assert payload["attestation"] == {"checklist": ["sponsor_identity", "domains"]}

    without = [h for h in imports.HEADERS if h != "核验项目"]
    [(_line, payload)] = imports.parse_csv(
        (
            ",".join(without)
            + "\n"
            + ",".join("csvclient2" if h == "用户名" else "" for h in without)
            + "\n"
        ).encode()
    )
    assert "attestation" not in payload
