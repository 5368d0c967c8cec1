"""bazs.cert: signing, verification, key rotation and the certificate's life (SPEC §5)."""

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.management import call_command

from certificates import format as cert_format
from certificates.keys import active_signing_key, key_rotate
from certificates.models import Certificate, SigningKey
from certificates.selectors import public_key_lookup, verify_certificate_file
from certificates.services import certificate_revoke
from filings.numbers import allocate_website_numbers
from tests.factories import AccessProviderFactory
from tests.test_certificates_support import approved_filing, reissue

pytestmark = pytest.mark.django_db


# What the verification API answers for a file that is not genuine.
INVALID = {"status": "invalid", "number": None, "domains": [], "apps": [], "mini_programs": []}


def current(filing) -> Certificate:
    return Certificate.objects.get(filing=filing, status="valid")


def test_a_certificate_verifies_and_names_its_number_and_domains():
    filing = approved_filing(domains=("example.cn", "example.com.cn"))
    result = verify_certificate_file(current(filing).file_bytes)
    assert result.status == "valid"
    assert result.number == filing.number
    assert result.domains == ["example.cn", "example.com.cn"]


def test_a_person_who_opens_the_file_reads_the_filing_in_plain_text():
    filing = approved_filing(domains=("example.cn",))
    text = current(filing).content
    assert text.startswith("网站备案电子证书 ICP Filing Certificate\n")
    assert f"备案号 Filing number: {filing.number}" in text
    assert f"主办单位 Sponsor: {filing.sponsor_name}" in text
    assert "发证机关 Issued by: 北京市通信管理局" in text
    assert f"网站备案号 Website number: {filing.number}-1" in text
    assert "域名 Domains: example.cn" in text


@pytest.mark.parametrize("where", ["header", "payload", "signature"])
def test_a_changed_byte_anywhere_is_not_genuine(where):
    filing = approved_filing()
    data = bytearray(current(filing).file_bytes)
    text = data.decode()
    position = {
        "header": text.index("example.cn"),
        "payload": text.index('"number"') + 12,
        "signature": text.index("Signature: ") + 15,
    }[where]
    data[position] = ord("A") if data[position] != ord("A") else ord("B")
    result = verify_certificate_file(bytes(data))
    assert result.status == "invalid"
    assert result.number is None
    assert result.domains == []


def test_a_file_saved_with_windows_line_endings_and_a_bom_still_verifies():
    filing = approved_filing()
    data = b"\xef\xbb\xbf" + current(filing).file_bytes.replace(b"\n", b"\r\n")
    assert verify_certificate_file(data).status == "valid"


def test_a_certificate_signed_by_an_unknown_key_is_not_genuine():
    filing = approved_filing()
    certificate = current(filing)
    SigningKey.objects.filter(pk=certificate.key_id).update(key_id="someone-else")
    assert verify_certificate_file(certificate.file_bytes).status == "invalid"


def test_a_file_that_is_not_a_certificate_is_not_genuine():
    for data in (b"", b"hello", "网站备案电子证书".encode(), b"\xff\xfe\x00garbage" * 10):
        assert verify_certificate_file(data).status == "invalid"


def test_a_rotated_key_still_verifies_the_certificates_it_signed():
    first = approved_filing(domains=("first.cn",))
    old_key = current(first).key
    new_key, retired, _path = key_rotate()
    assert retired == old_key
    second = approved_filing(domains=("second.cn",))
    assert current(second).key == new_key
    old_key.refresh_from_db()
    assert old_key.retired_at is not None and not old_key.is_active
    assert verify_certificate_file(current(first).file_bytes).status == "valid"
    assert verify_certificate_file(current(second).file_bytes).status == "valid"


def test_re_issuing_after_an_amendment_supersedes_the_old_certificate(outbox_messages):
    filing = approved_filing()
    old = current(filing)
    new = reissue(filing)
    old.refresh_from_db()
    assert old.status == "superseded" and old.superseded_at is not None
    assert verify_certificate_file(old.file_bytes).status == "superseded"
    assert verify_certificate_file(new.file_bytes).status == "valid"
    assert Certificate.objects.filter(filing=filing, status="valid").count() == 1
    assert filing.number in outbox_messages()[0]["subject"]
    assert outbox_messages()[0]["subject"] != outbox_messages()[1]["subject"]  # "renewed"


def test_revoking_the_filing_revokes_its_certificates_old_and_current():
    filing = approved_filing()
    old = current(filing)
    new = reissue(filing)
    filing.status = "revoked"
    filing.save()
    assert certificate_revoke(filing=filing) == 2
    assert verify_certificate_file(new.file_bytes).status == "revoked"
    assert verify_certificate_file(old.file_bytes).status == "revoked"
    assert verify_certificate_file(new.file_bytes).number == filing.number


def test_the_owner_gets_the_certificate_by_email_with_installation_instructions():
    from beian.models import Message

    filing = approved_filing(domains=("example.cn",))
    message = Message.objects.filter(to=filing.owner.email, template="certificate_issued").get()
    assert message.attachments[0]["filename"] == "bazs.cert"
    attached = base64.b64decode(message.attachments[0]["content_b64"])
    assert attached == current(filing).file_bytes
    assert "http://{domain}/cert/bazs.cert" in message.body
    assert filing.number in message.body
    assert f">{filing.number}</a>" in message.body  # the footer snippet


def test_verification_with_only_cryptography_as_documented():
    """The few lines of docs/certificate-format.md, run against a real certificate."""
    filing = approved_filing()
    data = current(filing).file_bytes
    public_keys = {k.key_id: base64.b64decode(k.public_key) for k in SigningKey.objects.all()}

    data = data.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")
    body, _, block = data.partition(b"\n-----BEGIN BAZS SIGNATURE-----\n")
    fields = dict(line.split(": ", 1) for line in block.decode().splitlines()[:3])
    key = Ed25519PublicKey.from_public_bytes(public_keys[fields["Key-Id"]])
    key.verify(base64.b64decode(fields["Signature"]), body + b"\n")  # raises if not genuine
    payload = body.decode().split("-----BEGIN BAZS PAYLOAD-----\n")[1]
    payload = json.loads(payload.split("\n-----END BAZS PAYLOAD-----")[0])
    assert payload["format"] in ("bazs-cert/1", "bazs-cert/2", "bazs-cert/3")
    assert payload["number"] == filing.number
    assert [a["provider"] or "other" for w in payload["websites"] for a in w["accesses"]] == [
        "other"
    ]


def test_public_keys_are_published_at_a_stable_address(client):
    approved_filing()
    key_rotate()
    body = client.get("/certificates/keys.json").json()
    assert [k["active"] for k in body["keys"]] == [False, True]
    assert body["format"] == "bazs-cert/3"
    assert body["formats"] == ["bazs-cert/1", "bazs-cert/2", "bazs-cert/3"]
    assert body["keys"][0]["retired_at"] is not None
    key_id = body["keys"][0]["key_id"]
    assert client.get(f"/certificates/keys/{key_id}.json").json()["public_key"]
    pem = client.get(f"/certificates/keys/{key_id}.pem").content
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert client.get("/certificates/keys/nope.pem").status_code == 404


def test_certkeys_command_creates_rotates_and_lists(capsys):
    call_command("certkeys", "create")
    call_command("certkeys", "rotate")
    call_command("certkeys", "list")
    out = capsys.readouterr().out
    assert "active" in out and "retired" in out
    assert SigningKey.objects.filter(is_active=True).count() == 1
    assert SigningKey.objects.count() == 2


def test_certkeys_create_refuses_a_second_active_key_and_ensure_makes_only_the_first():
    from django.core.management.base import CommandError

    call_command("certkeys", "ensure")
    call_command("certkeys", "ensure")
    assert SigningKey.objects.count() == 1
    with pytest.raises(CommandError):
        call_command("certkeys", "create")


def test_without_a_key_and_outside_the_embedded_default_issuing_fails_loudly(settings):
    from certificates.keys import SigningKeyUnavailable

    settings.CERT_AUTO_CREATE_KEY = False
    with pytest.raises(SigningKeyUnavailable):
        approved_filing()


def test_the_private_key_may_come_from_a_secret_instead_of_the_key_folder(
    settings, tmp_path, monkeypatch
):
    call_command("certkeys", "create")
    key = SigningKey.objects.get()
    pem_file = next(__import__("pathlib").Path(settings.CERT_SIGNING_KEY_DIR).glob("*.pem"))
    secret = tmp_path / "secret.pem"
    secret.write_bytes(pem_file.read_bytes())
    pem_file.unlink()
    env = "CERT_SIGNING_KEY_" + key.key_id.upper().replace("-", "_") + "_FILE"
    monkeypatch.setenv(env, str(secret))
    filing = approved_filing()
    assert verify_certificate_file(current(filing).file_bytes).status == "valid"


# The verification API ---------------------------------------------------------------------------


def test_verify_api_takes_the_raw_file(client):
    filing = approved_filing(domains=("example.cn",))
    response = client.post(
        "/api/v1/public/certificates/verify/",
        data=current(filing).file_bytes,
        content_type="application/octet-stream",
    )
    assert response.status_code == 200
    assert response.json() == {
        "status": "valid",
        "number": filing.number,
        "domains": ["example.cn"],
        "apps": [],
        "mini_programs": [],
    }


def test_verify_api_takes_a_multipart_upload_and_reports_revoked(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    filing = approved_filing()
    certificate_revoke(filing=filing)
    upload = SimpleUploadedFile("bazs.cert", current_or_last(filing).file_bytes)
    response = client.post("/api/v1/public/certificates/verify/", {"file": upload})
    assert response.json()["status"] == "revoked"


def current_or_last(filing) -> Certificate:
    return Certificate.objects.filter(filing=filing).order_by("-issued_at", "-id").first()


def test_verify_api_says_invalid_for_a_tampered_file_and_400_for_no_file(client):
    filing = approved_filing()
    data = current(filing).file_bytes.replace(b"example.cn", b"evil00.cn")
    response = client.post(
        "/api/v1/public/certificates/verify/", data=data, content_type="text/plain"
    )
    assert response.json() == INVALID
    empty = client.post(
        "/api/v1/public/certificates/verify/", data=b"", content_type="application/octet-stream"
    )
    assert empty.status_code == 400
    assert "file" in empty.json()
    no_field = client.post("/api/v1/public/certificates/verify/", {"other": "x"})
    assert no_field.status_code == 400


# The verification page ----------------------------------------------------------------------------


def test_verify_page_says_valid_for_an_upload_and_revoked_after_revocation(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    filing = approved_filing()
    data = current(filing).file_bytes
    page = client.post("/certificates/verify/", {"file": SimpleUploadedFile("bazs.cert", data)})
    assert 'data-status="valid"' in page.content.decode()
    assert filing.number in page.content.decode()
    certificate_revoke(filing=filing)
    page = client.post("/certificates/verify/", {"text": data.decode()})
    assert 'data-status="revoked"' in page.content.decode()


def test_verify_page_asks_for_a_file_when_nothing_was_given(client):
    page = client.post("/certificates/verify/", {})
    body = page.content.decode()
    assert page.status_code == 200
    assert "error-summary" in body
    assert "bazs.cert" in body


def test_an_internationalised_domain_is_read_in_unicode_in_the_file_and_on_the_verify_page(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    filing = approved_filing(domains=("xn--kpu98e64ir97a.xn--fiqs8s",))
    certificate = current(filing)
    assert "域名 Domains: 新手测试.中国 (xn--kpu98e64ir97a.xn--fiqs8s)" in certificate.content
    assert "首页 Homepage: http://新手测试.中国/" in certificate.content
    # Programs read the A-labels of the payload.
    assert verify_certificate_file(certificate.file_bytes).domains == [
        "xn--kpu98e64ir97a.xn--fiqs8s"
    ]
    page = client.post(
        "/certificates/verify/",
        {"file": SimpleUploadedFile("bazs.cert", certificate.file_bytes)},
    ).content.decode()
    assert "新手测试.中国" in page and "xn--kpu98e64ir97a" not in page


# Accesses (format /2, SPEC §12) -------------------------------------------------------------------


def two_accesses(provider) -> list[dict]:
    return [
        {"provider": provider, "method": "cloud", "server_location": "11", "ips": ["1.2.3.4"]},
        {"provider": None, "method": "colocation", "server_location": "other", "ips": []},
    ]


def parsed(certificate: Certificate) -> cert_format.ParsedCertificate:
    return cert_format.verify(certificate.file_bytes, public_key_lookup())


def test_a_website_with_two_accesses_lists_both_in_order_in_the_file_and_the_payload():
    provider = AccessProviderFactory(name="北京蓝山云计算有限公司")
    filing = approved_filing(accesses=two_accesses(provider))
    certificate = current(filing)
    text = certificate.content
    first = "  接入 Access 1: 北京蓝山云计算有限公司 · 云主机 cloud · 北京市 Beijing\n"
    second = "  接入 Access 2: 其它 other · 服务器托管 colocation · 中国大陆境外 outside mainland China\n"
    assert first + second in text
    assert "1.2.3.4" not in text  # addresses stay out of a file served to the public
    payload = parsed(certificate).payload
    assert payload["format"] == "bazs-cert/3"
    assert payload["websites"][0]["accesses"] == [
        {
            "provider": "北京蓝山云计算有限公司",
            "provider_id": provider.pk,
            "method": "cloud",
            "server_location": "11",
        },
        {"provider": None, "provider_id": None, "method": "colocation", "server_location": "other"},
    ]
    assert verify_certificate_file(certificate.file_bytes).status == "valid"


def test_an_empty_shell_website_reads_that_it_has_no_access():
    filing = approved_filing(accesses=[])
    certificate = current(filing)
    assert "  接入 Access: 无（空壳网站） none (an empty shell)\n" in certificate.content
    assert "接入 Access 1" not in certificate.content
    assert parsed(certificate).payload["websites"][0]["accesses"] == []


def test_the_providers_names_are_read_once_for_the_whole_certificate():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from certificates.services import certificate_issue
    from filings.publishing import publish
    from tests.factories import WebsiteFactory

    first, second = AccessProviderFactory(), AccessProviderFactory()
    filing = approved_filing(accesses=two_accesses(first))
    WebsiteFactory(filing=filing, accesses=[{"provider": second, "server_location": "31"}])
    allocate_website_numbers(filing=filing)
    publish(filing=filing)
    with CaptureQueriesContext(connection) as queries:
        certificate = certificate_issue(filing=filing)
    provider_reads = [q for q in queries if 'FROM "providers_accessprovider"' in q["sql"]]
    assert len(provider_reads) == 1
    assert f"  接入 Access 1: {second.name} · 其它 other · 上海市 Shanghai\n" in certificate.content


def as_format_1(certificate: Certificate) -> None:
    """Replace ``certificate``'s file by the one format /1 gave it: no accesses."""
    key, private_key = active_signing_key()
    payload = {
        k: v for k, v in parsed(certificate).payload.items() if k not in ("apps", "mini_programs")
    }
    payload["format"] = "bazs-cert/1"
    payload["websites"] = [
        {k: v for k, v in w.items() if k != "accesses"} for w in payload["websites"]
    ]
    certificate.content = cert_format.sign(payload, key_id=key.key_id, private_key=private_key)
    certificate.save(update_fields=["content"])


def test_a_format_1_file_issued_before_accesses_still_verifies_with_every_status(client):
    filing = approved_filing(domains=("example.cn",))
    old = current(filing)
    as_format_1(old)
    assert '"format": "bazs-cert/1"' in old.content and "接入" not in old.content

    def status() -> str:
        response = client.post(
            "/api/v1/public/certificates/verify/",
            data=old.file_bytes,
            content_type="application/octet-stream",
        )
        return response.json()["status"]

    assert status() == "valid"
    assert verify_certificate_file(old.file_bytes).domains == ["example.cn"]
    new = reissue(filing)
    assert parsed(new).format == "bazs-cert/3"
    assert status() == "superseded"
    certificate_revoke(filing=filing)
    assert status() == "revoked"
    tampered = old.file_bytes.replace(b"example.cn", b"evil00.cn")
    assert verify_certificate_file(tampered).status == "invalid"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("北京蓝山云计算有限公司 · 云主机", "北京红山云计算有限公司 · 云主机"),  # readable part
        ('"method": "colocation"', '"method": "cloud"'),  # payload
    ],
)
def test_a_format_2_file_with_a_changed_access_is_not_genuine(client, before, after):
    filing = approved_filing(
        accesses=two_accesses(AccessProviderFactory(name="北京蓝山云计算有限公司"))
    )
    data = current(filing).file_bytes
    assert before.encode() in data
    response = client.post(
        "/api/v1/public/certificates/verify/",
        data=data.replace(before.encode(), after.encode()),
        content_type="application/octet-stream",
    )
    assert response.json() == INVALID


def test_an_unknown_format_is_not_genuine():
    filing = approved_filing()
    key, private_key = active_signing_key()
    payload = dict(parsed(current(filing)).payload, format="bazs-cert/9")
    data = cert_format.sign(payload, key_id=key.key_id, private_key=private_key).encode()
    with pytest.raises(cert_format.NotGenuine, match="unknown certificate format"):
        cert_format.verify(data, public_key_lookup())
