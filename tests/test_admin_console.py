"""The ministry's admin (issue 14 §5): its forms check what the services check and say so on
the field, and its pages in Chinese are Chinese."""

import re

import pytest
from django.urls import reverse

from accounts.models import User
from tests.factories import AccessProviderFactory, MinistryFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


@pytest.fixture
def admin_client(client):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    admin = MinistryFactory()
    device = TOTPDevice.objects.create(user=admin, name="t", confirmed=True)
    client.force_login(admin)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    client.admin = admin
    return client


def field_errors(response, name: str) -> str:
    html = response.content.decode()
    match = re.search(
        rf'<ul class="errorlist"[^>]*id="id_{name}_error"[^>]*>(.*?)</ul>', html, re.S
    ) or re.search(
        rf'<ul class="errorlist"[^>]*>(.*?)</ul>\s*(?:<p>\s*)?<label for="id_{name}"', html, re.S
    )
    return re.sub(r"<[^>]+>", " ", match.group(1)) if match else ""


def english_text(html: str) -> list[str]:
    """The visible lines of a page that hold Latin words and no Chinese."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    lines = [line.strip() for line in re.sub(r"<[^>]+>", "\n", html).split("\n")]
    return [
        line
        for line in lines
        if re.search(r"[A-Za-z]{3,}", line) and not re.search(r"[\u4e00-\u9fff]", line)
    ]


# Provider staff ------------------------------------------------------------------------------

STAFF = {
    "username": "newstaff",
    "email": "new@cloud.example.cn",
    "mobile": "13912340000",
    "password": "Strong-Pass-2026!",
}


def test_a_provider_staff_mobile_another_account_has_is_refused_on_its_field(admin_client):
    UserFactory(mobile="13912340000")
    provider = AccessProviderFactory()
    url = reverse("admin:providers_accessprovider_add_staff", args=[provider.pk])

    response = admin_client.post(url, STAFF)

    assert response.status_code == 200
    assert "该手机号码已被其他账户使用。" in response.content.decode()
    assert not User.objects.filter(username="newstaff").exists()


def test_a_provider_staff_email_another_account_has_is_refused_and_all_problems_show(admin_client):
    UserFactory(email="NEW@cloud.example.cn")
    UserFactory(username="takenname")
    provider = AccessProviderFactory()
    url = reverse("admin:providers_accessprovider_add_staff", args=[provider.pk])

    response = admin_client.post(url, {**STAFF, "username": "takenname", "mobile": "123"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "该电子邮箱已被其他账户使用。" in body
    assert "该用户名已被注册" in body
    assert "手机号码" in body and 'value="123"' in body  # the typing is kept
    assert User.objects.filter(role="provider").count() == 0


# Bureau staff and ministry administrators ----------------------------------------------------


def _add_account(admin_client, **overrides):
    data = {
        "username": "bj-reviewer",
        "email": "reviewer@bj.example.cn",
        "mobile": "13912340001",
        "role": "bureau",
        "province": "11",
        "password1": "Strong-Pass-2026!",
        "password2": "Strong-Pass-2026!",
        **overrides,
    }
    return admin_client.post(reverse("admin:accounts_user_add"), data)


def test_the_admin_adds_bureau_staff_through_the_account_service(admin_client):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    response = _add_account(admin_client)

    assert response.status_code == 302
    user = User.objects.get(username="bj-reviewer")
    assert (user.role, user.province_id, user.origin) == ("bureau", "11", "staff")
    assert TOTPDevice.objects.filter(user=user, confirmed=False).exists()


def test_the_admin_account_form_refuses_taken_values_and_a_bureau_without_province(admin_client):
    UserFactory(mobile="13912340001", email="reviewer@bj.example.cn")

    response = _add_account(admin_client, province="")

    body = response.content.decode()
    assert response.status_code == 200
    assert "该手机号码已被其他账户使用。" in body
    assert "该电子邮箱已被其他账户使用。" in body
    assert "请选择其所属省份" in body
    assert not User.objects.filter(username="bj-reviewer").exists()


def test_the_admin_does_not_create_owners_or_provider_staff_from_the_account_form(admin_client):
    response = _add_account(admin_client, role="owner", province="")
    assert response.status_code == 200
    assert "网站主办者自行注册" in response.content.decode()
    assert not User.objects.filter(username="bj-reviewer").exists()


def test_changing_an_account_to_a_mobile_another_account_has_is_refused(admin_client):
    UserFactory(mobile="13912340009")
    other = UserFactory(mobile="13912340008")
    url = reverse("admin:accounts_user_change", args=[other.pk])
    page = admin_client.get(url)
    form = page.context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if name in form.fields and name not in ("password", "last_login", "date_joined")
    }
    data.update({"mobile": "13912340009", "is_active": "on"})
    data = {k: v for k, v in data.items() if not isinstance(v, bool)}

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "该手机号码已被其他账户使用。" in response.content.decode()
    other.refresh_from_db()
    assert other.mobile == "13912340008"


# Chinese admin pages -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/accounts/user/add/",
        "/admin/axes/accessattempt/",
        "/admin/otp_totp/totpdevice/add/",
        "/admin/otp_static/staticdevice/add/",
    ],
)
def test_admin_pages_in_chinese_have_no_english_left(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 200
    left = [
        line
        for line in english_text(response.content.decode())
        if line not in {admin_client.admin.username, "&rsaquo;", "TOTP", "IP"}
    ]
    assert left == []


def test_the_province_picker_explains_itself_in_chinese(admin_client):
    import json

    script = admin_client.get("/admin/jsi18n/").content.decode()
    # The catalog is JSON: non-ASCII text is escaped.
    assert json.dumps("选择%s：在左侧框中选中后，点击“选择”箭头按钮。")[1:-1] in script


# The holiday calendar ------------------------------------------------------------------------

YEAR_2031 = """\
# 2031 (synthetic)
2031-01-01 休 元旦
2031-01-22~2031-01-28 休 春节
2031-01-26 班 春节
2031-10-01～2031-10-07 休 国庆节
2031-10-11 班 国庆节
"""


def test_the_ministry_pastes_a_year_checks_and_previews_it_then_saves_it(admin_client):
    import datetime as dt

    from beian.models import AuditLog, CalendarDay
    from beian.workdays import add_working_days

    CalendarDay.objects.create(date=dt.date(2031, 5, 1), is_workday=False, name="旧的记录")
    url = reverse("admin:beian_calendarday_paste_year")

    preview = admin_client.post(url, {"year": 2031, "text": YEAR_2031, "preview": "1"})
    page = preview.content.decode()
    assert preview.status_code == 200
    assert "2031-01-27" in page and "2031-10-11" in page
    assert "删除：不在清单中" in page  # 1 May is not in the list
    assert "2031-01-25" in page.split("以下周末放假日无需保存")[1]  # a Saturday holiday
    assert not CalendarDay.objects.filter(date__year=2031, name="春节").exists()

    digest = re.search(r'name="previewed" value="(\w+)"', page).group(1)
    saved = admin_client.post(
        url, {"year": 2031, "text": YEAR_2031, "confirm": "1", "previewed": digest}
    )
    assert saved.status_code == 302
    days = dict(CalendarDay.objects.filter(date__year=2031).values_list("date", "is_workday"))
    assert days[dt.date(2031, 1, 27)] is False and days[dt.date(2031, 10, 11)] is True
    assert dt.date(2031, 5, 1) not in days and dt.date(2031, 1, 25) not in days
    assert set(CalendarDay.objects.filter(date__year=2031).values_list("source", flat=True)) == {
        "manual"
    }
    # Deadlines follow at once: Friday 24 Jan + 1 working day is Sunday 26 Jan (班).
    assert add_working_days(dt.date(2031, 1, 24), 1) == dt.date(2031, 1, 26)
    assert AuditLog.objects.filter(
        action="calendar.year_replace", actor=admin_client.admin
    ).exists()


def test_a_pasted_year_with_mistakes_lists_every_one_with_its_line_and_saves_nothing(admin_client):
    from beian.models import CalendarDay

    text = "2031-01-01 休 元旦\n2031-13-01 休 错\n2031-01-06 班 周一\n2030-12-31 休 去年\n2031-02-01 玩\n"
    url = reverse("admin:beian_calendarday_paste_year")

    response = admin_client.post(
        url, {"year": 2031, "text": text, "confirm": "1", "previewed": "x"}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "第 2 行" in body and "第 3 行" in body and "第 4 行" in body and "第 5 行" in body
    assert "本来就是工作日" in body
    assert "2031-13-01 休 错" in body  # the typing is kept
    assert not CalendarDay.objects.filter(date__year=2031).exists()


def test_a_list_edited_after_its_preview_is_previewed_again_before_saving(admin_client):
    from beian.models import CalendarDay

    url = reverse("admin:beian_calendarday_paste_year")
    first = admin_client.post(url, {"year": 2031, "text": YEAR_2031, "preview": "1"})
    digest = re.search(r'name="previewed" value="(\w+)"', first.content.decode()).group(1)

    again = admin_client.post(
        url,
        {
            "year": 2031,
            "text": YEAR_2031 + "2031-05-01 休 劳动节\n",
            "confirm": "1",
            "previewed": digest,
        },
    )

    assert again.status_code == 200 and "2031-05-01" in again.content.decode()
    assert not CalendarDay.objects.filter(date__year=2031).exists()


def test_the_add_form_shows_the_source_as_it_will_be_stored(admin_client):
    page = admin_client.get(reverse("admin:beian_calendarday_add")).content.decode()
    # Not a choice that saving would silently replace: the value that is stored.
    assert 'name="source"' not in page
    assert "部级管理员录入" in page


def test_the_single_day_form_refuses_a_day_that_follows_the_weekday_rule(admin_client):
    from beian.models import CalendarDay

    url = reverse("admin:beian_calendarday_add")
    weekday_worked = admin_client.post(url, {"date": "2031-03-04", "is_workday": "on", "name": "x"})
    weekend_off = admin_client.post(url, {"date": "2031-03-08", "name": "y"})

    assert "本来就是工作日" in weekday_worked.content.decode()
    assert "本来就是休息日" in weekend_off.content.decode()
    assert not CalendarDay.objects.filter(date__year=2031).exists()


def test_the_admin_account_form_takes_a_full_width_email_in_its_normal_form(admin_client):
    response = _add_account(admin_client, email="ｒｅｖｉｅｗｅｒ＠ｂｊ．example．cn")

    assert response.status_code == 302
    assert User.objects.get(username="bj-reviewer").email == "reviewer@bj.example.cn"


def test_the_admin_account_form_still_refuses_what_is_no_email_on_its_field(admin_client):
    response = _add_account(admin_client, email="ｒｅｖｉｅｗｅｒ")

    assert response.status_code == 200
    assert "请输入能够收信的电子邮箱" in field_errors(response, "email")
    assert not User.objects.filter(username="bj-reviewer").exists()


def test_the_earlier_admin_address_of_access_providers_leads_to_their_page(admin_client):
    provider = AccessProviderFactory()

    response = admin_client.get(f"/admin/providers/accessprovider/{provider.pk}/change/?a=1")

    assert response.status_code == 302
    assert response.url == f"/admin/accounts/accessprovider/{provider.pk}/change/?a=1"
    assert admin_client.get(response.url).status_code == 200
