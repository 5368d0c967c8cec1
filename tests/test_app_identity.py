"""An app's identity (SPEC §13): each platform's identifier rule, fingerprints and public keys
in every notation people paste, and the same values read from the signed package itself.

The packages in tests/fixtures/apps/ were made by make.sh beside them with Debian's tools
(aapt, zipalign, apksigner, openssl cms, plistutil); expected.json holds what apksigner and
openssl print for them, so the reader is checked against other tools, not against itself.
"""

from __future__ import annotations

import base64
import io
import json
import plistlib
import struct
import zipfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beian.normalforms import apps
from beian.normalforms.apps import (
    ANDROID,
    HARMONYOS,
    IOS,
    fingerprint_display,
    identifier_key,
    normalize_fingerprint,
    normalize_public_key,
    validate_android_package,
    validate_harmonyos_bundle_name,
    validate_identifier,
    validate_ios_bundle_id,
)
from filings import app_packages
from filings.app_packages import (
    PackageIdentity,
    SigningCertificate,
    package_mismatches,
    read_package,
)

pytestmark = pytest.mark.usefixtures("english")

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "apps"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def read(data: bytes) -> PackageIdentity:
    return read_package(io.BytesIO(data))


def refusal(data: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        read(data)
    return caught.value


def code_of(rule, value) -> str:
    with pytest.raises(ValidationError) as caught:
        rule(value)
    return caught.value.code


def full_width(text: str) -> str:
    """``text`` as a Chinese input method types it in full width (U+FF01–U+FF5E)."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


# Identifiers --------------------------------------------------------------------------------

_LETTER = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

android_part = st.builds(lambda a, b: a + b, _LETTER, st.text(_ALNUM + "_", max_size=12))
android_packages = st.lists(android_part, min_size=2, max_size=5).map(".".join)


@given(android_packages)
def test_every_package_name_android_installs_is_accepted_as_typed(name):
    assert validate_android_package(name) == name


@given(android_packages)
def test_a_package_name_typed_in_full_width_or_with_ideographic_full_stops_is_the_same(name):
    assert validate_android_package(full_width(name)) == name
    assert validate_android_package(name.replace(".", "。")) == name


def test_a_package_name_keeps_its_case_android_tells_the_two_apart():
    assert validate_android_package("com.Example.App") == "com.Example.App"
    assert identifier_key(ANDROID, "com.Example.App") != identifier_key(ANDROID, "com.example.app")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "android_package_required"),
        ("   ", "android_package_required"),
        ("example", "android_package_parts"),
        ("com..example", "android_package_empty_part"),
        (".com.example", "android_package_empty_part"),
        ("com.example.", "android_package_empty_part"),
        ("1com.example", "android_package_part_start"),
        ("com.1example", "android_package_part_start"),
        ("com._example", "android_package_part_start"),
        ("com.exam-ple", "android_package_characters"),
        ("com.exam ple", "android_package_characters"),
        ("com.例子.app", "android_package_characters"),
        ("com.example.*", "android_package_characters"),
        ("com." + "a" * 220, "android_package_length"),
    ],
)
def test_a_package_name_android_would_refuse_is_refused_with_what_is_wrong(value, code):
    assert code_of(validate_android_package, value) == code


def test_the_longest_package_name_android_keeps_is_accepted():
    assert validate_android_package("com." + "a" * 219) == "com." + "a" * 219


def test_a_refused_character_is_named_in_the_message():
    with pytest.raises(ValidationError) as caught:
        validate_android_package("com.exam-ple")
    assert "“-”" in caught.value.messages[0]
    with pytest.raises(ValidationError) as caught:
        validate_android_package("com.exam ple")
    assert caught.value.messages[0].startswith("A space cannot be used here")


ios_part = st.text(_ALNUM + "-", min_size=1, max_size=12)
bundle_ids = st.lists(ios_part, min_size=2, max_size=5).map(".".join)


@given(bundle_ids)
def test_every_bundle_id_of_apples_alphabet_in_reverse_dns_form_is_accepted(bundle_id):
    assert validate_ios_bundle_id(bundle_id) == bundle_id
    assert validate_ios_bundle_id(full_width(bundle_id)) == bundle_id


@given(bundle_ids)
def test_bundle_ids_compare_without_case_as_apple_does(bundle_id):
    assert identifier_key(IOS, bundle_id.upper()) == identifier_key(IOS, bundle_id.lower())


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "ios_bundle_id_required"),
        ("app", "ios_bundle_id_parts"),
        ("com..app", "ios_bundle_id_empty_part"),
        ("com.app.", "ios_bundle_id_empty_part"),
        ("com.my_app", "ios_bundle_id_characters"),
        ("com.my app", "ios_bundle_id_characters"),
        ("com.例子", "ios_bundle_id_characters"),
        ("com.example.*", "ios_bundle_id_wildcard"),
        ("A1B2C3D4E5.*", "ios_bundle_id_wildcard"),
        ("com." + "a" * 252, "ios_bundle_id_length"),
    ],
)
def test_a_bundle_id_apple_would_refuse_is_refused_with_what_is_wrong(value, code):
    assert code_of(validate_ios_bundle_id, value) == code


def test_bundle_id_parts_may_start_with_a_digit_or_hyphen_as_apple_allows():
    assert validate_ios_bundle_id("com.3d-maps.-beta") == "com.3d-maps.-beta"


harmonyos_first = st.builds(
    lambda a, b, c: a + (b + c if c else ""),
    _LETTER,
    st.text(_ALNUM + "_", max_size=8),
    st.sampled_from(list(_ALNUM) + [""]),
)
harmonyos_part = st.builds(
    lambda a, b, c: a + (b + c if c else ""),
    st.sampled_from(_ALNUM),
    st.text(_ALNUM + "_", max_size=8),
    st.sampled_from(list(_ALNUM) + [""]),
)
bundle_names = st.builds(
    lambda first, rest: ".".join([first, *rest]),
    harmonyos_first,
    st.lists(harmonyos_part, min_size=2, max_size=4),
).filter(lambda name: 7 <= len(name) <= 128)


@given(bundle_names)
def test_every_bundle_name_harmonyos_accepts_is_accepted(name):
    assert validate_harmonyos_bundle_name(name) == name
    assert validate_harmonyos_bundle_name(full_width(name)) == name


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "harmonyos_bundle_name_required"),
        ("com.example", "harmonyos_bundle_name_parts"),
        ("com..example.app", "harmonyos_bundle_name_empty_part"),
        ("com.example.app.", "harmonyos_bundle_name_empty_part"),
        ("1com.example.app", "harmonyos_bundle_name_start"),
        ("_com.example.app", "harmonyos_bundle_name_start"),
        ("com._example.app", "harmonyos_bundle_name_part_start"),
        ("com.example_.app", "harmonyos_bundle_name_part_end"),
        ("com_.example.app", "harmonyos_bundle_name_part_end"),
        ("com.exam-ple.app", "harmonyos_bundle_name_characters"),
        ("com.例子.app", "harmonyos_bundle_name_characters"),
        ("a.b.c", "harmonyos_bundle_name_length"),
        ("com.example." + "a" * 117, "harmonyos_bundle_name_length"),
    ],
)
def test_a_bundle_name_harmonyos_would_refuse_is_refused_with_what_is_wrong(value, code):
    assert code_of(validate_harmonyos_bundle_name, value) == code


def test_harmonyos_parts_after_the_first_may_start_with_a_digit():
    assert validate_harmonyos_bundle_name("com.1example.app") == "com.1example.app"
    assert validate_harmonyos_bundle_name("com.example." + "a" * 116) == "com.example." + "a" * 116


def test_each_platform_checks_its_identifier_by_its_own_rule():
    assert validate_identifier(ANDROID, "com.my_app") == "com.my_app"
    assert (
        code_of(lambda v: validate_identifier(IOS, v), "com.my_app") == "ios_bundle_id_characters"
    )
    assert code_of(lambda v: validate_identifier(HARMONYOS, v), "com.app") == (
        "harmonyos_bundle_name_parts"
    )
    assert validate_identifier(IOS, "com.my-app") == "com.my-app"
    assert code_of(validate_android_package, "com.my-app") == "android_package_characters"


# Fingerprints -------------------------------------------------------------------------------

MD5 = "8874262E0F322066ED528E1FB804EA70"
SHA1 = "1EDE35DDF8D8D5CBD34FEB79B69EDF0321095332"
SHA256 = "51ACCC7B5B660259C550417ACACECDEAF993CEAC554A9AF1E030D4672164CC69"


def notations(digits: str) -> list[str]:
    colons = fingerprint_display(digits)
    return [
        digits,
        digits.lower(),
        colons,
        colons.lower(),
        colons.replace(":", " "),
        colons.replace(":", "-"),
        full_width(colons),
        f"  {colons}\n",
        "\u202d" + colons + "\u202c",
    ]


@pytest.mark.parametrize("typed", notations(MD5))
def test_an_md5_fingerprint_is_stored_one_way_whatever_its_notation(typed):
    assert normalize_fingerprint(ANDROID, typed) == MD5
    assert normalize_fingerprint(HARMONYOS, typed) == MD5


@pytest.mark.parametrize("typed", notations(SHA1))
def test_a_sha1_fingerprint_is_stored_one_way_whatever_its_notation(typed):
    assert normalize_fingerprint(IOS, typed) == SHA1


@pytest.mark.parametrize(
    ("platform", "typed", "stored"),
    [
        (ANDROID, "MD5: " + fingerprint_display(MD5), MD5),
        (ANDROID, "md5 Fingerprint=" + fingerprint_display(MD5), MD5),
        (ANDROID, "证书指纹 MD5：" + fingerprint_display(MD5), MD5),
        (IOS, "SHA1: " + fingerprint_display(SHA1), SHA1),
        (IOS, "SHA-1 Fingerprint=" + fingerprint_display(SHA1).lower(), SHA1),
        (IOS, "sha1 Fingerprint=" + SHA1, SHA1),
    ],
)
def test_a_fingerprint_pasted_with_the_tools_label_keeps_only_its_digits(platform, typed, stored):
    assert normalize_fingerprint(platform, typed) == stored


@given(st.binary(min_size=16, max_size=16), st.sampled_from([":", " ", "", "-"]), st.booleans())
def test_any_md5_in_any_separator_and_case_reads_back_the_same(digest, separator, lower):
    digits = digest.hex().upper()
    typed = separator.join(digits[i : i + 2] for i in range(0, 32, 2))
    typed = typed.lower() if lower else typed
    assert normalize_fingerprint(ANDROID, typed) == digits
    assert normalize_fingerprint(ANDROID, fingerprint_display(digits)) == digits


def test_a_fingerprint_is_shown_in_colon_notation():
    assert fingerprint_display(MD5) == "88:74:26:2E:0F:32:20:66:ED:52:8E:1F:B8:04:EA:70"


@pytest.mark.parametrize(
    ("platform", "typed", "code"),
    [
        (ANDROID, "", "fingerprint_required"),
        (ANDROID, SHA1, "fingerprint_algorithm"),
        (ANDROID, SHA256, "fingerprint_algorithm"),
        (HARMONYOS, SHA1, "fingerprint_algorithm"),
        (IOS, MD5, "fingerprint_algorithm"),
        (IOS, "MD5: " + SHA1, "fingerprint_algorithm"),
        (ANDROID, "SHA1: " + MD5, "fingerprint_algorithm"),
        (ANDROID, MD5[:-1], "fingerprint_length"),
        (ANDROID, MD5 + "0", "fingerprint_length"),
        (IOS, SHA1[:-2], "fingerprint_length"),
        (ANDROID, MD5[:-1] + "G", "fingerprint_characters"),
        (ANDROID, "not a fingerprint", "fingerprint_characters"),
    ],
)
def test_a_wrong_fingerprint_is_refused_with_what_is_wrong(platform, typed, code):
    assert code_of(lambda v: normalize_fingerprint(platform, v), typed) == code


def test_a_sha1_fingerprint_typed_for_android_says_which_digest_is_asked():
    with pytest.raises(ValidationError) as caught:
        normalize_fingerprint(ANDROID, fingerprint_display(SHA1))
    assert caught.value.messages == [
        "This is the SHA-1 fingerprint; the filing asks for the MD5 fingerprint of the same "
        "certificate (32 hexadecimal digits)."
    ]


def test_fingerprint_messages_are_in_chinese_for_chinese_readers():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        normalize_fingerprint(IOS, MD5)
    assert "SHA-1" in caught.value.messages[0]
    assert "指纹" in caught.value.messages[0]


# Public keys -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def self_signed(key) -> x509.Certificate:
    import datetime as dt

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Beian Test")])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )


def key_writings(key) -> list[str]:
    """The writings of one RSA public key people paste into the filing form."""
    public = key.public_key()
    modulus = format(public.public_numbers().n, "X")
    spki_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    pkcs1_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    ).decode()
    spki_der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pkcs1_der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    certificate = self_signed(key).public_bytes(serialization.Encoding.PEM).decode()
    wrapped = "\n".join(modulus[i : i + 64] for i in range(0, len(modulus), 64))
    return [
        modulus,
        modulus.lower(),
        "00" + modulus,
        "0x" + modulus.lower(),
        "Modulus=" + modulus,
        "模数：" + modulus,
        ":".join(modulus[i : i + 2] for i in range(0, len(modulus), 2)),
        wrapped,
        full_width(modulus),
        spki_pem,
        pkcs1_pem,
        certificate,
        spki_der.hex(),
        " ".join(f"{b:02x}" for b in pkcs1_der),
        base64.b64encode(spki_der).decode(),
    ]


def test_every_writing_of_an_rsa_public_key_is_stored_as_its_modulus(rsa_key):
    modulus = format(rsa_key.public_key().public_numbers().n, "X")
    for typed in key_writings(rsa_key):
        assert normalize_public_key(typed) == modulus, typed[:40]


def test_an_elliptic_curve_key_is_stored_as_its_uncompressed_point():
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    ).hex()
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    assert normalize_public_key(pem) == point.upper()
    assert normalize_public_key(point) == point.upper()


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "public_key_required"),
        ("not a key", "public_key_format"),
        ("ABC", "public_key_odd"),
        ("AB" * 20, "public_key_length"),
        ("AB" * 1025, "public_key_length"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "public_key_format"),
        ("-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----", "public_key_format"),
        ("A" * 20000, "public_key_length"),
    ],
)
def test_what_is_not_a_public_key_is_refused_with_what_to_type(typed, code):
    assert code_of(normalize_public_key, typed) == code


@given(st.text(max_size=300))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_any_text_typed_as_a_public_key_is_stored_or_refused_with_a_message(text):
    try:
        stored = normalize_public_key(text)
    except ValidationError as exc:
        assert exc.messages
    else:
        assert stored and set(stored) <= set("0123456789ABCDEF")


# Reading packages ---------------------------------------------------------------------------


def test_an_apk_signed_v1_alone_gives_its_package_name_and_the_jar_signers_fingerprint():
    identity = read(fixture("demo-v1.apk"))
    assert identity.platform == ANDROID
    assert identity.identifier == EXPECTED["android"]["identifier"]
    assert identity.fingerprint == EXPECTED["android"]["v1"]["md5"]
    assert identity.source == "v1"


def test_an_apk_signed_v1_and_v2_gives_the_signers_md5_and_modulus_as_apksigner_and_openssl_do():
    identity = read(fixture("demo-v1v2.apk"))
    expected = EXPECTED["android"]["v1v2"]
    assert (identity.platform, identity.identifier) == (ANDROID, EXPECTED["android"]["identifier"])
    assert identity.fingerprint == expected["md5"]
    assert identity.public_key == expected["public_key"]
    assert identity.source == "v2"


def test_an_apk_with_no_jar_signature_is_read_from_its_v3_signing_block():
    identity = read(fixture("demo-v2v3.apk"))
    expected = EXPECTED["android"]["v2v3"]
    assert identity.identifier == EXPECTED["android"]["identifier"]
    assert identity.fingerprint == expected["md5"]
    assert identity.public_key == expected["public_key"]
    assert identity.public_key.startswith("04")
    assert identity.source == "v3"


def test_the_same_key_signs_v1_and_v1v2_packages_alike():
    assert read(fixture("demo-v1.apk")).fingerprint == read(fixture("demo-v1v2.apk")).fingerprint


def test_an_ipa_gives_its_bundle_id_from_info_plist_and_the_developer_certificate():
    identity = read(fixture("demo.ipa"))
    expected = EXPECTED["ios"]
    assert (identity.platform, identity.identifier) == (IOS, expected["identifier"])
    assert identity.fingerprint == expected["sha1"]
    assert identity.public_key == expected["public_key"]
    assert identity.source == "profile"


def test_a_bare_profile_in_apples_ber_encoding_gives_the_bundle_id_without_the_team_prefix():
    assert fixture("embedded.mobileprovision")[:2] == b"\x30\x80"
    identity = read(fixture("embedded.mobileprovision"))
    assert identity.identifier == EXPECTED["ios"]["identifier"]
    assert identity.fingerprint == EXPECTED["ios"]["sha1"]
    assert identity.public_key == EXPECTED["ios"]["public_key"]


def test_a_wildcard_profile_names_no_app_but_still_gives_the_certificate():
    identity = read(fixture("wildcard.mobileprovision"))
    assert identity.identifier == ""
    assert identity.fingerprint == EXPECTED["ios"]["sha1"]


def test_a_package_is_read_from_an_upload_and_left_open_for_the_caller_to_discard():
    upload = SimpleUploadedFile("app.apk", fixture("demo-v2v3.apk"))
    assert read_package(upload).fingerprint == EXPECTED["android"]["v2v3"]["md5"]
    assert not upload.closed
    on_disk = TemporaryUploadedFile("app.ipa", "application/octet-stream", 0, None)
    on_disk.write(fixture("demo.ipa"))
    on_disk.size = on_disk.tell()
    on_disk.seek(0)
    assert read_package(on_disk).identifier == EXPECTED["ios"]["identifier"]
    on_disk.close()


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("demo-unsigned.apk", "apk_unsigned"),
        ("demo-truncated.apk", "package_zip"),
        ("demo-plain-manifest.apk", "apk_manifest_not_binary"),
        ("no-certificates.mobileprovision", "profile_no_certificates"),
    ],
)
def test_a_package_that_cannot_give_its_identity_says_why(name, code):
    assert refusal(fixture(name)).code == code


def test_an_unsigned_apk_is_told_to_upload_the_signed_one():
    assert refusal(fixture("demo-unsigned.apk")).messages == [
        "The package is not signed: upload the .apk signed with the release key (the one the "
        "app stores have), not the unsigned build."
    ]


def test_a_package_over_the_size_limit_is_refused_before_it_is_read(settings):
    settings.APP_PACKAGE_MAX_BYTES = 4096
    assert refusal(fixture("demo-v1v2.apk")).code == "package_too_large"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "package_empty"),
        (b"%PDF-1.7 not an app", "package_kind"),
        (b"just some text", "package_kind"),
        (plistlib.dumps({"Entitlements": {}}), "package_kind"),
        (plistlib.dumps({"a": 1}, fmt=plistlib.FMT_BINARY), "package_kind"),
        (b"PK\x03\x04" + b"\x00" * 100, "package_zip"),
        (b"\x30\x80\x06\x09garbage", "profile_unreadable"),
        (b"\x30\x03\x02\x01\x01", "profile_unreadable"),
    ],
)
def test_what_is_not_a_package_is_refused_with_a_message(data, code):
    assert refusal(data).code == code


def make_zip(entries: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_that_is_neither_an_apk_nor_an_ipa_is_refused():
    assert refusal(make_zip({"readme.txt": b"hello"})).code == "package_kind"


def test_a_harmonyos_package_is_recognised_and_its_values_asked_to_be_typed():
    hap = make_zip({"module.json": b'{"app": {"bundleName": "com.example.app"}}'})
    error = refusal(hap)
    assert error.code == "harmonyos_package"
    assert "type the bundle name" in error.messages[0]
    assert refusal(make_zip({"pack.info": b"{}", "entry.hap": hap})).code == "harmonyos_package"


def test_a_zip_bomb_manifest_is_refused_without_inflating_it(monkeypatch):
    monkeypatch.setattr(app_packages, "MANIFEST_MAX_BYTES", 64 * 1024)
    bomb = make_zip({"AndroidManifest.xml": bytes(1024 * 1024)})
    assert len(bomb) < 8 * 1024
    assert refusal(bomb).code == "apk_manifest_too_large"


def test_a_zip_bomb_that_declares_a_small_size_is_still_stopped(monkeypatch):
    monkeypatch.setattr(app_packages, "MANIFEST_MAX_BYTES", 64 * 1024)
    bomb = bytearray(make_zip({"AndroidManifest.xml": bytes(8 * 1024 * 1024)}))
    # Declare 1 KiB in the local header and the central directory: a reader trusting it would
    # inflate the whole entry.
    struct.pack_into("<I", bomb, 22, 1024)
    central = bomb.rfind(b"PK\x01\x02")
    struct.pack_into("<I", bomb, central + 24, 1024)
    assert refusal(bytes(bomb)).code in {"package_zip", "apk_manifest_unreadable"}


def test_a_manifest_the_decoder_cannot_follow_is_refused_rather_than_decoded():
    # A string pool with no resource map after it: apkInspector's decoder would look for one
    # forever.
    manifest = struct.pack("<HHI", 0x0003, 8, 8 + 28) + struct.pack("<HHI", 0x0001, 28, 28)
    manifest += bytes(20)
    apk = make_zip({"AndroidManifest.xml": manifest})
    assert refusal(apk).code == "apk_manifest_unreadable"


def test_a_damaged_signing_block_is_refused_as_a_damaged_signature():
    apk = bytearray(fixture("demo-v2v3.apk"))
    magic = apk.find(b"APK Sig Block 42")
    (size,) = struct.unpack_from("<Q", apk, magic - 8)
    start = magic + 16 - size - 8
    # The first pair's length now runs past the block's end.
    struct.pack_into("<Q", apk, start + 8, 2**40)
    assert refusal(bytes(apk)).code == "apk_signature_unreadable"


def test_a_signer_whose_certificate_is_not_a_certificate_is_refused():
    apk = bytearray(fixture("demo-v2v3.apk"))
    magic = apk.find(b"APK Sig Block 42")
    (size,) = struct.unpack_from("<Q", apk, magic - 8)
    # A certificate's DER starts SEQUENCE, SEQUENCE (the to-be-signed part): each copy of the
    # signer's certificate in the v2 and v3 blocks gets a length running past its end.
    at = magic + 16 - size - 8
    damaged = 0
    while (at := apk.find(b"\x30\x82", at, magic)) >= 0:
        if apk[at + 4 : at + 6] == b"\x30\x82":
            apk[at + 2 : at + 4] = b"\xff\xff"
            damaged += 1
        at += 2
    assert damaged >= 2
    assert refusal(bytes(apk)).code == "apk_signature_unreadable"


def test_an_ipa_without_its_provisioning_profile_is_refused():
    ipa = make_zip({"Payload/Demo.app/Info.plist": plistlib.dumps({"CFBundleIdentifier": "a.b"})})
    assert refusal(ipa).code == "ipa_no_profile"


def test_an_ipa_whose_info_plist_names_no_app_takes_the_profiles_bundle_id():
    ipa = make_zip(
        {
            "Payload/Demo.app/Info.plist": plistlib.dumps({"CFBundleName": "Demo"}),
            "Payload/Demo.app/embedded.mobileprovision": fixture("embedded.mobileprovision"),
        }
    )
    assert read(ipa).identifier == EXPECTED["ios"]["identifier"]


def test_an_ipa_with_a_damaged_info_plist_is_refused():
    ipa = make_zip(
        {
            "Payload/Demo.app/Info.plist": b"bplist00 damaged",
            "Payload/Demo.app/embedded.mobileprovision": fixture("embedded.mobileprovision"),
        }
    )
    assert refusal(ipa).code == "ipa_info_unreadable"


def signed_profile(plist: dict) -> bytes:
    """A provisioning profile around ``plist``, as openssl cms -sign -nodetach writes it."""
    from cryptography.hazmat.primitives.serialization import pkcs7

    key = ec.generate_private_key(ec.SECP256R1())
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(plistlib.dumps(plist))
        .add_signer(self_signed(key), key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )


def test_a_profile_with_several_developer_certificates_lists_them_all(rsa_key):
    other = ec.generate_private_key(ec.SECP256R1())
    ders = [self_signed(key).public_bytes(serialization.Encoding.DER) for key in (rsa_key, other)]
    profile = signed_profile(
        {
            "DeveloperCertificates": ders,
            "Entitlements": {"application-identifier": "TEAM123456.com.example.app"},
            "TeamIdentifier": ["TEAM123456"],
        }
    )
    identity = read(profile)
    assert identity.identifier == "com.example.app"
    assert len(identity.certificates) == 2
    assert identity.fingerprint == identity.certificates[0].fingerprint


def test_a_profile_with_a_damaged_developer_certificate_is_refused():
    profile = signed_profile({"DeveloperCertificates": [b"not a certificate"], "Entitlements": {}})
    assert refusal(profile).code == "profile_certificate_unreadable"


def test_a_signed_blob_that_is_not_a_property_list_is_refused():
    from cryptography.hazmat.primitives.serialization import pkcs7

    key = ec.generate_private_key(ec.SECP256R1())
    blob = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(b"not a plist")
        .add_signer(self_signed(key), key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
    assert refusal(blob).code == "profile_unreadable"


@given(
    st.sampled_from([b"PK\x03\x04", b"PK\x05\x06", b"\x30\x80", b"\x30\x82", b"\x03\x00"]),
    st.binary(max_size=2000),
)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_no_bytes_make_the_reader_fail_other_than_with_a_message(head, body):
    try:
        read(head + body)
    except ValidationError as exc:
        assert exc.code and exc.messages


@given(st.integers(min_value=0, max_value=8000), st.integers(min_value=0, max_value=255))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_no_byte_changed_in_a_signed_apk_makes_the_reader_fail_other_than_with_a_message(at, value):
    apk = bytearray(fixture("demo-v2v3.apk"))
    apk[at % len(apk)] = value
    try:
        read(bytes(apk))
    except ValidationError as exc:
        assert exc.code and exc.messages


@given(st.integers(min_value=0, max_value=4000), st.integers(min_value=0, max_value=255))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_no_byte_changed_in_a_profile_makes_the_reader_fail_other_than_with_a_message(at, value):
    profile = bytearray(fixture("embedded.mobileprovision"))
    profile[at % len(profile)] = value
    try:
        read(bytes(profile))
    except ValidationError as exc:
        assert exc.code and exc.messages


# Checking what was typed against the package ---------------------------------------------


def test_an_apk_signed_with_another_certificate_than_the_typed_fingerprint_is_named():
    identity = read(fixture("demo-v1v2.apk"))
    other = EXPECTED["android"]["v2v3"]["md5"]
    errors = package_mismatches(identity, platform=ANDROID, fingerprint=other)
    assert list(errors) == ["fingerprint"]
    [message] = errors["fingerprint"]
    assert fingerprint_display(identity.fingerprint) in message
    assert fingerprint_display(other) in message


def test_every_typed_value_the_package_contradicts_is_reported_at_once():
    identity = read(fixture("demo-v1v2.apk"))
    errors = package_mismatches(
        identity,
        platform=ANDROID,
        identifier="cn.example.other",
        fingerprint=EXPECTED["android"]["v2v3"]["md5"],
        public_key=EXPECTED["android"]["v2v3"]["public_key"],
    )
    assert set(errors) == {"identifier", "fingerprint", "public_key"}
    assert "cn.example.beian.demo" in errors["identifier"][0]


def test_values_typed_in_another_notation_agree_with_the_package():
    identity = read(fixture("demo-v1v2.apk"))
    expected = EXPECTED["android"]["v1v2"]
    assert (
        package_mismatches(
            identity,
            platform=ANDROID,
            identifier=full_width(EXPECTED["android"]["identifier"]),
            fingerprint="MD5: " + fingerprint_display(expected["md5"]).lower(),
            public_key="Modulus=" + expected["public_key"].lower(),
        )
        == {}
    )


def test_values_left_empty_are_taken_from_the_package_without_complaint():
    assert package_mismatches(read(fixture("demo.ipa")), platform=IOS) == {}


def test_a_bundle_id_typed_in_another_case_is_the_same_app():
    identity = read(fixture("demo.ipa"))
    assert package_mismatches(identity, platform=IOS, identifier="CN.Example.Beian.Demo") == {}


def test_a_wildcard_profile_is_not_held_against_the_typed_bundle_id():
    identity = read(fixture("wildcard.mobileprovision"))
    assert package_mismatches(identity, platform=IOS, identifier="com.example.any") == {}


def test_a_typed_value_that_is_not_well_formed_gets_its_own_message():
    identity = read(fixture("demo.ipa"))
    errors = package_mismatches(identity, platform=IOS, fingerprint=MD5, identifier="com.my_app")
    assert errors["fingerprint"][0].startswith("This is the MD5 fingerprint")
    assert "“_”" in errors["identifier"][0]


def test_a_package_of_another_platform_is_refused_on_the_package_field():
    android = read(fixture("demo-v1v2.apk"))
    assert package_mismatches(android, platform=IOS) == {
        "package": [
            "This is an Android package, not an iOS one: for iOS, upload the .ipa or its "
            "embedded.mobileprovision."
        ]
    }
    assert list(package_mismatches(android, platform=HARMONYOS)) == ["package"]


def test_a_fingerprint_of_any_certificate_the_profile_names_agrees():
    identity = PackageIdentity(
        platform=IOS,
        identifier="com.example.app",
        public_key="AB" * 64,
        fingerprint="1" * 40,
        certificates=(
            SigningCertificate("1" * 40, "AB" * 64, "CN=one"),
            SigningCertificate("2" * 40, "CD" * 64, "CN=two"),
        ),
        source="profile",
    )
    assert package_mismatches(identity, platform=IOS, fingerprint="2" * 40) == {}
    assert package_mismatches(identity, platform=IOS, public_key="CD" * 64) == {}
    assert list(package_mismatches(identity, platform=IOS, fingerprint="3" * 40)) == ["fingerprint"]


def test_mismatch_messages_are_in_chinese_for_chinese_readers():
    identity = read(fixture("demo-v1v2.apk"))
    with translation.override("zh-hans"):
        errors = package_mismatches(
            identity, platform=ANDROID, fingerprint=EXPECTED["android"]["v2v3"]["md5"]
        )
        refused = refusal(fixture("demo-unsigned.apk"))
    assert "签名" in errors["fingerprint"][0]
    assert "签名" in refused.messages[0]


def test_the_stored_forms_are_those_of_the_normal_forms_module():
    identity = read(fixture("demo-v1v2.apk"))
    assert apps.normalize_fingerprint(ANDROID, identity.fingerprint) == identity.fingerprint
    assert apps.normalize_public_key(identity.public_key) == identity.public_key
    assert apps.validate_identifier(ANDROID, identity.identifier) == identity.identifier
