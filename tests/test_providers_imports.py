"""Provider imports (SPEC §6): client accounts and filings, row by row, never twice."""

import os
import re
import time

import pytest
from django.contrib.auth.hashers import check_password
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from accounts.models import User
from beian.delivery import outbox
from beian.models import AuditLog
from filings.models import Conflict, Filing
from providers import import_jobs, imports
from providers.models import ImportJob, ImportRow
from tests.accounts_support import captcha_test_mode  # noqa: F401
from tests.factories import AccessProviderFactory
from tests.providers_support import approved_filing, provider_staff

pytestmark = pytest.mark.django_db

URL = "/api/v1/provider/imports/"


def filing_data(n: int, *, domain: str | None = None) -> dict:
    domain = domain or f"client{n}-site.cn"
    return {
        "sponsor": {
            "nature": "enterprise",
            "name": f"北京客户{n}科技有限公司",
            "id_type": "uscc",
            "id_number": "91350100M000100Y43",
            "province": "11",
            "address": "北京市海淀区中关村大街1号",
            "principal": {
                "name": "王五",
                "id_type": "resident_id",
                "id_number": "11010519491231002X",
                "mobile": f"139{n:08d}",
                "email": f"boss{n}@client.example.cn",
            },
        },
        "websites": [
            {
                "name": f"客户网站{n}",
                "homepage": f"http://www.{domain}/",
                "domains": [domain],
                "ips": ["120.79.1.10"],
                "services": ["corporate"],
                "commercial": False,
                "preapprovals": [],
                "server_location": "11",
            }
        ],
    }


def row(n: int, **kwargs) -> dict:
    return {
        "client": {
            "username": f"client{n}",
            "email": f"client{n}@client.example.cn",
            "mobile": f"136{n:08d}",
        },
        "filing": filing_data(n, **kwargs),
    }


@pytest.fixture
def staff():
    return provider_staff()


@pytest.fixture
def api(staff):
    client = APIClient()
    client.force_authenticate(staff)
    return client


def last_code(to: str) -> str:
    """The 6-digit code of the newest message to ``to`` (Chinese text around it included)."""
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", outbox(to=to)[0]["body"])
    assert match
    return match.group(1)


def post(api, rows, capture):
    with capture(execute=True):
        response = api.post(URL, {"rows": rows}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_good_rows_create_accounts_with_initial_passwords_and_submitted_filings(
    api, staff, django_capture_on_commit_callbacks
):
    results = post(api, [row(1), row(2)], django_capture_on_commit_callbacks)
    assert [r["status"] for r in results] == ["created", "created"]
    assert [r["row"] for r in results] == [0, 1]
    first = results[0]
    client = User.objects.get(username="client1")
    assert check_password(first["initial_password"], client.password)
    assert client.password_is_initial
    assert client.origin == User.Origin.IMPORT
    assert client.imported_by == staff.provider
    assert client.mobile_verified_at is None and client.email_verified_at is None
    filing = Filing.objects.get(owner=client)
    assert filing.status == Filing.Status.PENDING_REVIEW
    assert filing.filed_by_provider == staff.provider
    assert filing.submitted_by == staff
    assert filing.province_id == "11"
    assert filing.review_deadline is not None
    # Websites without an access provider are served by the provider that imports them.
    assert [a.provider for a in filing.websites.get().accesses.all()] == [staff.provider]
    assert first["filing"]["id"] == filing.pk
    assert first["filing"]["status"] == "pending_review"
    assert AuditLog.objects.filter(action="provider.import_client", actor=staff).count() == 2


def test_a_bad_row_beside_good_ones_fails_alone_and_leaves_nothing_behind(
    api, django_capture_on_commit_callbacks
):
    bad = row(2)
    bad["filing"]["sponsor"]["id_number"] = "91350100M000100Y44"  # wrong check character
    bad["client"]["mobile"] = "12345"
    results = post(api, [row(1), bad, row(3)], django_capture_on_commit_callbacks)
    assert [r["status"] for r in results] == ["created", "error", "created"]
    errors = results[1]["errors"]
    assert "mobile" in errors["client"]
    assert "initial_password" not in results[1]
    assert results[1]["filing"] is None
    assert not User.objects.filter(username="client2").exists()

    # The client part is fine now; the filing part still fails: nothing is created either.
    bad["client"]["mobile"] = "13600000002"
    (again,) = post(api, [bad], django_capture_on_commit_callbacks)
    assert again["status"] == "error"
    assert "id_number" in again["errors"]["filing"]["sponsor"]
    assert not User.objects.filter(username="client2").exists()
    assert Filing.objects.count() == 2


def test_sending_the_same_rows_again_creates_nothing_twice(api, django_capture_on_commit_callbacks):
    first = post(api, [row(1), row(2)], django_capture_on_commit_callbacks)
    again = post(api, [row(1), row(2)], django_capture_on_commit_callbacks)
    assert [r["status"] for r in again] == ["exists", "exists"]
    assert [r["filing"]["id"] for r in again] == [r["filing"]["id"] for r in first]
    assert all("initial_password" not in r for r in again)
    assert User.objects.filter(origin=User.Origin.IMPORT).count() == 2
    assert Filing.objects.count() == 2


def test_the_same_username_twice_in_one_batch_is_created_once(
    api, django_capture_on_commit_callbacks
):
    results = post(api, [row(1), row(1)], django_capture_on_commit_callbacks)
    assert [r["status"] for r in results] == ["created", "exists"]


def test_a_username_of_another_account_is_an_error_not_a_takeover(
    api, django_capture_on_commit_callbacks
):
    other = provider_staff(AccessProviderFactory())
    other_api = APIClient()
    other_api.force_authenticate(other)
    post(other_api, [row(1)], django_capture_on_commit_callbacks)
    (result,) = post(api, [row(1)], django_capture_on_commit_callbacks)
    assert result["status"] == "error"
    assert "username" in result["errors"]["client"]
    assert result["filing"] is None


def test_a_row_that_conflicts_with_an_existing_filing_is_submitted_with_the_conflict(
    api, django_capture_on_commit_callbacks
):
    existing = approved_filing(domains=["taken-site.cn"])
    (result,) = post(api, [row(1, domain="taken-site.cn")], django_capture_on_commit_callbacks)
    assert result["status"] == "created"
    assert {c["field"] for c in result["filing"]["conflicts"]} >= {"domain"}
    conflict = Conflict.objects.get(filing_id=result["filing"]["id"], field="domain")
    assert conflict.other_filing == existing


def test_the_import_api_is_for_provider_staff_and_limits_the_batch(
    settings, api, django_capture_on_commit_callbacks
):
    from tests.factories import UserFactory

    owner_api = APIClient()
    owner_api.force_authenticate(UserFactory())
    assert owner_api.post(URL, {"rows": [row(1)]}, format="json").status_code == 403
    assert api.post(URL, {}, format="json").status_code == 400
    assert api.post(URL, {"rows": "x"}, format="json").status_code == 400
    settings.PROVIDER_IMPORT_MAX_API_ROWS = 2
    too_many = api.post(URL, {"rows": [row(1), row(2), row(3)]}, format="json")
    assert too_many.status_code == 400
    assert "rows" in too_many.json()
    results = post(
        api, ["not an object", {"client": "x", "filing": 3}], django_capture_on_commit_callbacks
    )
    assert [r["status"] for r in results] == ["error", "error"]
    assert "client" in results[1]["errors"] and "filing" in results[1]["errors"]


@pytest.mark.usefixtures("captcha_test_mode")
def test_an_imported_client_signs_in_first_through_codes_and_a_new_password(
    api, client, django_capture_on_commit_callbacks
):
    (result,) = post(api, [row(1)], django_capture_on_commit_callbacks)
    login = {
        "username": "client1",
        "password": result["initial_password"],
        "captcha_0": "test-key",
        "captcha_1": "PASSED",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:login"), login)
    assert response.status_code == 302
    assert response.url == reverse("accounts:verify")
    # Nothing else opens before the codes are confirmed.
    assert "_auth_user_id" not in client.session
    sms, email = last_code("13600000001"), last_code("client1@client.example.cn")
    response = client.post(reverse("accounts:verify"), {"sms_code": sms, "email_code": email})
    assert response.status_code == 302
    assert response.url == reverse("accounts:password-initial")
    new = {"new_password1": "Client-Own-2026!", "new_password2": "Client-Own-2026!"}
    response = client.post(reverse("accounts:password-initial"), new)
    assert response.status_code == 302
    user = User.objects.get(username="client1")
    assert user.identity_verified and not user.password_is_initial
    assert user.check_password("Client-Own-2026!")
    assert client.session["_auth_user_id"] == str(user.pk)


# CSV files --------------------------------------------------------------------------------


def csv_bytes(rows: list[dict], *, encoding="utf-8-sig") -> bytes:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(imports.HEADERS)
    for r in rows:
        f = r["filing"]
        s, p, w = f["sponsor"], f["sponsor"]["principal"], f["websites"][0]
        writer.writerow(
            [
                r["client"]["username"],
                r["client"]["email"],
                r["client"]["mobile"],
                "企业",
                s["name"],
                "统一社会信用代码",
                s["id_number"],
                "北京市",
                s["address"],
                p["name"],
                "身份证",
                p["id_number"],
                p["mobile"],
                p["email"],
                w["name"],
                w["homepage"],
                "；".join(w["domains"]),
                ";".join(w["ips"]),
                "企业网站",
                "北京",
                "否",
            ]
        )
    return out.getvalue().encode(encoding)


def test_a_csv_row_reads_into_the_api_shape_with_chinese_labels():
    ((line, payload),) = imports.parse_csv(csv_bytes([row(7)], encoding="gb18030"))
    assert line == 2
    assert payload["client"]["username"] == "client7"
    assert payload["filing"]["sponsor"]["nature"] == "enterprise"
    assert payload["filing"]["sponsor"]["id_type"] == "uscc"
    assert payload["filing"]["sponsor"]["province"] == "11"
    assert payload["filing"]["sponsor"]["principal"]["id_type"] == "resident_id"
    website = payload["filing"]["websites"][0]
    assert website["services"] == ["corporate"]
    assert website["server_location"] == "11"
    assert website["commercial"] is False


def test_a_row_is_numbered_by_the_line_it_starts_on_when_a_quoted_cell_spans_lines(
    client, staff, django_capture_on_commit_callbacks
):
    two_lines = row(2)
    two_lines["filing"]["sponsor"]["address"] = "北京市海淀区\n中关村大街1号"
    bad = row(3)
    bad["filing"]["sponsor"]["address"] = "北京市海淀区\n中关村大街2号"
    bad["client"]["email"] = "not-an-email"
    content = csv_bytes([row(1), two_lines, bad, row(4)])

    assert [line for line, _payload in imports.parse_csv(content)] == [2, 3, 5, 7]

    client.force_login(staff)
    upload(client, content, django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    report = client.get(reverse("providers:import-errors", args=[job.pk])).content.decode(
        "utf-8-sig"
    )
    assert report.strip().splitlines()[1].startswith("5,client3,电子邮箱,")


def test_a_record_that_cannot_be_read_is_named_by_the_line_it_starts_on():
    from django.core.exceptions import ValidationError

    header = ",".join(imports.HEADERS)
    # A cell over the csv module's field limit, quoted over two lines, starting on line 3.
    content = f'{header}\n#note\n"a\n{"x" * 140_000}",b\n'.encode()

    with translation.override("en"), pytest.raises(ValidationError) as raised:
        imports.parse_csv(content)
    assert raised.value.messages == ["Line 3 of the file cannot be read as CSV."]


def test_a_file_without_the_template_columns_is_refused_whole():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="用户名"):
        imports.parse_csv("电子邮箱,手机号码\nx,y\n".encode())
    with pytest.raises(ValidationError):
        imports.parse_csv(b"")
    with pytest.raises(ValidationError):
        imports.parse_csv(imports.template_csv())


def test_the_template_has_the_chinese_headers_and_a_bom(client, staff):
    client.force_login(staff)
    response = client.get(reverse("providers:import-template"))
    assert response.status_code == 200
    assert response.content.startswith("\ufeff用户名,电子邮箱,手机号码".encode())


def upload(client, content: bytes, capture, name="clients.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with capture(execute=True):
        response = client.post(
            reverse("providers:imports"),
            {"file": SimpleUploadedFile(name, content, content_type="text/csv")},
        )
    return response


def test_a_csv_of_three_clients_with_one_bad_row_gives_a_clear_report(
    client, staff, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    bad = row(2)
    bad["client"]["email"] = "not-an-email"
    response = upload(client, csv_bytes([row(1), bad, row(3)]), django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("providers:import-detail", args=[job.pk])
    assert (job.status, job.created_count, job.error_count) == ("done", 2, 1)

    page = client.get(response.url).content.decode()
    assert "电子邮箱" in page and "client2" in page

    report = client.get(reverse("providers:import-errors", args=[job.pk])).content.decode(
        "utf-8-sig"
    )
    lines = report.strip().splitlines()
    assert lines[0] == "行号,用户名,字段,错误"
    assert lines[1].startswith("3,client2,电子邮箱,")

    # The results file carries the initial passwords the first time only.
    first = client.post(reverse("providers:import-results", args=[job.pk])).content.decode(
        "utf-8-sig"
    )
    rows = [line.split(",") for line in first.strip().splitlines()[1:]]
    created = {r[1]: r[3] for r in rows if r[2] == "已创建"}
    assert set(created) == {"client1", "client3"}
    assert check_password(created["client1"], User.objects.get(username="client1").password)
    second = client.post(reverse("providers:import-results", args=[job.pk])).content.decode(
        "utf-8-sig"
    )
    assert created["client1"] not in second
    assert not ImportRow.objects.exclude(initial_password_sealed="").exists()


def test_an_upload_that_is_not_csv_is_refused_with_a_message(
    client, staff, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    response = upload(client, b"\x89PNG\r\n", django_capture_on_commit_callbacks, name="a.png")
    assert response.status_code == 400
    assert "error-summary" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_an_import_job_runs_again_safely(client, staff, django_capture_on_commit_callbacks):
    job = None
    with django_capture_on_commit_callbacks(execute=True):
        job = import_jobs.import_job_create(
            provider=staff.provider,
            by=staff,
            rows=imports.parse_csv(csv_bytes([row(1), row(2)])),
            filename="x.csv",
        )
    from providers.tasks import run_import

    assert run_import.run(job.pk) == "done"
    job.refresh_from_db()
    assert (job.processed_rows, job.created_count) == (2, 2)
    assert User.objects.filter(origin=User.Origin.IMPORT).count() == 2


def test_a_large_file_is_processed_in_chunks_with_progress(
    settings, staff, django_capture_on_commit_callbacks
):
    settings.PROVIDER_IMPORT_CHUNK_ROWS = 2
    rows = imports.parse_csv(csv_bytes([row(n) for n in range(1, 6)]))
    job = import_jobs.import_job_create(provider=staff.provider, by=staff, rows=rows)
    assert import_jobs.import_job_process_chunk(job_id=job.pk, limit=2) == "running"
    job.refresh_from_db()
    assert (job.processed_rows, job.percent) == (2, 40)
    assert import_jobs.import_job_process_chunk(job_id=job.pk, limit=2) == "running"
    assert import_jobs.import_job_process_chunk(job_id=job.pk, limit=2) == "done"
    job.refresh_from_db()
    assert (job.processed_rows, job.created_count) == (5, 5)


def test_a_10000_row_file_is_read_and_queued_as_one_job(staff):
    rows = imports.parse_csv(csv_bytes([row(n) for n in range(1, 10001)]))
    job = import_jobs.import_job_create(
        provider=staff.provider, by=staff, rows=rows, filename="b.csv"
    )
    assert job.total_rows == 10000
    assert ImportRow.objects.filter(job=job, status="pending").count() == 10000
    assert ImportRow.objects.get(job=job, index=9999).line == 10001


# Every row runs the full submission (validation, conflicts, versions, email): minutes of work.
# Real commits (transaction=True), as in production: each row commits on its own.
@pytest.mark.skipif(
    not os.environ.get("BEIAN_SCALE_TESTS"),
    reason="the full 10,000-row import takes many minutes: run with BEIAN_SCALE_TESTS=1",
)
@pytest.mark.django_db(transaction=True)
def test_a_10000_row_file_is_imported():
    staff = provider_staff()
    content = csv_bytes([row(n) for n in range(1, 10001)])
    started = time.monotonic()
    rows = imports.parse_csv(content)
    job = import_jobs.import_job_create(
        provider=staff.provider, by=staff, rows=rows, filename="big.csv"
    )
    job.refresh_from_db()
    elapsed = time.monotonic() - started
    assert (job.status, job.created_count, job.error_count) == ("done", 10000, 0)
    assert Filing.objects.filter(filed_by_provider=staff.provider).count() == 10000
    print(f"10,000 rows in {elapsed:.0f} s")


def test_an_imported_clients_submission_email_names_the_status_in_the_clients_language(
    staff, django_capture_on_commit_callbacks
):
    rows = imports.parse_csv(csv_bytes([row(1)]))
    job = import_jobs.import_job_create(provider=staff.provider, by=staff, rows=rows)
    assert import_jobs.import_job_process_chunk(job_id=job.pk, limit=10) == "done"

    (mail,) = outbox(to="client1@client.example.cn")
    assert "待审核" in mail["body"]
    assert "pending review" not in mail["body"]
