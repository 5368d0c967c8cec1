"""Smaller hardening: one way documents are served to every role, a Content-Security-Policy on
every page, no captcha test mode in production, a request-body limit, and images decoded whole
before they are kept."""

import importlib
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.filings_support import png_bytes, upload
from tests.review_support import beijing_reviewer, submit
from tests.test_security_surface import owner_with_a_news_site  # noqa: F401

pytestmark = pytest.mark.django_db


def png_document(filing, content: bytes):
    from filings.models import Document

    return Document.objects.create(
        filing=filing,
        file=SimpleUploadedFile("approval.png", content),
        original_name="approval.png",
        content_type="image/png",
        size=len(content),
        sha256="1" * 64,
        uploaded_by=filing.owner,
    )


def test_the_review_console_serves_documents_like_the_owner_page(otp_client, settings, tmp_path):
    """Pre-approval documents reach reviewers with no-store and the sandboxing policy too."""
    settings.MEDIA_ROOT = str(tmp_path)
    filing = submit(domains=["doc-served.cn"])
    document = png_document(filing, png_bytes())
    served = otp_client(beijing_reviewer()).get(
        reverse("review:document", args=[filing.pk, document.pk])
    )
    assert served.status_code == 200
    assert served["Cache-Control"] == "private, no-store"
    assert "sandbox" in served["Content-Security-Policy"]
    assert "default-src 'none'" in served["Content-Security-Policy"]
    assert served["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "url_name", ["home", "accounts:login", "public:query", "certificates:verify", "api-docs"]
)
def test_every_page_carries_a_content_security_policy_without_inline_scripts(client, url_name):
    answer = client.get(reverse(url_name))
    assert answer.status_code == 200
    policy = answer["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert script_src.strip() == "'self'"
    assert "frame-ancestors 'none'" in policy
    # The pages really have no inline script the policy would block.
    assert not re.search(rb"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", answer.content)


def test_the_api_docs_start_up_script_is_a_file_of_its_own(client):
    answer = client.get(reverse("api-docs"), {"script": ""})
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/javascript")


def _production_env(monkeypatch, **extra):
    monkeypatch.setenv("DJANGO_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 60)
    monkeypatch.setenv("ALLOWED_HOSTS", "beian.example.gov.cn")
    monkeypatch.setenv("SMS_GATEWAY_URL", "https://sms.example.cn/send")
    monkeypatch.setenv("SMS_GATEWAY_SECRET", "s")
    for name, value in extra.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CAPTCHA_TEST_MODE", "true"),
        ("PROVIDER_WEBHOOK_RESOLVE", "hooks.example.cn=127.0.0.1:8080"),
        ("TRUSTED_PROXIES", "not-a-network"),
    ],
)
def test_trial_settings_are_refused_in_production(monkeypatch, name, value):
    from django.core.exceptions import ImproperlyConfigured

    import beian.settings as project_settings

    _production_env(monkeypatch, **{name: value})
    try:
        with pytest.raises(ImproperlyConfigured, match=name):
            importlib.reload(project_settings)
    finally:
        monkeypatch.undo()
        importlib.reload(project_settings)


def test_a_request_body_over_the_limit_is_refused_not_read(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    answer = client.post(
        reverse("accounts:login"), {"username": "x" * 4096, "password": "y"}, REMOTE_ADDR="1.2.3.4"
    )
    assert answer.status_code == 400


def truncated_png() -> bytes:
    """A PNG whose chunks are whole (right lengths and checksums) but whose picture data is
    not a picture: ``Image.verify`` alone lets it through."""
    import struct
    import zlib

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 30)).save(buffer, format="PNG")
    data = buffer.getvalue()
    at = data.index(b"IDAT") - 4
    (length,) = struct.unpack(">I", data[at : at + 4])
    payload = zlib.compress(b"\x00" * 10)  # far fewer rows than 64 × 64 pixels need
    chunk = (
        struct.pack(">I", len(payload))
        + b"IDAT"
        + payload
        + struct.pack(">I", zlib.crc32(b"IDAT" + payload))
    )
    return data[:at] + chunk + data[at + 12 + length :]


def huge_png() -> bytes:
    """A tiny file that unpacks into more pixels than Pillow's limit."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("content", [truncated_png, huge_png], ids=["corrupt", "bomb"])
def test_a_png_that_does_not_decode_whole_is_refused(owner_with_a_news_site, settings, content):  # noqa: F811
    from PIL import Image

    from filings.models import Document

    owner, _filing, _media = owner_with_a_news_site
    Image.MAX_IMAGE_PIXELS, before = 100_000_000, Image.MAX_IMAGE_PIXELS
    try:
        browser = Client()
        browser.force_login(owner)
        page = browser.post(
            reverse("filings:documents"), {"w0-news-file": upload(content(), "approval.png")}
        )
    finally:
        Image.MAX_IMAGE_PIXELS = before
    assert page.status_code == 400
    assert not Document.objects.exists()


def test_a_whole_png_is_still_kept(owner_with_a_news_site):  # noqa: F811
    from filings.models import Document

    owner, _filing, _media = owner_with_a_news_site
    browser = Client()
    browser.force_login(owner)
    browser.post(reverse("filings:documents"), {"w0-news-file": upload(png_bytes(), "a.png")})
    assert Document.objects.get().content_type == "image/png"
