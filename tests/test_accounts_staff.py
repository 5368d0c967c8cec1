"""Staff second factor (SPEC §1): TOTP enrolment, the OTP prompt, every staff page and API."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import URLPattern, URLResolver, get_resolver
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.permissions import IsBureauStaff, IsVerifiedStaff, _RolePermission
from tests.accounts_support import PASSWORD, captcha_test_mode, current_totp, login_form
from tests.factories import BureauFactory, MinistryFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("captcha_test_mode")]
__all__ = ["captcha_test_mode"]


@pytest.fixture
def no_otp_throttle(settings):
    """django-otp makes a device wait a second after a wrong code; these tests retry at once."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _sample_path(route: str) -> str:
    route = re.sub(r"<int:[^>]+>", "1", route)
    route = re.sub(r"<uuid:[^>]+>", "00000000-0000-0000-0000-000000000000", route)
    route = re.sub(r"<[^>]+>", "x", route)
    return "/" + route.lstrip("^").rstrip("$")


def get_or_post(client, path):
    response = client.get(path)
    return client.post(path) if response.status_code == 405 else response


def staff_pages():
    return sorted(
        _sample_path(route)
        for route, callback in _walk(get_resolver().url_patterns)
        if getattr(callback, "requires_staff_otp", False)
    )


def staff_api_calls():
    calls = []
    for route, callback in _walk(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        classes = getattr(view, "permission_classes", None) or []
        if any(isinstance(c, type) and issubclass(c, _RolePermission) for c in classes):
            calls.append(_sample_path(route))
    return sorted(calls)


def test_every_staff_page_sends_a_staff_member_without_a_device_to_enrolment(client):
    pages = staff_pages()
    assert "/accounts/" in pages
    client.force_login(BureauFactory())
    for path in pages:
        response = get_or_post(client, path)
        assert response.status_code in {302, 403, 404}, path
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/otp/setup/"), path


def test_every_staff_page_asks_an_enrolled_staff_member_for_the_code(client):
    bureau = BureauFactory()
    TOTPDevice.objects.create(user=bureau, name="phone", confirmed=True)
    client.force_login(bureau)
    for path in staff_pages():
        response = get_or_post(client, path)
        assert response.status_code in {302, 403, 404}, path
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/otp/?next="), path


def test_every_staff_api_call_refuses_a_session_without_the_second_factor(client):
    bureau = BureauFactory()
    TOTPDevice.objects.create(user=bureau, name="phone", confirmed=True)
    client.force_login(bureau)
    for path in staff_api_calls():
        for method in (client.get, client.post):
            assert method(path).status_code in {403, 405}, path


def test_enrolment_shows_an_inline_qr_code_and_confirms_with_a_code(client, no_otp_throttle):
    bureau = BureauFactory()
    client.force_login(bureau)
    response = client.get("/accounts/otp/setup/")
    body = response.content.decode()
    assert "<svg" in body and "<img" not in body.split("<svg")[0].split("otp-qr")[-1]
    device = TOTPDevice.objects.get(user=bureau)
    assert not device.confirmed
    bad = client.post("/accounts/otp/setup/", {"otp_token": "000000", "next": "/accounts/"})
    assert bad.status_code == 400
    response = client.post(
        "/accounts/otp/setup/", {"otp_token": current_totp(device), "next": "/accounts/"}
    )
    assert response["Location"] == "/accounts/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/accounts/").status_code == 200


def test_the_otp_prompt_lets_an_enrolled_staff_member_in(client, no_otp_throttle):
    bureau = BureauFactory()
    device = TOTPDevice.objects.create(user=bureau, name="phone", confirmed=True)
    client.post("/accounts/login/", login_form(bureau.username))
    response = client.get("/accounts/")
    assert response["Location"].startswith("/accounts/otp/")
    assert client.post("/accounts/otp/", {"otp_token": "123456"}).status_code == 400
    response = client.post(
        "/accounts/otp/", {"otp_token": current_totp(device), "next": "/accounts/"}
    )
    assert response["Location"] == "/accounts/"
    assert client.get("/accounts/").status_code == 200


def test_signing_in_as_staff_goes_to_the_second_factor_first(client):
    bureau = BureauFactory()
    response = client.post("/accounts/login/", login_form(bureau.username))
    assert response["Location"].startswith("/accounts/otp/setup/")


def test_an_owner_needs_no_second_factor(client):
    client.force_login(UserFactory())
    assert client.get("/accounts/").status_code == 200


def test_createstaff_then_enrol_with_the_printed_uri(client):
    out = StringIO()
    call_command(
        "createstaff",
        "bj-new",
        "--role",
        "bureau",
        "--province",
        "11",
        "--email",
        "new@bca.example.cn",
        "--mobile",
        "13900005555",
        "--password",
        "Str0ng-pass!",
        stdout=out,
    )
    uri = re.search(r"otpauth://\S+", out.getvalue()).group(0)
    client.post("/accounts/login/", login_form("bj-new", "Str0ng-pass!"))
    page = client.get("/accounts/otp/setup/").content.decode()
    secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)
    assert secret[:4] in page.replace(" ", "")
    code = StringIO()
    call_command("totp_code", "bj-new", stdout=code)
    response = client.post("/accounts/otp/setup/", {"otp_token": code.getvalue().strip()})
    assert response.status_code == 302
    assert User.objects.get(username="bj-new").totpdevice_set.get().confirmed


def test_totp_code_is_refused_in_production(settings):
    settings.OUTBOX_ENABLED = False
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("totp_code", "anyone", stdout=StringIO())


# The token API for staff -------------------------------------------------------------------------


def token(client, **data):
    return client.post("/api/v1/auth/token/", data, content_type="application/json")


def test_staff_must_give_a_valid_otp_for_a_token(client, no_otp_throttle):
    bureau = BureauFactory()
    device = TOTPDevice.objects.create(user=bureau, name="phone", confirmed=True)
    missing = token(client, username=bureau.username, password=PASSWORD)
    assert missing.status_code == 400 and "otp" in missing.json()
    wrong = token(client, username=bureau.username, password=PASSWORD, otp="000000")
    assert wrong.status_code == 400 and "otp" in wrong.json()
    ok = token(client, username=bureau.username, password=PASSWORD, otp=current_totp(device))
    assert ok.status_code == 200 and ok.json()["token"]


def test_staff_without_a_device_gets_no_token(client):
    bureau = BureauFactory()
    response = token(client, username=bureau.username, password=PASSWORD, otp="123456")
    assert response.status_code == 403


def test_wrong_otps_count_towards_the_lockout(client, settings):
    bureau = BureauFactory()
    TOTPDevice.objects.create(user=bureau, name="phone", confirmed=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token(client, username=bureau.username, password=PASSWORD, otp="000000")
    assert token(client, username=bureau.username, password=PASSWORD, otp="1").status_code == 429


class _Request:
    def __init__(self, user, auth=None, verified=False):
        self.user = user
        self.auth = auth
        self._request = type(
            "R", (), {"user": type("U", (), {"is_verified": lambda s: verified})()}
        )()


def test_api_permissions_need_the_role_and_the_second_factor():
    from rest_framework.authtoken.models import Token

    bureau, owner, ministry = BureauFactory(), UserFactory(), MinistryFactory()
    assert not IsVerifiedStaff().has_permission(_Request(bureau), None)
    assert IsVerifiedStaff().has_permission(_Request(bureau, verified=True), None)
    assert IsVerifiedStaff().has_permission(
        _Request(bureau, auth=Token.objects.create(user=bureau)), None
    )
    assert not IsVerifiedStaff().has_permission(_Request(owner, verified=True), None)
    assert not IsBureauStaff().has_permission(_Request(ministry, verified=True), None)


def test_the_ministry_sees_accounts_sign_ins_and_the_delivery_log_in_the_admin(client):
    from django_otp import login as otp_login

    admin = MinistryFactory()
    device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    client.force_login(admin)
    request = type("R", (), {"session": client.session, "user": admin})()
    otp_login(request, device)
    request.session.save()
    for path in (
        "/admin/accounts/user/",
        f"/admin/accounts/user/{admin.pk}/change/",
        "/admin/accounts/user/add/",
        "/admin/accounts/signin/",
        "/admin/beian/message/",
    ):
        assert client.get(path).status_code == 200, path


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad_next", ["307322", "accounts:login", "https://evil.example/", "//evil.example/"]
)
def test_a_next_that_is_not_a_path_on_this_site_is_ignored(client, bad_next):
    client.force_login(BureauFactory())
    response = client.get("/accounts/otp/", {"next": bad_next})
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert "evil" not in response["Location"]
