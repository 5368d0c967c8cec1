"""What the portal lets out and lets in (issue 9): uploads judged by content, the compliance
checker's refusal of private addresses, no personal data in any public answer, and a clean
``check --deploy`` in production mode."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.accounts_support import captcha_test_mode  # noqa: F401 - a fixture
from tests.factories import UserFactory
from tests.filings_support import PDF_BYTES, data, png_bytes, upload, website

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


# --- Uploads are judged by what they are, never by their name ----------------------------


DISGUISED = {
    "html named .pdf": (b"<html><script>alert(document.cookie)</script></html>", "approval.pdf"),
    "executable named .pdf": (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00PE\x00\x00", "approval.pdf"),
    "svg with a script named .png": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "scan.png",
    ),
    "pdf header only": (b"%PDF-1.7\n<script>alert(1)</script>", "approval.pdf"),
}


@pytest.fixture
def owner_with_a_news_site(settings, tmp_path):
    """An owner whose draft has a news website, which needs a pre-approval document."""
    from filings.services import filing_create, filing_save_data

    settings.MEDIA_ROOT = str(tmp_path)
    owner = UserFactory()
    filing = filing_create(owner=owner)
    entry = {"category": "news", "authority": "北京市委网信办", "document_number": "京[2026]1号"}
    filing_save_data(
        filing=filing,
        by=owner,
        data=data(
            websites=[website(services=["news"], preapprovals=[{**entry, "document": None}])]
        ),
    )
    return owner, filing, tmp_path


@pytest.mark.parametrize("kind", DISGUISED)
def test_a_disguised_upload_is_refused_on_the_page_and_by_the_api(kind, owner_with_a_news_site):
    from rest_framework.authtoken.models import Token

    from filings.models import Document

    owner, filing, media = owner_with_a_news_site
    content, name = DISGUISED[kind]
    browser = Client()
    browser.force_login(owner)
    page = browser.post(reverse("filings:documents"), {"w0-news-file": upload(content, name)})
    assert page.status_code == 400
    api = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner).key}")
    answer = api.post(
        reverse("api-filing-documents", kwargs={"pk": filing.pk}), {"file": upload(content, name)}
    )
    assert answer.status_code == 400
    assert "file" in answer.json()
    assert not Document.objects.exists()
    assert not any(p.is_file() for p in Path(media).rglob("*")), "a refused file was stored"


def test_a_png_named_pdf_is_kept_as_a_png_and_served_so_it_cannot_run(owner_with_a_news_site):
    owner, filing, _media = owner_with_a_news_site
    browser = Client()
    browser.force_login(owner)
    browser.post(reverse("filings:documents"), {"w0-news-file": upload(png_bytes(), "x.pdf")})
    from filings.models import Document

    document = Document.objects.get(filing=filing)
    assert document.content_type == "image/png"
    served = browser.get(reverse("filings:document", kwargs={"pk": document.pk}))
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served["Content-Security-Policy"]
    assert served["Cache-Control"] == "private, no-store"


def test_a_provider_import_that_is_not_csv_is_refused(otp_client):
    from providers.models import ImportJob
    from tests.providers_support import provider_staff

    console = Client()
    console.force_login(provider_staff())
    for content in (PDF_BYTES, png_bytes(), b"MZ\x90\x00\x00\xff\xfe\x00binary"):
        answer = console.post(reverse("providers:imports"), {"file": upload(content, "rows.csv")})
        assert answer.status_code == 400
    assert not ImportJob.objects.exists()


# --- The compliance checker never fetches from inside ----------------------------------------

NON_PUBLIC = [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "224.0.0.1",
    "::1",
    "fd00::1",
    "fe80::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "::127.0.0.1",  # IPv4-compatible
]


@pytest.mark.parametrize("address", NON_PUBLIC)
def test_the_checker_refuses_a_name_that_resolves_inside(address, settings):
    from certificates.fetch import FetchError, fetch

    settings.COMPLIANCE_ALLOW_PRIVATE_TARGETS = False
    settings.COMPLIANCE_HOST_INTERVAL_SECONDS = 0
    port_host = f"[{address}]" if ":" in address else address
    settings.COMPLIANCE_RESOLVE = {"inside.example.cn": f"{port_host}:80"}
    with pytest.raises(FetchError) as refused:
        fetch("http://inside.example.cn/cert/bazs.cert", max_bytes=1024)
    assert refused.value.reason == "refused"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://2130706433/",  # 127.0.0.1 as one number
        "http://0x7f.0.0.1/",
        "http://localhost/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/",
        "http://example.cn:22/",
    ],
)
def test_the_checker_refuses_addresses_schemes_and_ports_it_must_not_fetch(url, settings):
    from certificates.fetch import FetchError, fetch

    settings.COMPLIANCE_ALLOW_PRIVATE_TARGETS = False
    settings.COMPLIANCE_RESOLVE = {}
    settings.COMPLIANCE_HOST_INTERVAL_SECONDS = 0
    with pytest.raises(FetchError) as refused:
        fetch(url, max_bytes=1024)
    assert refused.value.reason in {"refused", "unreachable"}
    if refused.value.reason == "unreachable":
        # Only a name that does not resolve here may fail that way, never a connection made.
        assert "does not resolve" in refused.value.detail


def test_the_public_domain_check_goes_through_the_same_guard(client, settings):
    """A filed domain whose DNS later points inside is refused, not fetched."""
    from tests.test_certificates_support import approved_filing

    settings.COMPLIANCE_ALLOW_PRIVATE_TARGETS = False
    settings.COMPLIANCE_HOST_INTERVAL_SECONDS = 0
    approved_filing(domains=("rebound.cn",))
    settings.COMPLIANCE_RESOLVE = {"rebound.cn": "127.0.0.1:80"}
    answer = client.post(
        reverse("certificates:verify-domain"), {"domain": "rebound.cn"}, follow=True
    )
    assert answer.status_code == 200
    assert answer.context["domain_answer"] == "refused"


@pytest.mark.parametrize("address", NON_PUBLIC)
def test_a_webhook_to_an_address_inside_is_refused(address):
    from beian.outbound import is_public

    assert not is_public(address)


def test_a_webhook_goes_to_the_address_that_was_checked_not_a_later_dns_answer(
    settings, monkeypatch
):
    """DNS rebinding: the name answers a checked address, then one inside; the call must go to
    the checked one (here a local receiver standing in for a public address)."""
    import socket

    from beian import outbound
    from providers import webhooks
    from providers.models import WebhookDelivery
    from tests.factories import AccessProviderFactory
    from tests.providers_support import Receiver

    settings.PROVIDER_WEBHOOK_ALLOW_PRIVATE = False
    real_resolve, real_rule = socket.getaddrinfo, outbound.is_public
    answers = iter(["127.0.0.1"])  # the first answer; any later one is 127.0.0.2

    def resolve(host, port, *args, **kwargs):
        if host != "hooks.example.cn":
            return real_resolve(host, port, *args, **kwargs)
        ip = next(answers, "127.0.0.2")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(outbound, "is_public", lambda a: a == "127.0.0.1" or real_rule(a))
    connected = []
    real_connect = outbound._DeadlineSocket.connect
    with Receiver() as receiver:
        port = receiver.server.server_address[1]

        def connect(self, address):
            # Port 80 stands for the receiver's port; the address is the one that was checked.
            connected.append(address)
            return real_connect(self, (address[0], port))

        monkeypatch.setattr(outbound._DeadlineSocket, "connect", connect)
        delivery = WebhookDelivery.objects.create(
            provider=AccessProviderFactory(),
            event="approved",
            url="http://hooks.example.cn/hooks/beian",
            body=b"{}",
        )
        assert webhooks.post(delivery, "secret") == 204
        assert connected == [("127.0.0.1", 80)]
        assert len(receiver.requests) == 1
        assert receiver.requests[0]["headers"]["Host"] == "hooks.example.cn"
    with pytest.raises(webhooks.PermanentDeliveryError):
        webhooks.post(delivery, "secret")  # the later answer, 127.0.0.2, is refused


# --- No personal data in a public answer ------------------------------------------------------

SECRETS = {
    "sponsor_id_number": "91110108MA0SECRET7",
    "sponsor_address": "北京市海淀区保密路77号",
    "principal_name": "欧阳保密",
    "principal_id_number": "110105197707070077",
    "principal_mobile": "13977770077",
    "principal_email": "principal.secret@example.cn",
}
OWNER = {"username": "secret-owner-77", "email": "owner.secret@example.cn", "mobile": "13977770088"}
IP = "203.0.113.77"


@pytest.fixture
def published(tmp_path, settings):
    """An approved, published filing with its certificate, full of distinctive personal data."""
    from certificates.services import certificate_issue
    from public.models import Announcement
    from tests.public_support import approved_filing

    filing = approved_filing(
        owner=UserFactory(**OWNER),
        sponsor_name="保密科技有限公司",
        websites=[
            {
                "name": "保密测试网站",
                "homepage": "http://www.secret-site.cn/",
                "domains": ["secret-site.cn"],
                "ips": [IP],
            }
        ],
        **SECRETS,
    )
    certificate = certificate_issue(filing=filing)
    Announcement.objects.create(title="备案系统维护通知", body="周六维护。")
    return filing, certificate


def _leaks(text: str) -> list[str]:
    found = [v for v in (*SECRETS.values(), *OWNER.values(), IP) if v in text]
    # An ID number may also leak partly masked or spaced; the digits alone must not appear.
    digits = re.sub(r"\D", "", text)
    found += [v for v in (SECRETS["principal_id_number"],) if v in digits]
    return found


def test_no_public_answer_shows_an_id_number_a_contact_an_address_or_an_ip(
    client, published, monkeypatch, settings
):
    from certificates import compliance
    from certificates.fetch import FetchResult
    from public.models import Announcement

    filing, certificate = published
    website_number = filing.websites.get().number
    key_id = certificate.key.key_id
    monkeypatch.setattr(
        compliance,
        "fetch",
        lambda url, max_bytes: FetchResult(url, 200, certificate.file_bytes, "text/plain"),
    )
    answers = {}
    for q in ("secret-site.cn", filing.number, website_number, "保密科技"):
        answers[f"query page {q}"] = client.get(reverse("public:query"), {"q": q})
        answers[f"query API {q}"] = client.get(reverse("public-filings"), {"q": q})
    answers["verify page"] = client.post(
        reverse("certificates:verify"), {"file": upload(certificate.file_bytes, "bazs.cert")}
    )
    answers["verify API"] = client.post(
        reverse("api-certificate-verify"),
        certificate.file_bytes,
        content_type="application/octet-stream",
    )
    answers["domain check"] = client.post(
        reverse("certificates:verify-domain"), {"domain": "secret-site.cn"}, follow=True
    )
    answers["keys"] = client.get(reverse("certificates:keys"))
    for ext in ("json", "pem"):
        answers[f"key .{ext}"] = client.get(
            reverse("certificates:key", kwargs={"key_id": key_id, "ext": ext})
        )
    answers["home"] = client.get(reverse("home"))
    answers["bureaus"] = client.get(reverse("bureau-directory"))
    answers["bulletin"] = client.get(reverse("public:bulletin"))
    answers["announcement"] = client.get(
        reverse("public:announcement", kwargs={"pk": Announcement.objects.get().pk})
    )
    leaks = {}
    for name, response in answers.items():
        assert response.status_code == 200, (name, response.status_code)
        text = response.content.decode()
        if found := _leaks(text):
            leaks[name] = found
    assert not leaks, f"personal data in public answers: {leaks}"
    # The answers are about this filing: the search really found it.
    assert "保密科技有限公司" in answers["query page secret-site.cn"].content.decode()
    assert answers["query API secret-site.cn"].json()["count"] == 1
    assert answers["verify API"].json()["status"] == "valid"
    assert answers["domain check"].context["domain_answer"] == "valid"


def test_the_certificate_installed_on_the_website_carries_no_personal_data(published):
    """bazs.cert is published at http://{domain}/cert/bazs.cert for anyone to read."""
    _filing, certificate = published
    assert not _leaks(certificate.file_bytes.decode("utf-8", "replace"))


@pytest.mark.usefixtures("captcha_test_mode")
def test_the_forgotten_username_answer_names_nobody(client, published):
    filing, _certificate = published
    answer = client.post(
        reverse("filings:forgot-username"),
        {"number": filing.number, "captcha_0": "x", "captcha_1": "PASSED"},
    )
    assert answer.status_code == 200
    assert not _leaks(answer.content.decode())


# --- Production settings ----------------------------------------------------------------------


def _deploy_env() -> dict[str, str]:
    """The production settings the Makefile's deploy-check uses, read from the Makefile."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    block = re.search(r"^DEPLOY_ENV := (.*?)(?:\n\n|\n[^\t\s])", makefile, re.S | re.M)
    assert block, "the Makefile has no DEPLOY_ENV"
    pairs = re.findall(r"(\w+)=(\S+)", block.group(1).replace("\\\n", " "))
    assert dict(pairs).get("DJANGO_ENV") == "production"
    return dict(pairs)


def test_check_deploy_is_clean_in_production_mode():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CI"}}
    env.update(_deploy_env())
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
