"""The compliance checker (Q15) against a website the test serves on 127.0.0.1, and its SSRF
guard."""

import socket

import pytest

from certificates import fetch as fetch_module
from certificates.compliance import run_check
from certificates.models import Certificate, ComplianceCheck
from certificates.services import (
    CheckNotAllowed,
    CheckTooSoon,
    compliance_request_check,
    footer_snippet,
)
from certificates.tasks import check_all
from tests.factories import BureauFactory, UserFactory
from tests.test_certificates_support import LocalSite, approved_filing, reissue

pytestmark = pytest.mark.django_db

PORTAL = "https://beian.example.gov.cn"


@pytest.fixture
def site(settings):
    local = LocalSite()
    settings.PORTAL_URL = PORTAL
    settings.COMPLIANCE_ALLOW_PRIVATE_TARGETS = True
    settings.COMPLIANCE_RESOLVE = {
        "example.cn": f"127.0.0.1:{local.port}",
        "www.example.cn": f"127.0.0.1:{local.port}",
    }
    settings.COMPLIANCE_HOST_INTERVAL_SECONDS = 0
    settings.COMPLIANCE_ON_DEMAND_COOLDOWN_SECONDS = 0
    settings.COMPLIANCE_TOTAL_TIMEOUT = 5
    yield local
    local.close()


@pytest.fixture
def filing():
    return approved_filing(domains=("example.cn",))


def certificate_of(filing) -> Certificate:
    return Certificate.objects.get(filing=filing, status="valid")


def homepage(number: str) -> str:
    return f"<html><body><main>欢迎</main><footer>{footer_snippet(number)}</footer></body></html>"


def install(site, filing):
    site.serve(
        "/cert/bazs.cert",
        certificate_of(filing).file_bytes,
        headers={"Content-Type": "application/octet-stream"},
    )
    site.serve("/", homepage(filing.number))


def check(filing) -> ComplianceCheck:
    return run_check(filing=filing, domain="example.cn", trigger="owner")


def test_a_correctly_installed_site_passes(site, filing):
    install(site, filing)
    result = check(filing)
    assert result.ok and result.reason == "ok"
    assert result.certificate == certificate_of(filing)
    assert ("example.cn", "/cert/bazs.cert") in site.requests


def test_a_missing_file_fails(site, filing):
    site.serve("/", homepage(filing.number))
    result = check(filing)
    assert not result.ok
    assert result.reason == "cert_missing"
    assert "404" in result.detail


def test_a_stale_certificate_fails(site, filing):
    old = certificate_of(filing).file_bytes
    reissue(filing)
    site.serve("/cert/bazs.cert", old)
    site.serve("/", homepage(filing.number))
    result = check(filing)
    assert result.reason == "cert_stale"


def test_a_tampered_file_fails_as_not_genuine(site, filing):
    site.serve("/cert/bazs.cert", certificate_of(filing).file_bytes.replace(b"example", b"exbmple"))
    site.serve("/", homepage(filing.number))
    assert check(filing).reason == "cert_not_genuine"


def test_a_homepage_without_the_number_fails(site, filing):
    install(site, filing)
    site.serve("/", "<html><body><footer>Copyright 2026</footer></body></html>")
    result = check(filing)
    assert result.reason == "footer_missing"
    assert filing.number in result.detail


def test_a_number_not_linked_to_the_portal_fails(site, filing):
    install(site, filing)
    site.serve("/", f'<footer><a href="http://elsewhere.cn/">{filing.number}</a></footer>')
    assert check(filing).reason == "footer_not_linked"


def test_a_homepage_in_gb18030_with_the_website_number_passes(site, filing):
    install(site, filing)
    body = f'<footer><a href="{PORTAL}/">{filing.number}-1</a></footer>'.encode("gb18030")
    site.serve("/", body, headers={"Content-Type": "text/html; charset=GBK"})
    assert check(filing).ok


def test_redirects_are_followed_up_to_three(site, filing):
    install(site, filing)
    site.serve("/", b"", status=301, headers={"Location": "http://www.example.cn/home"})
    site.serve("/home", homepage(filing.number))
    assert check(filing).ok
    for n in range(4):
        site.serve(f"/loop{n}", b"", status=302, headers={"Location": f"/loop{n + 1}"})
    site.serve("/", b"", status=302, headers={"Location": "/loop0"})
    result = check(filing)
    assert result.reason == "unreachable"
    assert "redirects" in result.detail


def test_a_response_larger_than_the_limit_is_not_read(site, filing, settings):
    settings.COMPLIANCE_MAX_CERT_BYTES = 1024
    site.serve("/cert/bazs.cert", b"x" * 5000)
    assert check(filing).reason == "too_large"


def test_an_unreachable_site_is_recorded(site, filing, settings):
    settings.COMPLIANCE_RESOLVE = {"example.cn": "127.0.0.1:1"}
    result = check(filing)
    assert result.reason == "unreachable" and not result.ok


# The SSRF guard ---------------------------------------------------------------------------------


def test_a_private_address_is_refused_outside_test_settings(site, filing, settings):
    install(site, filing)
    settings.COMPLIANCE_ALLOW_PRIVATE_TARGETS = False
    result = check(filing)
    assert result.reason == "refused"
    assert site.requests == []  # nothing was sent to the private address


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "100.64.0.1",
        "0.0.0.0",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_every_kind_of_non_public_address_is_refused(settings, monkeypatch, address):
    settings.COMPLIANCE_ALLOW_PRIVATE_TARGETS = False
    settings.COMPLIANCE_RESOLVE = {}
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, **kw: [(family, socket.SOCK_STREAM, 6, "", (address, port))],
    )
    with pytest.raises(fetch_module.FetchError) as exc:
        fetch_module.fetch("http://example.cn/", max_bytes=1024)
    assert exc.value.reason == "refused"


def test_a_name_that_also_resolves_inside_is_refused_whole(settings, monkeypatch):
    settings.COMPLIANCE_ALLOW_PRIVATE_TARGETS = False
    settings.COMPLIANCE_RESOLVE = {}
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, **kw: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.8", port)),
        ],
    )
    with pytest.raises(fetch_module.FetchError):
        fetch_module.fetch("http://example.cn/", max_bytes=1024)


def test_a_redirect_to_a_private_address_is_refused(site, filing, settings, monkeypatch):
    """The local test site stands in for a public host; its redirect inside is refused."""
    from beian import outbound

    real = outbound.is_public
    monkeypatch.setattr(outbound, "is_public", lambda ip: str(ip) == "127.0.0.1" or real(ip))
    settings.COMPLIANCE_ALLOW_PRIVATE_TARGETS = False
    site.serve(
        "/cert/bazs.cert",
        b"",
        status=302,
        headers={"Location": "http://169.254.169.254/latest/meta-data/"},
    )
    result = check(filing)
    assert result.reason == "refused"
    assert "169.254.169.254" in result.detail


def test_a_redirect_to_another_port_or_scheme_is_refused(site, filing):
    site.serve("/cert/bazs.cert", b"", status=302, headers={"Location": "http://example.org:8080/"})
    assert check(filing).reason == "refused"
    site.serve("/cert/bazs.cert", b"", status=302, headers={"Location": "file:///etc/passwd"})
    assert check(filing).reason == "refused"


def test_private_targets_may_not_be_allowed_in_production(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import beian.settings as project_settings

    monkeypatch.setenv("DJANGO_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 60)
    monkeypatch.setenv("ALLOWED_HOSTS", "beian.example.gov.cn")
    monkeypatch.setenv("SMS_GATEWAY_URL", "https://sms.example.cn/send")
    monkeypatch.setenv("SMS_GATEWAY_SECRET", "s")
    monkeypatch.setenv("COMPLIANCE_ALLOW_PRIVATE_TARGETS", "true")
    try:
        with pytest.raises(ImproperlyConfigured, match="COMPLIANCE_ALLOW_PRIVATE_TARGETS"):
            importlib.reload(project_settings)
    finally:
        monkeypatch.undo()
        importlib.reload(project_settings)


def test_requests_to_one_host_are_spaced_out(site, filing, settings, monkeypatch):
    settings.COMPLIANCE_HOST_INTERVAL_SECONDS = 30
    settings.COMPLIANCE_TOTAL_TIMEOUT = 1
    install(site, filing)
    result = check(filing)
    # The file was fetched; the homepage, on the same host, had to wait longer than allowed.
    assert result.reason == "unreachable"
    assert "busy" in result.detail
    assert len(site.requests) == 1


# Running it ------------------------------------------------------------------------------------


def test_the_owner_runs_the_check_from_the_task_list_and_sees_it_pass(
    site, filing, client, django_capture_on_commit_callbacks
):
    install(site, filing)
    client.force_login(filing.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/certificates/{filing.pk}/check/", {"next": "/somewhere/"})
    assert response.status_code == 302 and response["Location"] == "/somewhere/"
    assert ComplianceCheck.objects.get(filing=filing).ok
    guide = client.get(f"/certificates/{filing.pk}/install/").content.decode()
    assert "example.cn" in guide and "badge text-bg-success" in guide


def test_check_now_is_404_for_another_owner_and_refuses_an_offsite_next(site, filing, client):
    install(site, filing)
    client.force_login(UserFactory())
    assert client.post(f"/certificates/{filing.pk}/check/").status_code == 404
    client.force_login(filing.owner)
    response = client.post(f"/certificates/{filing.pk}/check/", {"next": "https://evil.cn/"})
    assert response["Location"] == f"/certificates/{filing.pk}/install/"


def test_a_second_check_moments_later_is_refused(
    site, filing, settings, django_capture_on_commit_callbacks
):
    settings.COMPLIANCE_ON_DEMAND_COOLDOWN_SECONDS = 60
    install(site, filing)
    with django_capture_on_commit_callbacks(execute=True):
        compliance_request_check(filing=filing, by=filing.owner)
    with pytest.raises(CheckTooSoon):
        compliance_request_check(filing=filing, by=filing.owner)
    assert ComplianceCheck.objects.filter(filing=filing).count() == 1


def test_check_now_with_the_broker_down_says_so_and_allows_another_try(
    site, filing, client, monkeypatch
):
    from kombu.exceptions import OperationalError

    from certificates.tasks import check_domain

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379")

    install(site, filing)
    client.force_login(filing.owner)
    monkeypatch.setattr(check_domain, "delay", broker_down)
    response = client.post(f"/certificates/{filing.pk}/check/", follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "检测服务暂时无法接收新任务" in page
    assert not ComplianceCheck.objects.filter(filing=filing).exists()
    monkeypatch.undo()
    client.post(f"/certificates/{filing.pk}/check/")
    assert ComplianceCheck.objects.filter(filing=filing).count() == 1


@pytest.mark.parametrize(
    "who", ["another_owner", "other_province_bureau", "provider_of_someone_else"]
)
def test_only_the_owner_side_and_the_province_may_ask_for_a_check(filing, who):
    from accounts.models import User
    from tests.factories import AccessProviderFactory

    requester = {
        "another_owner": lambda: UserFactory(),
        "other_province_bureau": lambda: BureauFactory(province_id="31"),
        "provider_of_someone_else": lambda: UserFactory(
            role=User.Role.PROVIDER, provider=AccessProviderFactory()
        ),
    }[who]()
    with pytest.raises(CheckNotAllowed):
        compliance_request_check(filing=filing, by=requester)
    assert not ComplianceCheck.objects.exists()


def test_bureau_staff_of_the_province_check_from_the_detail_page(
    site, filing, client, django_capture_on_commit_callbacks
):
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    install(site, filing)
    staff = BureauFactory()
    other = BureauFactory(province_id="31")
    for user, expected in ((other, 404), (staff, 302)):
        device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/certificates/{filing.pk}/staff-check/", {"next": "/review/"})
        assert response.status_code == expected
    assert ComplianceCheck.objects.get(filing=filing).trigger == "staff"


def test_the_staff_panel_shows_the_latest_result(site, filing, rf):
    from django.template import Context, Template

    install(site, filing)
    check(filing)
    site.serve("/", "<html></html>")
    check(filing)
    request = rf.get("/review/filings/1/")
    html = Template("{% include 'certificates/staff_panel.html' %}").render(
        Context({"filing": filing, "request": request})
    )
    assert "badge text-bg-danger" in html and "badge text-bg-success" not in html


def test_the_periodic_run_checks_every_valid_certificate_and_skips_revoked(site, filing):
    from certificates.services import certificate_revoke

    install(site, filing)
    revoked = approved_filing(domains=("gone.cn",))
    revoked.status = "revoked"
    revoked.save()
    certificate_revoke(filing=revoked)
    assert check_all() == 1
    assert list(ComplianceCheck.objects.values_list("domain", "ok", "trigger")) == [
        ("example.cn", True, "periodic")
    ]
