"""The provider console's accesses (接入管理, SPEC §12): a new access by website number
(新增接入), one access withdrawn (取消接入) with the empty-shell warning, and many withdrawn
from a CSV file, each row on its own; a provider never reaches another provider's access."""

from __future__ import annotations

import itertools

import pytest
from django.urls import reverse

from filings.models import Access, Application, Website
from tests import filings_support as fs
from tests.factories import AccessProviderFactory, UserFactory
from tests.providers_support import provider_staff

pytestmark = pytest.mark.django_db

_records = itertools.count(1)


def approved_website(provider) -> Website:
    """The one website of an owner's record approved through the services, served by
    ``provider`` alone."""
    n = next(_records)
    site = fs.website(
        name=f"示例网站{n}", homepage=f"http://www.site{n}.cn/", domains=[f"site{n}.cn"]
    )
    site["access_provider"] = provider.pk
    filing = fs.submitted_filing(
        UserFactory(), fs.data(sponsor={"name": f"北京示例科技有限公司{n}"}, websites=[site])
    )
    fs.approve(fs.to_bureau(filing))
    return Website.objects.get(filing=filing)


def api_client(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def open_application(website: Website) -> Application | None:
    return Application.objects.filter(filing=website.filing_id, closed_at=None).first()


@pytest.fixture
def provider():
    return AccessProviderFactory()


@pytest.fixture
def console(client, provider):
    client.force_login(provider_staff(provider))
    return client


def upload(console, content: bytes, name: str = "withdrawals.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return console.post(
        reverse("providers:access-withdraw-upload"),
        {"file": SimpleUploadedFile(name, content, content_type="text/csv")},
    )


# The page and who may see it -----------------------------------------------------------------


def test_the_console_navigation_leads_to_the_accesses_listing_this_providers_own(console, provider):
    mine = approved_website(provider)
    theirs = approved_website(AccessProviderFactory())

    page = console.get(reverse("providers:console")).content.decode()
    assert reverse("providers:accesses") in page and "接入管理" in page
    listing = console.get(reverse("providers:accesses")).content.decode()
    assert mine.number in listing
    assert theirs.number not in listing


def test_the_accesses_pages_are_for_active_provider_staff_only(client, provider):
    inactive = provider_staff(AccessProviderFactory(is_active=False))
    for user in (UserFactory(), inactive):
        client.force_login(user)
        for name in ("accesses", "access-new", "access-withdraw", "access-withdraw-upload"):
            assert client.get(reverse(f"providers:{name}")).status_code == 404


def listed(console) -> tuple[str, str]:
    """The accesses page's two tables: the accesses in force, and those applied for."""
    page = console.get(reverse("providers:accesses")).content.decode()
    in_force = page[page.index("data-in-force") : page.index("data-applied")]
    return in_force, page[page.index("data-applied") :]


def test_an_access_only_applied_for_is_listed_apart_with_its_stage_not_as_in_force(
    console, provider
):
    by_staff = approved_website(AccessProviderFactory())
    by_owner = approved_website(AccessProviderFactory())
    console.post(
        reverse("providers:access-new"),
        {
            "website_number": by_staff.number,
            "method": "cloud",
            "server_location": "31",
            "ips": "121.40.8.30",
        },
    )
    owner = by_owner.filing.owner
    answer = api_client(owner).post(
        f"/api/v1/filings/{by_owner.filing_id}/accesses/",
        {
            "website": by_owner.pk,
            "provider": provider.pk,
            "method": "cloud",
            "server_location": "31",
            "ips": ["121.40.8.31"],
        },
        format="json",
    )
    assert answer.status_code == 200, answer.json()

    in_force, applied = listed(console)

    assert "已生效的接入" in in_force and "管局已批准的接入" in in_force
    assert "已申请、尚未生效的新增接入" in applied
    # First filings and amendments naming the provider are in its first-review queue instead.
    assert f'href="{reverse("providers:reviews")}"' in applied and "初审队列" in applied
    assert by_staff.number not in in_force and by_owner.number not in in_force
    assert by_staff.number in applied and by_owner.number in applied
    assert "新增接入 · 待管局审核" in applied
    assert "新增接入 · 待接入服务提供商初审" in applied
    assert "121.40.8.30" in applied


def test_an_access_whose_cancellation_is_on_its_way_stays_in_force_and_reads_as_such(
    console, provider
):
    website = approved_website(provider)
    console.post(
        reverse("providers:access-withdraw"),
        {"website_number": website.number, "reason": "停止服务", "confirm": website.number},
    )
    assert open_application(website).kind == "cancel_access"

    in_force, applied = listed(console)

    row = in_force[in_force.index(f'data-website="{website.number}"') :].split("</tr>")[0]
    assert 'data-effect="ends"' in row and "取消接入 · 待管局审核" in row
    assert "取消接入正在办理：管局批准前该接入仍然有效" in row
    assert "120.79.1.10" in row  # the approved address
    assert reverse("providers:access-withdraw") not in row  # nothing to withdraw twice
    assert website.number not in applied


def test_an_access_an_amendment_changes_is_listed_as_approved_with_the_change_on_its_way(
    console, provider
):
    from filings.serializers import filing_as_json
    from filings.services import filing_save_data, filing_submit

    website = approved_website(provider)
    filing = website.filing
    data = filing_as_json(filing)
    site = data["websites"][0]
    for key in ("ips", "server_location", "access_provider"):
        site.pop(key)
    site["accesses"][0]["ips"] = ["121.40.8.99"]
    filing_save_data(filing=filing, by=filing.owner, data=data)
    filing_submit(filing=filing, by=filing.owner)

    in_force, applied = listed(console)

    row = in_force[in_force.index(f'data-website="{website.number}"') :].split("</tr>")[0]
    assert 'data-effect="changes"' in row and "变更备案" in row
    assert "变更正在办理" in row
    assert "120.79.1.10" in row and "121.40.8.99" not in row
    assert website.number not in applied


def test_withdrawing_again_while_the_cancellation_waits_says_so_on_every_entrance(
    console, provider
):
    website = approved_website(provider)
    typed = {"website_number": website.number, "reason": "停止服务", "confirm": website.number}
    console.post(reverse("providers:access-withdraw"), typed)

    again = console.post(reverse("providers:access-withdraw"), typed)
    answer = api_client(provider_staff(provider)).post(
        "/api/v1/provider/accesses/cancel/",
        {"website": website.pk, "reason": "停止服务"},
        format="json",
    )

    assert again.status_code == 400
    assert "该备案已有一项未结束的申请（取消接入）" in again.content.decode()
    assert "贵单位没有" not in again.content.decode()
    assert answer.status_code == 409 and answer.json()["code"] == "application_open"


def test_the_accesses_in_force_are_paged_by_number_each_with_what_its_application_does(
    console, provider, monkeypatch
):
    monkeypatch.setattr("providers.views.PAGE_SIZE", 2)
    plain = [approved_website(provider), approved_website(provider)]
    ending = approved_website(provider)
    console.post(
        reverse("providers:access-withdraw"),
        {"website_number": ending.number, "reason": "停止服务", "confirm": ending.number},
    )
    numbers = sorted([*(w.number for w in plain), ending.number])
    effects = {ending.number: "ends"}

    first = console.get(reverse("providers:accesses")).context["page"]
    second = console.get(reverse("providers:accesses"), {"page": 2}).context["page"]

    assert first.paginator.count == 3
    assert [row.website_number for row in first] == numbers[:2]
    assert [row.website_number for row in second] == numbers[2:]
    assert [row.effect for row in [*first, *second]] == [effects.get(n, "") for n in numbers]
    assert all(row.ips for row in [*first, *second])


def test_the_accesses_page_reads_in_the_same_number_of_queries_for_a_larger_provider(
    console, provider, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    approved_website(provider)
    console.get(reverse("providers:accesses"))
    # The count kept for the page numbers is dropped when approvals publish (after commit).
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(6):
            approved_website(provider)
        withdrawn = approved_website(provider)
    console.post(
        reverse("providers:access-withdraw"),
        {"website_number": withdrawn.number, "reason": "停止服务", "confirm": withdrawn.number},
    )

    with django_assert_max_num_queries(15):
        answer = console.get(reverse("providers:accesses"))

    assert answer.status_code == 200
    assert len(answer.context["page"]) == 8


# New access (新增接入) ---------------------------------------------------------------------------


def test_staff_apply_for_their_access_by_website_number_with_any_dash_past_their_own_review(
    console, provider
):
    website = approved_website(AccessProviderFactory())

    answer = console.post(
        reverse("providers:access-new"),
        {
            "website_number": website.number.replace("-", "—"),
            "method": "hosting",
            "server_location": "31",
            "ips": "121.40.8.20",
        },
    )

    assert answer.status_code == 302
    application = open_application(website)
    assert (application.kind, application.provider_id) == ("new_access", provider.pk)
    website.filing.refresh_from_db()
    assert website.filing.status != "provider_review"


def test_an_unknown_number_and_a_missing_location_are_shown_beside_their_fields_all_kept(
    console,
):
    unknown = console.post(
        reverse("providers:access-new"),
        {
            "website_number": "京ICP备2026999999号-1",
            "method": "colocation",
            "server_location": "44",
            "ips": "121.40.8.21",
        },
    )
    assert unknown.status_code == 400
    page = unknown.content.decode()
    assert 'id="error-summary"' in page and 'href="#id_website_number"' in page
    assert "没有网站备案号为 京ICP备2026999999号-1 的已备案网站" in page
    assert 'value="京ICP备2026999999号-1"' in page and "121.40.8.21" in page
    assert '<option value="colocation" selected>' in page

    website = approved_website(AccessProviderFactory())
    no_location = console.post(
        reverse("providers:access-new"),
        {"website_number": website.number, "method": "cloud", "ips": "121.40.8.22"},
    )
    assert no_location.status_code == 400
    assert 'id="id_server_location_error"' in no_location.content.decode()
    assert open_application(website) is None


# One access withdrawn (取消接入) -------------------------------------------------------------------


def test_withdrawing_the_only_access_asks_again_then_applies_and_says_it_leaves_a_shell(
    console, provider
):
    website = approved_website(provider)
    typed = {"website_number": website.number, "reason": "客户已停止使用本公司服务器"}

    asked = console.post(reverse("providers:access-withdraw"), typed)
    assert asked.status_code == 200
    assert "data-last-access" in asked.content.decode() and "空壳网站" in asked.content.decode()
    assert open_application(website) is None

    page = asked.content.decode()
    # The confirmation carries what was typed, and names the website it is given for.
    assert typed["reason"] in page
    assert f'name="confirm" value="{website.number}"' in page

    done = console.post(
        reverse("providers:access-withdraw"), {**typed, "confirm": website.number}, follow=True
    )
    assert "空壳网站" in done.content.decode()
    application = open_application(website)
    assert application.kind == "cancel_access"
    assert application.reason == typed["reason"]


def test_staff_cannot_withdraw_another_providers_access_from_the_page(console):
    website = approved_website(AccessProviderFactory())

    answer = console.post(
        reverse("providers:access-withdraw"),
        {"website_number": website.number, "reason": "无", "confirm": "1"},
    )

    assert answer.status_code == 400
    assert f"贵单位没有 {website.number} 的接入" in answer.content.decode()
    assert open_application(website) is None


def test_a_withdrawal_without_a_reason_is_refused_beside_the_reason_on_the_first_form(
    console, provider
):
    website = approved_website(provider)

    answer = console.post(
        reverse("providers:access-withdraw"), {"website_number": website.number, "reason": " "}
    )

    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'id="id_reason_error"' in page and 'href="#id_reason"' in page
    assert "请说明不再为该网站提供接入服务的原因" in page
    assert "data-last-access" in page  # the warning is there while it is corrected
    assert 'name="confirm"' not in page  # nothing to confirm before the reason is right
    assert open_application(website) is None


def test_a_control_character_in_the_reason_is_its_fields_error_before_any_confirmation(
    console, provider
):
    website = approved_website(provider)

    answer = console.post(
        reverse("providers:access-withdraw"),
        {"website_number": website.number, "reason": "客户\x01停用"},
    )

    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'id="id_reason_error"' in page and "控制字符" in page
    assert 'name="confirm"' not in page
    assert open_application(website) is None


def test_every_problem_of_the_withdrawal_form_is_told_at_once(console):
    theirs = approved_website(AccessProviderFactory())

    answer = console.post(
        reverse("providers:access-withdraw"), {"website_number": theirs.number, "reason": ""}
    )

    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'href="#id_website_number"' in page and 'href="#id_reason"' in page
    assert f"贵单位没有 {theirs.number} 的接入" in page
    assert open_application(theirs) is None


def test_a_confirmation_given_for_another_website_asks_again(console, provider):
    website = approved_website(provider)
    other = approved_website(provider)

    answer = console.post(
        reverse("providers:access-withdraw"),
        {"website_number": website.number, "reason": "停止服务", "confirm": other.number},
    )

    assert answer.status_code == 200
    assert f'name="confirm" value="{website.number}"' in answer.content.decode()
    assert open_application(website) is None


# Many withdrawn from a CSV file ------------------------------------------------------------------


def test_each_row_of_a_file_is_withdrawn_on_its_own_with_its_result_and_a_csv_of_them(
    console, provider
):
    mine = approved_website(provider)
    theirs = approved_website(AccessProviderFactory())
    content = (
        "网站备案号,原因\n"
        f"{mine.number},网站已无法访问\n"
        f"{theirs.number},网站已无法访问\n"
        "京ICP备2026999999号-1,号码有误\n"
        f"{mine.number},重复的一行\n"
    )

    answer = upload(console, ("\ufeff" + content).encode())

    assert answer.status_code == 200
    rows = answer.context["rows"]
    assert [row["outcome"] for row in rows] == ["applied", "error", "error", "error"]
    assert [row["line"] for row in rows] == [2, 3, 4, 5]
    assert "贵单位没有" in rows[1]["message"]
    assert "没有网站备案号为" in rows[2]["message"]
    assert rows[3]["message"]  # the record has an open application now
    assert rows[0]["last_access"] and "空壳网站" in rows[0]["message"]
    assert open_application(mine).kind == "cancel_access"
    assert open_application(theirs) is None

    download = console.get(reverse("providers:access-withdraw-results"))
    text = download.content.decode("utf-8-sig")
    assert download["Content-Disposition"].startswith("attachment")
    assert text.splitlines()[0] == "行号,网站备案号,原因,结果,说明"
    assert f"2,{mine.number},网站已无法访问,已申请，等待管局审核," in text
    assert f"3,{theirs.number},网站已无法访问,未受理," in text


def test_a_row_whose_reason_spans_lines_is_numbered_by_the_line_it_starts_on(console, provider):
    mine = approved_website(provider)
    content = (
        f'网站备案号,原因\n{mine.number},"客户合同到期\n不再续约"\n京ICP备2026999999号-1,号码有误\n'
    )

    answer = upload(console, content.encode())

    rows = answer.context["rows"]
    assert [(row["line"], row["outcome"]) for row in rows] == [(2, "applied"), (4, "error")]
    text = console.get(reverse("providers:access-withdraw-results")).content.decode("utf-8-sig")
    assert "\n4,京ICP备2026999999号-1,号码有误,未受理," in text.replace("\r\n", "\n")


def test_the_results_say_a_cancellation_waits_for_the_bureau_and_the_shell_with_it(
    console, provider
):
    mine = approved_website(provider)
    served_twice = approved_website(provider)
    Access.objects.create(
        website=served_twice, filing=served_twice.filing, provider=AccessProviderFactory()
    )
    content = (
        "网站备案号,原因\n"
        f"{mine.number},停止服务\n"
        f"{served_twice.number},停止服务\n"
        "京ICP备2026999999号-1,号码有误\n"
    )

    answer = upload(console, content.encode())

    page = answer.content.decode()
    assert 'data-applied="2"' in page and 'data-refused="1"' in page
    assert "2 个取消接入申请已提交管局审核；审核期间接入仍然有效。" in page
    assert "管局批准后，1 个网站将没有任何接入（空壳网站）。" in page
    assert "data-shells-now" not in page and "现已没有任何接入" not in page
    rows = answer.context["rows"]
    assert "管局批准后，网站将成为空壳网站" in rows[0]["message"]
    assert "空壳网站" not in rows[1]["message"]
    text = console.get(reverse("providers:access-withdraw-results")).content.decode("utf-8-sig")
    assert f"{mine.number},停止服务,已申请，等待管局审核," in text
    assert "管局批准后，网站将成为空壳网站" in text
    assert "号码有误,未受理,没有网站备案号为" in text


def test_the_results_in_english_say_what_happened_to_each_row(console, provider):
    mine = approved_website(provider)
    content = f"网站备案号,原因\n{mine.number},停止服务\n京ICP备2026999999号-1,号码有误\n"

    console.post("/i18n/setlang/", {"language": "en", "next": "/"})
    answer = upload(console, content.encode())

    page = answer.content.decode()
    assert "1 cancellation is sent to the bureau, which decides on it" in page
    assert "1 website will be left with no access (空壳网站) once the bureau approves." in page
    assert "1 row is refused and changes nothing" in page
    text = console.get(reverse("providers:access-withdraw-results")).content.decode("utf-8-sig")
    assert "Applied for: the bureau decides" in text
    assert "once the bureau approves, the website becomes an empty shell" in text
    assert ",Refused," in text


def test_with_the_setting_the_results_say_the_access_is_cancelled_and_the_shell_is_now(
    console, provider, settings
):
    settings.PROVIDER_ACCESS_CANCEL_AT_ONCE = True
    mine = approved_website(provider)

    answer = upload(console, f"网站备案号,原因\n{mine.number},停止服务\n".encode())

    page = answer.content.decode()
    assert 'data-cancelled="1"' in page and "1 个接入已立即取消。" in page
    assert "1 个网站现已没有任何接入（空壳网站），其主办者已收到提醒。" in page
    assert "data-applied" not in page and "管局批准后" not in page
    (row,) = answer.context["rows"]
    assert row["outcome"] == "cancelled" and "网站现已成为空壳网站" in row["message"]
    text = console.get(reverse("providers:access-withdraw-results")).content.decode("utf-8-sig")
    assert f"{mine.number},停止服务,已立即取消," in text


def test_a_gb18030_file_with_english_headers_is_read(console, provider):
    website = approved_website(provider)
    content = f"website_number,reason\n{website.number},客户合同到期\n".encode("gb18030")

    answer = upload(console, content)

    assert [row["outcome"] for row in answer.context["rows"]] == ["applied"]
    assert open_application(website).reason == "客户合同到期"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\xff\x80\x80", "既不是 UTF-8 也不是 GB18030"),
        ("网站备案号,备注\n京ICP备2026999999号-1,停机\n".encode(), "文件缺少模板中的这些列：原因"),
        ("网站备案号,原因\n".encode(), "没有数据行"),
    ],
    ids=["wrong encoding", "missing header", "no rows"],
)
def test_a_file_that_cannot_be_read_is_refused_whole(console, content, message):
    answer = upload(console, content)

    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'id="id_file_error"' in page and message in page
    assert answer.context["rows"] is None


def test_a_file_over_the_row_cap_is_refused_and_nothing_is_withdrawn(console, provider, settings):
    settings.PROVIDER_ACCESS_CANCEL_MAX_ROWS = 1
    website = approved_website(provider)
    content = f"网站备案号,原因\n{website.number},停机\n京ICP备2026999999号-1,停机\n"

    answer = upload(console, content.encode())

    assert answer.status_code == 400
    assert "每个文件最多 1 行，请拆分为多个文件" in answer.content.decode()
    assert open_application(website) is None


def test_the_results_download_needs_a_file_of_this_session_first(console):
    answer = console.get(reverse("providers:access-withdraw-results"))
    assert answer.status_code == 302
    assert answer["Location"] == reverse("providers:access-withdraw-upload")


def test_the_upload_page_says_a_file_asks_no_empty_shell_confirmation_before_upload(
    console, provider
):
    page = console.get(reverse("providers:access-withdraw-upload")).content.decode()
    assert (
        "与逐个取消接入不同，通过文件取消网站唯一的接入时不会再次确认：取消生效后，该网站将没有"
        "任何接入（空壳网站），处理结果会列出每一个这样的网站。"
    ) in page

    console.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = console.get(reverse("providers:access-withdraw-upload")).content.decode()
    assert (
        "Unlike a single withdrawal, a file asks no confirmation before it withdraws a "
        "website's only access: that website is left with no access (an empty shell, 空壳网站) "
        "once the withdrawal takes effect, and the results list every such website."
    ) in page


def test_the_summary_lists_the_websites_left_with_no_access(console, provider, settings):
    mine = approved_website(provider)
    served_twice = approved_website(provider)
    Access.objects.create(
        website=served_twice, filing=served_twice.filing, provider=AccessProviderFactory()
    )
    content = f"网站备案号,原因\n{mine.number},停止服务\n{served_twice.number},停止服务\n"

    page = upload(console, content.encode()).content.decode()
    summary = page[page.index("data-summary") : page.index("</ul>", page.index("data-shells"))]
    assert mine.number in summary and served_twice.number not in summary

    settings.PROVIDER_ACCESS_CANCEL_AT_ONCE = True
    other = approved_website(provider)
    page = upload(console, f"网站备案号,原因\n{other.number},停止服务\n".encode()).content.decode()
    summary = page[page.index("data-shells-now") : page.index("</ul>", page.index("data-shells"))]
    assert other.number in summary


def test_the_results_say_their_chinese_headers_let_the_file_be_uploaded_again(console, provider):
    refused = "京ICP备2026999999号-1"
    mine = approved_website(provider)
    console.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = upload(console, f"网站备案号,原因\n{refused},号码有误\n".encode()).content.decode()
    link = page.index(reverse("providers:access-withdraw-results"))
    sentence = (
        "The results file keeps its Chinese column headers (网站备案号, 原因, …) in the "
        "English console too, so that you can correct its refused rows and upload it here again."
    )
    assert sentence in page and 0 < page.index(sentence) - link < 400

    # As it says: the English console's results, corrected, are read again as they are.
    results = console.get(reverse("providers:access-withdraw-results")).content.decode("utf-8-sig")
    assert results.splitlines()[0] == "行号,网站备案号,原因,结果,说明"
    answer = upload(console, results.replace(refused, mine.number).encode("utf-8-sig"))
    assert [row["outcome"] for row in answer.context["rows"]] == ["applied"]
    assert open_application(mine).reason == "号码有误"

    console.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = upload(console, f"网站备案号,原因\n{refused},号码有误\n".encode()).content.decode()
    assert (
        "无论控制台使用中文还是英文，结果文件都保留中文列名（网站备案号、原因等），以便您改正"
        "其中未受理的行后，在此再次上传。"
    ) in page
