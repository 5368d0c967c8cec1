"""An app's identity (SPEC §13): each platform's identifier rule, and fingerprints and public
keys in every notation people paste."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
from filings.app_packages import (
    PackageIdentity,
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
