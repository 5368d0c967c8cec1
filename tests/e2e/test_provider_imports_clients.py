"""Journey 3: a provider imports a CSV of clients with one bad row and reads the report; one
imported client signs in for the first time through the codes and chooses a password."""

import csv
import io

import pytest
from playwright.sync_api import expect

from accounts.models import User
from filings.models import Filing
from providers.imports import HEADERS
from providers.models import ImportJob
from tests.factories import AccessProviderFactory
from tests.providers_support import provider_staff

from .support import code_sent_to, journey_marks

pytestmark = journey_marks

PASSWORD = "Correct-Horse-9"  # the factories' password
USCC = "91350100M000100Y43"
# A mobile number with ten digits: the row fails whole and the report says why.
BAD_MOBILE = "1391234567"


def client_row(n: int, *, mobile: str | None = None) -> list[str]:
    domain = f"client{n}-shop.cn"
    return [
        f"client{n}",
        f"client{n}@client.example.cn",
        mobile or f"1360000000{n}",
        "企业",
        f"北京客户{n}号科技有限公司",
        "统一社会信用代码",
        USCC,
        "北京市",
        "北京市朝阳区建国路88号",
        "李娜",
        "身份证",
        "11010519491231002X",
        f"1350000000{n}",
        f"lina{n}@client.example.cn",
        f"客户{n}号官网",
        f"http://www.{domain}/",
        domain,
        "120.79.1.10",
        "企业网站",
        "北京",
        "否",
    ]


def clients_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def sign_in(page, t, username, password):
    page.get_by_role("navigation").get_by_role("link", name=t("Sign in"), exact=True).click()
    page.get_by_label(t("Username")).fill(username)
    page.get_by_label(t("Password"), exact=True).fill(password)
    page.get_by_label(t("Characters in the picture")).fill("PASSED")
    page.get_by_role("main").get_by_role("button", name=t("Sign in")).click()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_provider_imports_clients_and_a_client_signs_in_for_the_first_time(
    new_context, live_server, journey, tmp_path, lang
):
    provider = AccessProviderFactory(name="北京蓝山云计算有限公司")
    staff = provider_staff(provider, username="lanshan-ops")
    upload = tmp_path / "客户导入.csv"
    upload.write_bytes(
        clients_csv([client_row(1), client_row(2, mobile=BAD_MOBILE), client_row(3)])
    )
    journey = journey("provider-imports-clients", lang)
    t = journey.t

    # The provider's staff signs in and uploads the file.
    ops = new_context().new_page()
    journey.open(ops, live_server.url)
    sign_in(ops, t, staff.username, PASSWORD)
    expect(ops.get_by_role("heading", name=t("Provider console"))).to_be_visible()
    journey.shot(ops, "provider-console")
    ops.get_by_role("link", name=t("Imports"), exact=True).click()
    ops.get_by_label(t("CSV file")).set_input_files(upload)
    journey.shot(ops, "upload-csv")
    ops.get_by_role("button", name=t("Upload and import")).click()

    # The worker imports the rows; the page follows its progress until the report is ready.
    results_button = ops.get_by_role(
        "button", name=t("Download the results with the initial passwords")
    )
    expect(results_button).to_be_visible(timeout=60_000)
    job = ImportJob.objects.get()
    assert (job.status, job.created_count, job.error_count) == ("done", 2, 1)
    report = ops.locator("#import-progress")
    error_row = report.get_by_role("row").filter(has_text="client2")
    expect(error_row).to_contain_text("3")  # the line of the file, header included
    expect(error_row).to_contain_text("手机号码")
    journey.shot(ops, "import-report")

    with ops.expect_download() as errors:
        ops.get_by_role("link", name=t("Download the error report (CSV)")).click()
    error_lines = errors.value.path().read_text(encoding="utf-8-sig").strip().splitlines()
    assert error_lines[0] == "行号,用户名,字段,错误"
    assert error_lines[1].startswith("3,client2,手机号码,")

    with ops.expect_download() as results:
        results_button.click()
    rows = list(csv.reader(io.StringIO(results.value.path().read_text(encoding="utf-8-sig"))))
    passwords = {r[1]: r[3] for r in rows[1:] if r[2] == "已创建"}
    assert set(passwords) == {"client1", "client3"}
    journey.shot(ops, "results-downloaded")

    ops.get_by_role("link", name=t("Clients"), exact=True).click()
    expect(ops.get_by_role("main")).to_contain_text("北京客户1号科技有限公司")
    expect(ops.get_by_role("main")).to_contain_text("北京客户3号科技有限公司")
    expect(ops.get_by_role("main")).not_to_contain_text("北京客户2号科技有限公司")
    journey.shot(ops, "clients-listed")

    # Client 1 signs in with the initial password: codes first, then a password of its own.
    client = new_context().new_page()
    journey.open(client, live_server.url)
    sign_in(client, t, "client1", passwords["client1"])
    expect(client.get_by_role("heading", name=t("Confirm your mobile and email"))).to_be_visible()
    journey.shot(client, "client-first-sign-in-codes")
    client.get_by_label(t("Code sent to your mobile")).fill(code_sent_to("13600000001"))
    client.get_by_label(t("Code sent to your email")).fill(
        code_sent_to("client1@client.example.cn")
    )
    client.get_by_role("button", name=t("Confirm")).click()
    expect(client.get_by_role("heading", name=t("Choose your own password"))).to_be_visible()
    journey.shot(client, "client-chooses-password")
    client.get_by_label(t("New password"), exact=True).fill("Wutong-Lane-2026")
    client.get_by_label(t("New password again")).fill("Wutong-Lane-2026")
    client.get_by_role("button", name=t("Set the password")).click()
    expect(client.get_by_role("heading", name=t("My filing"))).to_be_visible()
    expect(client.locator("[data-status]")).to_have_attribute("data-status", "pending_review")
    journey.shot(client, "client-task-list")

    account = User.objects.get(username="client1")
    assert account.identity_verified and not account.password_is_initial
    assert account.check_password("Wutong-Lane-2026")
    assert Filing.objects.get(owner=account).filed_by_provider == provider
    assert not User.objects.filter(username="client2").exists()
