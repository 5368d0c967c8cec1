"""Provider imports cover apps and mini-programs (SPEC §13): a row in the API carries them in
the filing JSON's ``apps`` and ``mini_programs``; a CSV row carries one of each in its app
columns, beside or instead of its website."""

import csv
import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from filings.models import App, Filing, Identifier, MiniProgram
from providers import imports
from providers.models import ImportJob
from tests import app_support as aps
from tests import filings_support as fs
from tests.factories import AccessProviderFactory
from tests.providers_support import provider_staff
from tests.test_providers_imports import post, row, upload

pytestmark = pytest.mark.django_db

WECHAT_ID = aps.MINI_PROGRAM["platform_id"]


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def staff():
    return provider_staff()


@pytest.fixture
def api(staff):
    client = APIClient()
    client.force_authenticate(staff)
    return client


def app_row(n: int, *, app: dict | None = None, **app_changes) -> dict:
    """A client row whose filing has its website, an app (its access naming no provider, so
    at the importing one) and a WeChat mini-program."""
    given = row(n)
    app = app or aps.app(**app_changes)
    app["accesses"] = [{"method": "cloud", "server_location": "11", "ips": ["120.79.1.20"]}]
    given["filing"]["apps"] = [app]
    given["filing"]["mini_programs"] = [aps.mini_program()]
    return given


# Rows of the API ----------------------------------------------------------------------------


def test_a_row_with_an_app_and_a_mini_program_is_imported_filed_and_found_by_a_store(
    api, staff, django_capture_on_commit_callbacks
):
    (result,) = post(api, [app_row(1)], django_capture_on_commit_callbacks)

    assert result["status"] == "created", result["errors"]
    (app,) = result["filing"]["apps"]
    assert app["platforms"] == [aps.android()]
    # An access naming no provider is the importing provider's, as a website's.
    assert [a["provider"] for a in app["accesses"]] == [staff.provider_id]
    (program,) = result["filing"]["mini_programs"]
    assert (program["platform"], program["platform_id"]) == ("wechat", WECHAT_ID)
    filing = Filing.objects.get(pk=result["filing"]["id"])
    assert filing.status == "pending_review"
    assert set(Identifier.objects.filter(filing=filing).values_list("identifier", flat=True)) == {
        aps.ANDROID_PACKAGE,
        WECHAT_ID,
    }

    fs.approve(fs.to_bureau(filing))
    store = APIClient()
    store.force_authenticate(
        provider_staff(
            AccessProviderFactory(is_access_provider=False, is_distribution_platform=True)
        )
    )
    answers = store.post(
        "/api/v1/provider/apps/check/",
        {"identifiers": [aps.ANDROID_PACKAGE, WECHAT_ID]},
        format="json",
    ).json()["results"]
    assert [(a["filed"], a["number"]) for a in answers] == [
        (True, f"{filing.number}-1A"),
        (True, f"{filing.number}-1X"),
    ]


def test_an_app_access_at_another_provider_is_that_rows_error_as_for_a_website(
    api, django_capture_on_commit_callbacks
):
    other = AccessProviderFactory()
    foreign = app_row(1)
    foreign["filing"]["apps"][0]["accesses"][0]["provider"] = other.pk
    (result,) = post(api, [foreign, app_row(2)], django_capture_on_commit_callbacks)[:1]

    assert result["status"] == "error"
    errors = result["errors"]["filing"]["apps"][0]["accesses"][0]["provider"]
    assert any("本单位的接入" in message for message in errors)
    assert not App.objects.filter(accesses__provider=other).exists()


def test_a_service_number_sent_in_a_row_is_not_taken(api, django_capture_on_commit_callbacks):
    given = app_row(1)
    given["filing"]["apps"][0]["number"] = "京ICP备2026999999号-9A"
    given["filing"]["mini_programs"][0]["number"] = "京ICP备2026999999号-9X"

    (result,) = post(api, [given], django_capture_on_commit_callbacks)

    assert result["status"] == "created", result["errors"]
    assert result["filing"]["apps"][0]["number"] is None
    assert result["filing"]["mini_programs"][0]["number"] is None


def test_an_import_of_apps_one_row_at_a_time_keeps_them_too(staff):
    """The path a chunk falls back to when the database refuses it (each row alone)."""
    from providers.import_jobs import _import_one
    from providers.imports import ImportBatch

    given = app_row(1)
    batch = ImportBatch(staff.provider, [given])
    result = _import_one(provider=staff.provider, by=staff, index=0, payload=given, batch=batch)

    assert result.status == "created", result.errors
    assert App.objects.get(filing=result.filing).accesses.get().provider == staff.provider
    assert MiniProgram.objects.filter(filing=result.filing).count() == 1


# CSV files ----------------------------------------------------------------------------------

STORE_NAME = "示例应用市场"


def csv_cells(n: int, *, website: bool = True, **app_cells) -> dict:
    """The cells of a CSV row (header → text) of client ``n``: sponsor, a website unless
    ``website`` is false, and the app and mini-program columns given."""
    cells = dict.fromkeys(imports.HEADERS, "")
    given = row(n)
    sponsor, principal = given["filing"]["sponsor"], given["filing"]["sponsor"]["principal"]
    cells.update(
        {
            "用户名": given["client"]["username"],
            "电子邮箱": given["client"]["email"],
            "手机号码": given["client"]["mobile"],
            "主办单位性质": "企业",
            "主办单位名称": sponsor["name"],
            "主办单位证件类型": "统一社会信用代码",
            "主办单位证件号码": sponsor["id_number"],
            "主办单位所在省份": "北京",
            "主办单位通讯地址": sponsor["address"],
            "负责人姓名": principal["name"],
            "负责人证件类型": "身份证",
            "负责人证件号码": principal["id_number"],
            "负责人手机号码": principal["mobile"],
            "负责人电子邮箱": principal["email"],
        }
    )
    if website:
        domain = f"client{n}-site.cn"
        cells.update(
            {
                "网站名称": f"客户网站{n}",
                "网站首页网址": f"http://www.{domain}/",
                "网站域名": domain,
                "网站IP地址": "120.79.1.10",
                "网站服务内容": "企业网站",
                "服务器放置地点": "北京",
                "是否经营性": "否",
            }
        )
    cells.update(app_cells)
    return cells


APP_CELLS = {
    "App名称": "示例App",
    "App安卓包名": aps.ANDROID_PACKAGE,
    "App安卓公钥": aps.ANDROID_KEY,
    # As keytool prints it, colons and all.
    "App安卓签名MD5值": ":".join(
        aps.ANDROID_MD5[i : i + 2] for i in range(0, len(aps.ANDROID_MD5), 2)
    ),
    "AppiOS Bundle ID": "cn.example.Beian.Shop",
    "AppiOS公钥": aps.IOS_KEY,
    "AppiOS签名SHA-1值": aps.IOS_SHA1.lower(),
    "App使用域名": "api.example.cn；cdn.example.cn",
    "App分发平台": f"{STORE_NAME}；其它",
    "App服务内容": "企业网站",
    "App是否经营性": "否",
    "AppIP地址": "120.79.1.20",
    "App服务器放置地点": "北京",
    "小程序名称": "示例小程序",
    "小程序平台": "微信",
    "小程序AppID": "ＷＸ0123456789ABCDEF",
    "小程序服务内容": "企业网站",
    "小程序是否经营性": "否",
}


def csv_file(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(imports.HEADERS)
    for cells in rows:
        writer.writerow([cells[h] for h in imports.HEADERS])
    return out.getvalue().encode("utf-8-sig")


@pytest.fixture
def store():
    return AccessProviderFactory(
        name=STORE_NAME, is_access_provider=False, is_distribution_platform=True
    )


def test_a_csv_row_with_an_app_and_a_mini_program_reads_into_the_api_shape(store):
    ((_line, payload),) = imports.parse_csv(csv_file([csv_cells(1, **APP_CELLS)]))

    filing = payload["filing"]
    assert len(filing["websites"]) == 1
    (app,) = filing["apps"]
    assert [p["platform"] for p in app["platforms"]] == ["android", "ios"]
    assert app["platforms"][1] == {
        "platform": "ios",
        "identifier": "cn.example.Beian.Shop",
        "public_key": aps.IOS_KEY,
        "fingerprint": aps.IOS_SHA1.lower(),
    }
    assert app["domains"] == ["api.example.cn", "cdn.example.cn"]
    assert app["stores"] == [store.pk, "other"]
    assert app["services"] == ["corporate"] and app["commercial"] is False
    assert app["accesses"] == [{"ips": ["120.79.1.20"], "server_location": "11", "method": "other"}]
    (program,) = filing["mini_programs"]
    assert program == {
        "name": "示例小程序",
        "platform": "wechat",
        "platform_id": "ＷＸ0123456789ABCDEF",
        "services": ["corporate"],
        "commercial": False,
    }
    assert "cell_errors" not in payload


def test_a_csv_with_one_app_and_one_mini_program_is_imported(
    client, staff, store, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    content = csv_file(
        [
            csv_cells(1, **APP_CELLS),
            # A client filing a mini-program only: its website cells are empty.
            csv_cells(
                2,
                website=False,
                **{
                    **{k: v for k, v in APP_CELLS.items() if k.startswith("小程序")},
                    "小程序AppID": "wx00000000000000aa",
                },
            ),
        ]
    )
    response = upload(client, content, django_capture_on_commit_callbacks)

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert (job.status, job.created_count, job.error_count) == ("done", 2, 0), list(
        job.results.values_list("errors", flat=True)
    )
    first = Filing.objects.get(owner__username="client1")
    app = App.objects.get(filing=first)
    assert [(i.platform, i.identifier) for i in app.identifiers.all()] == [
        ("android", aps.ANDROID_PACKAGE),
        ("ios", "cn.example.Beian.Shop"),
    ]
    assert app.identifiers.get(platform="ios").fingerprint == aps.IOS_SHA1.upper()
    assert app.stores == [store.pk, "other"]
    assert app.accesses.get().provider == staff.provider
    assert MiniProgram.objects.get(filing=first).identifiers.get().identifier == WECHAT_ID
    second = Filing.objects.get(owner__username="client2")
    assert not second.websites.exists() and not App.objects.filter(filing=second).exists()
    assert MiniProgram.objects.filter(filing=second).count() == 1


def test_a_csv_report_names_the_app_column_at_fault(
    client, staff, store, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    bad = csv_cells(
        1,
        **{
            **APP_CELLS,
            "AppiOS签名SHA-1值": aps.ANDROID_MD5,  # the MD5 where SHA-1 is asked
            "App分发平台": "不存在的商店",
            "小程序平台": "微信",
            "小程序AppID": "wx123",
        },
    )
    upload(client, csv_file([bad]), django_capture_on_commit_callbacks)

    job = ImportJob.objects.get()
    assert (job.created_count, job.error_count) == (0, 1)
    report = client.get(reverse("providers:import-errors", args=[job.pk])).content.decode(
        "utf-8-sig"
    )
    columns = {line.split(",")[2] for line in report.strip().splitlines()[1:]}
    assert {"AppiOS签名SHA-1值", "App分发平台", "小程序AppID"} <= columns, report
    assert "不存在的商店" in report
    page = client.get(reverse("providers:import-detail", args=[job.pk])).content.decode()
    assert "AppiOS签名SHA-1值" in page


def test_the_template_lists_the_app_columns_and_a_file_without_them_still_reads():
    template = imports.template_csv().decode("utf-8-sig").splitlines()
    header = template[0].split(",")
    assert header[-5:] == [
        "小程序名称",
        "小程序平台",
        "小程序AppID",
        "小程序服务内容",
        "小程序是否经营性",
    ]
    assert "App安卓包名" in header and "AppiOS签名SHA-1值" in header
    assert any(line.startswith("# 小程序平台,微信 / WeChat / wechat") for line in template)

    without = [h for h in imports.HEADERS if h not in dict(imports.APP_COLUMNS)]
    cells = csv_cells(1)
    content = (",".join(without) + "\n" + ",".join(cells[h] for h in without) + "\n").encode()
    ((_line, payload),) = imports.parse_csv(content)
    assert "apps" not in payload["filing"] and "mini_programs" not in payload["filing"]
    assert payload["filing"]["websites"][0]["name"] == "客户网站1"
