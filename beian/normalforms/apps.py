"""An app's identity on each platform (SPEC §13): its identifier, the public key of the
certificate it is signed with, and that certificate's fingerprint.

Every value is first folded (``text.folded``: format characters dropped, NFKC), so what an
input method types in full width (``ｃｏｍ．ｅｘａｍｐｌｅ``, ``ＡＢ：ＣＤ``) reads as typed in
ASCII, and the ideographic full stop ``。`` separates an identifier's parts like ``.``.

Identifiers, each by its platform's own rule and kept in the case typed:

- ``android``: the package name (``applicationId``, the manifest's ``package``), as Android
  checks it when it installs a package (``FrameworkParsingPackageUtils.validateName``: at
  least two parts separated by full stops, each an ASCII letter followed by letters, digits
  and underscores; at most 223 characters, the longest name Android keeps as a file name) and
  as the Android Gradle plugin checks ``applicationId`` (no empty part). Case counts:
  ``com.Example`` and ``com.example`` are two apps.
- ``ios``: the bundle ID (``CFBundleIdentifier``). Apple's glossary ("bundle ID",
  developer.apple.com/help/glossary/bundle-id): only ASCII letters, digits, hyphens and
  periods, in reverse-DNS form, case-insensitive. Here: at least two parts, none empty, at
  most 255 characters. ``identifier_key`` compares bundle IDs without case.
- ``harmonyos``: the bundle name (``bundleName`` of ``app.json5``), by the OpenHarmony
  configuration reference (docs ``application-dev/quick-start/app-configuration-file.md``):
  at least three parts separated by full stops, of ASCII letters, digits and underscores;
  the first part starts with a letter, the others with a letter or digit; every part ends
  with a letter or digit; 7 to 128 characters.

Fingerprints of the signing certificate (the digest of its DER encoding), as the filing
forms ask them (工业和信息化部 APP 备案; the consoles' guides: Aliyun "安卓应用获取App特征信息
指导", Huawei Cloud "APP特征信息及其获取方式", Ping An Cloud "APP特征信息"):

- ``android``: MD5, 32 hexadecimal digits;
- ``ios``: SHA-1, 40 hexadecimal digits;
- ``harmonyos``: MD5, 32 hexadecimal digits — Huawei Cloud's guide asks for the public key and
  "签名MD5值", the MD5 fingerprint of the app's release certificate (.cer) from AppGallery
  Connect.

They are accepted as keytool, openssl, jadx and Keychain print them: with or without colons
or spaces, in either case, behind a label (``MD5:``, ``SHA1 Fingerprint=``). They are stored
one way, **upper-case hexadecimal without separators** (``8874262E0F32…``), and shown in the
usual colon notation by ``fingerprint_display`` (``88:74:26:2E:…``).

The public key (公钥): the consoles' guides send people to the certificate's "模数(公钥)",
the RSA modulus in hexadecimal (Aliyun's guide with jadx; ``openssl x509 -modulus``; the
modulus Java prints), while others copy the whole key (``openssl x509 -pubkey``'s PEM, the
Windows certificate viewer's hex DER). All of these are accepted and stored as one value:
**upper-case hexadecimal of the key's number** — the modulus of an RSA key without leading
zero bytes, the uncompressed point (``04…``) of an elliptic-curve key (HarmonyOS release
certificates and modern Android keys), ``y`` of a DSA key, the 32 or 57 raw bytes of an
Ed25519 or Ed448 key. ``certificate_public_key`` gives the same form for a certificate read
from a package, so typed and read values compare as equal strings.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .text import folded

ANDROID = "android"
IOS = "ios"
HARMONYOS = "harmonyos"
PLATFORMS = (ANDROID, IOS, HARMONYOS)

# The separators of an identifier's parts: the full stop and the ideographic full stops an
# input method types (as for domains, RFC 3490 §3.1).
_PART_SEPARATORS = re.compile("[\u3002\uff0e\uff61]")

ANDROID_MAX_LENGTH = 223
IOS_MAX_LENGTH = 255
HARMONYOS_MIN_LENGTH = 7
HARMONYOS_MAX_LENGTH = 128

_ANDROID_CHARACTER = re.compile(r"[A-Za-z0-9_.]")
_IOS_CHARACTER = re.compile(r"[A-Za-z0-9.-]")
_HARMONYOS_CHARACTER = re.compile(r"[A-Za-z0-9_.]")


def _identifier_text(value: str | None) -> str:
    return _PART_SEPARATORS.sub(".", folded(value))


def _first_foreign(text: str, allowed: re.Pattern) -> str | None:
    return next((ch for ch in text if not allowed.fullmatch(ch)), None)


def _foreign_message(ch: str, rule: str) -> str:
    shown = _("A space") if ch.isspace() else f"“{ch}”"
    return _("%(char)s cannot be used here: %(rule)s") % {"char": shown, "rule": rule}


def validate_android_package(value: str | None) -> str:
    """An Android package name as stored (folded, case kept): ``"com.example.app"``.

    ``ValidationError`` coded ``android_package_required``, ``_characters``, ``_parts``,
    ``_empty_part``, ``_part_start`` or ``_length`` (source: Android's
    ``FrameworkParsingPackageUtils.validateName``; SPEC §13).
    """
    text = _identifier_text(value)
    rule = _(
        "a package name has only letters, digits and underscores, in parts separated by full "
        "stops, like com.example.app."
    )
    if not text:
        raise ValidationError(
            _("Enter the Android package name, like com.example.app."),
            code="android_package_required",
        )
    foreign = _first_foreign(text, _ANDROID_CHARACTER)
    if foreign is not None:
        raise ValidationError(_foreign_message(foreign, rule), code="android_package_characters")
    parts = text.split(".")
    if any(not part for part in parts):
        raise ValidationError(
            _(
                "A package name has no empty part: remove the full stop at the start or end, "
                "or the second of two in a row."
            ),
            code="android_package_empty_part",
        )
    if len(parts) < 2:
        raise ValidationError(
            _("A package name has at least two parts separated by a full stop, like com.example."),
            code="android_package_parts",
        )
    bad = next((part for part in parts if not part[0].isalpha()), None)
    if bad is not None:
        raise ValidationError(
            _("Each part of a package name starts with a letter: “%(part)s” does not.")
            % {"part": bad},
            code="android_package_part_start",
        )
    if len(text) > ANDROID_MAX_LENGTH:
        raise ValidationError(
            _("A package name has at most %(max)d characters; this one has %(length)d.")
            % {"max": ANDROID_MAX_LENGTH, "length": len(text)},
            code="android_package_length",
        )
    return text


def validate_ios_bundle_id(value: str | None) -> str:
    """An iOS bundle ID as stored (folded, case kept): ``"com.example.app"``.

    ``ValidationError`` coded ``ios_bundle_id_required``, ``_characters``, ``_wildcard``,
    ``_parts``, ``_empty_part`` or ``_length`` (source: Apple's glossary, "bundle ID";
    SPEC §13).
    """
    text = _identifier_text(value)
    if not text:
        raise ValidationError(
            _("Enter the iOS bundle ID, like com.example.app."), code="ios_bundle_id_required"
        )
    if "*" in text:
        raise ValidationError(
            _(
                "A bundle ID names one app: “*” belongs to wildcard App IDs only. Enter the "
                "app's own bundle ID (Xcode, target, General, Bundle Identifier)."
            ),
            code="ios_bundle_id_wildcard",
        )
    foreign = _first_foreign(text, _IOS_CHARACTER)
    if foreign is not None:
        raise ValidationError(
            _foreign_message(
                foreign,
                _(
                    "a bundle ID has only letters, digits and hyphens, in parts separated by "
                    "full stops, like com.example.app."
                ),
            ),
            code="ios_bundle_id_characters",
        )
    parts = text.split(".")
    if any(not part for part in parts):
        raise ValidationError(
            _(
                "A bundle ID has no empty part: remove the full stop at the start or end, or "
                "the second of two in a row."
            ),
            code="ios_bundle_id_empty_part",
        )
    if len(parts) < 2:
        raise ValidationError(
            _(
                "A bundle ID is written in reverse-DNS form, with at least two parts separated "
                "by a full stop, like com.example.app."
            ),
            code="ios_bundle_id_parts",
        )
    if len(text) > IOS_MAX_LENGTH:
        raise ValidationError(
            _("A bundle ID has at most %(max)d characters; this one has %(length)d.")
            % {"max": IOS_MAX_LENGTH, "length": len(text)},
            code="ios_bundle_id_length",
        )
    return text


def validate_harmonyos_bundle_name(value: str | None) -> str:
    """A HarmonyOS bundle name as stored (folded, case kept): ``"com.example.app"``.

    ``ValidationError`` coded ``harmonyos_bundle_name_required``, ``_characters``,
    ``_empty_part``, ``_parts``, ``_start``, ``_part_start``, ``_part_end`` or ``_length``
    (source: OpenHarmony, app.json5 ``bundleName``; SPEC §13).
    """
    text = _identifier_text(value)
    if not text:
        raise ValidationError(
            _("Enter the HarmonyOS bundle name, like com.example.app."),
            code="harmonyos_bundle_name_required",
        )
    foreign = _first_foreign(text, _HARMONYOS_CHARACTER)
    if foreign is not None:
        raise ValidationError(
            _foreign_message(
                foreign,
                _(
                    "a bundle name has only letters, digits and underscores, in parts "
                    "separated by full stops, like com.example.app."
                ),
            ),
            code="harmonyos_bundle_name_characters",
        )
    parts = text.split(".")
    if any(not part for part in parts):
        raise ValidationError(
            _(
                "A bundle name has no empty part: remove the full stop at the start or end, "
                "or the second of two in a row."
            ),
            code="harmonyos_bundle_name_empty_part",
        )
    if len(parts) < 3:
        raise ValidationError(
            _(
                "A HarmonyOS bundle name has at least three parts separated by full stops, "
                "like com.example.app."
            ),
            code="harmonyos_bundle_name_parts",
        )
    if not parts[0][0].isalpha():
        raise ValidationError(
            _("A HarmonyOS bundle name starts with a letter."),
            code="harmonyos_bundle_name_start",
        )
    bad_start = next((part for part in parts[1:] if part[0] == "_"), None)
    if bad_start is not None:
        raise ValidationError(
            _("Each part of a bundle name starts with a letter or digit: “%(part)s” does not.")
            % {"part": bad_start},
            code="harmonyos_bundle_name_part_start",
        )
    bad_end = next((part for part in parts if part[-1] == "_"), None)
    if bad_end is not None:
        raise ValidationError(
            _("Each part of a bundle name ends with a letter or digit: “%(part)s” does not.")
            % {"part": bad_end},
            code="harmonyos_bundle_name_part_end",
        )
    if not HARMONYOS_MIN_LENGTH <= len(text) <= HARMONYOS_MAX_LENGTH:
        raise ValidationError(
            _("A HarmonyOS bundle name has %(min)d to %(max)d characters; this one has %(length)d.")
            % {"min": HARMONYOS_MIN_LENGTH, "max": HARMONYOS_MAX_LENGTH, "length": len(text)},
            code="harmonyos_bundle_name_length",
        )
    return text


_IDENTIFIER_RULES = {
    ANDROID: validate_android_package,
    IOS: validate_ios_bundle_id,
    HARMONYOS: validate_harmonyos_bundle_name,
}


def validate_identifier(platform: str, value: str | None) -> str:
    """The identifier of an app on ``platform`` (one of ``PLATFORMS``) as stored;
    ``ValidationError`` from that platform's rule. SPEC §13."""
    return _IDENTIFIER_RULES[platform](value)


# What an identifier of any platform, or a mini-program id of any host, is made of.
_LOOKUP_CHARACTERS = re.compile(r"[A-Za-z0-9._-]{2,255}")


def identifier_lookup_key(value: str | None) -> str | None:
    """What the public query looks an app identifier or a mini-program id up by (SPEC §13):
    the text folded (full-width typing and the ideographic full stop read as ASCII), in lower
    case as ``PublishedIdentifier.key`` holds it, when it could be one (2 to 255 ASCII
    letters, digits, full stops, ``_`` and ``-``); None otherwise. Whether a platform's rule
    accepts it is not asked: the lookup finds only what was filed.
    ``identifier_lookup_key("Com．Example。App") == "com.example.app"``."""
    text = _identifier_text(value)
    return text.lower() if _LOOKUP_CHARACTERS.fullmatch(text) else None


def identifier_key(platform: str, identifier: str) -> str:
    """What two stored identifiers are compared by: bundle IDs without case (Apple: "bundle
    IDs are case insensitive"), package and bundle names exactly."""
    return identifier.casefold() if platform == IOS else identifier


# Fingerprints ------------------------------------------------------------------------------

MD5 = "md5"
SHA1 = "sha1"
SHA256 = "sha256"
FINGERPRINT_ALGORITHMS = {ANDROID: MD5, IOS: SHA1, HARMONYOS: MD5}
_DIGITS = {MD5: 32, SHA1: 40, SHA256: 64}
_ALGORITHM_NAMES = {MD5: "MD5", SHA1: "SHA-1", SHA256: "SHA-256"}

# What keytool, openssl and the consoles print before the digits: "MD5:", "SHA1:",
# "SHA-1 Fingerprint=", "md5 Fingerprint=", "SHA256: ", "证书指纹 MD5：".
_LABEL = re.compile(
    r"^\s*(?:证书指纹|指纹|签名)?\s*(?P<algorithm>md5|sha-?1|sha-?256)\s*"
    r"(?:(?:certificate\s+)?fingerprint|指纹|签名|digest)?\s*[:=]?",
    re.IGNORECASE,
)
_FINGERPRINT_SEPARATORS = re.compile(r"[\s:\-]")
_HEX = re.compile(r"[0-9A-F]+")
_EXAMPLE = "A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4"


def _algorithm_of(label: str) -> str:
    label = label.lower().replace("-", "")
    return {"md5": MD5, "sha1": SHA1, "sha256": SHA256}[label]


def normalize_fingerprint(platform: str, value: str | None) -> str:
    """The certificate fingerprint the filing form asks for on ``platform`` (MD5 for Android
    and HarmonyOS, SHA-1 for iOS), stored as upper-case hexadecimal without separators:
    ``normalize_fingerprint("android", "MD5: 88:74:26:2e:0f:32:20:66:ed:52:8e:1f:b8:04:ea:70")
    == "8874262E0F322066ED528E1FB804EA70"``.

    ``ValidationError`` coded ``fingerprint_required``, ``fingerprint_characters``,
    ``fingerprint_algorithm`` (a label or a length of another digest: a SHA-1 fingerprint
    where MD5 is asked) or ``fingerprint_length``. SPEC §13.
    """
    algorithm = FINGERPRINT_ALGORITHMS[platform]
    text = folded(value)
    if not text:
        raise ValidationError(
            _("Enter the certificate's %(algorithm)s fingerprint.")
            % {"algorithm": _ALGORITHM_NAMES[algorithm]},
            code="fingerprint_required",
        )
    labelled = None
    label = _LABEL.match(text)
    if label:
        labelled = _algorithm_of(label["algorithm"])
        text = text[label.end() :]
    digits = _FINGERPRINT_SEPARATORS.sub("", text).upper()
    expected = _DIGITS[algorithm]
    if not digits or not _HEX.fullmatch(digits):
        raise ValidationError(
            _(
                "A fingerprint is %(digits)d hexadecimal digits (0–9 and A–F), with or without "
                "colons, like %(example)s."
            )
            % {"digits": expected, "example": fingerprint_display(_EXAMPLE[:expected])},
            code="fingerprint_characters",
        )
    found = labelled or next((name for name, n in _DIGITS.items() if n == len(digits)), None)
    if found is not None and found != algorithm:
        raise ValidationError(
            _(
                "This is the %(found)s fingerprint; the filing asks for the %(algorithm)s "
                "fingerprint of the same certificate (%(digits)d hexadecimal digits)."
            )
            % {
                "found": _ALGORITHM_NAMES[found],
                "algorithm": _ALGORITHM_NAMES[algorithm],
                "digits": expected,
            },
            code="fingerprint_algorithm",
        )
    if len(digits) != expected:
        raise ValidationError(
            _(
                "The %(algorithm)s fingerprint has %(digits)d hexadecimal digits; this one has "
                "%(length)d: check for a missing or extra digit."
            )
            % {
                "algorithm": _ALGORITHM_NAMES[algorithm],
                "digits": expected,
                "length": len(digits),
            },
            code="fingerprint_length",
        )
    return digits


def fingerprint_display(fingerprint: str) -> str:
    """A stored fingerprint in the colon notation people read: ``"8874…"`` →
    ``"88:74:…"``."""
    return ":".join(fingerprint[i : i + 2] for i in range(0, len(fingerprint), 2))


# Hexadecimal digits of a public key kept at each end when it is shown shortened.
KEY_SHOWN_HEAD, KEY_SHOWN_TAIL = 16, 8


def public_key_short(key: str) -> str:
    """A stored public key (hexadecimal, up to 2,048 digits) shortened for people to tell
    keys apart by eye: its first 16 and last 8 digits (``"B0C6A7A7F4794916…08A469"``); a
    short one whole. Compare stored keys whole, never their short forms."""
    if len(key) <= KEY_SHOWN_HEAD + KEY_SHOWN_TAIL + 1:
        return key
    return f"{key[:KEY_SHOWN_HEAD]}…{key[-KEY_SHOWN_TAIL:]}"


def certificate_fingerprint(certificate: x509.Certificate, algorithm: str) -> str:
    """The stored form of ``certificate``'s fingerprint by ``algorithm`` (``MD5``, ``SHA1``
    or ``SHA256``): the digest of its DER encoding, upper-case hexadecimal."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    return hashlib.new(algorithm, der, usedforsecurity=False).hexdigest().upper()


# Public keys ------------------------------------------------------------------------------

# 256-bit elliptic-curve keys (65 bytes) are the shortest in use; 8192-bit RSA the longest.
PUBLIC_KEY_MIN_DIGITS = 64
PUBLIC_KEY_MAX_DIGITS = 2048
_PUBLIC_KEY_MAX_TEXT = 16384
_PEM = re.compile(
    r"-----BEGIN (?P<kind>[A-Z0-9 ]+)-----(?P<body>.*?)-----END (?P=kind)-----", re.DOTALL
)
_KEY_SEPARATORS = re.compile(r"[\s:]")
# What tools print before the digits: "Modulus=" (openssl), "modulus:" (Java), "模数", "公钥:".
_KEY_LABEL = re.compile(r"^\s*(?:modulus|public\s*key|模数|公钥)\s*[:=]?", re.IGNORECASE)
_BASE64 = re.compile(r"[A-Za-z0-9+/]+=*")


def _int_hex(number: int) -> str:
    return number.to_bytes(max(1, (number.bit_length() + 7) // 8), "big").hex().upper()


def key_number(key) -> str:
    """The stored form of a public key object of ``cryptography``: the RSA modulus, the
    uncompressed elliptic-curve point, DSA's ``y`` or the raw Edwards-curve key, in upper-case
    hexadecimal; for any other kind, its SubjectPublicKeyInfo DER."""
    if isinstance(key, rsa.RSAPublicKey):
        return _int_hex(key.public_numbers().n)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return (
            key.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
            .hex()
            .upper()
        )
    if isinstance(key, dsa.DSAPublicKey):
        return _int_hex(key.public_numbers().y)
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return (
            key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            .hex()
            .upper()
        )
    return (
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        .hex()
        .upper()
    )


def certificate_public_key(certificate: x509.Certificate) -> str:
    """The stored form of the public key of ``certificate`` (see ``key_number``)."""
    return key_number(certificate.public_key())


def _der_key(der: bytes):
    """The public key a DER blob holds (SubjectPublicKeyInfo, PKCS #1 RSAPublicKey or a whole
    certificate), or None."""
    try:
        return serialization.load_der_public_key(der)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        pass
    try:
        return x509.load_der_x509_certificate(der).public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion):
        return None


def _key_error() -> ValidationError:
    return ValidationError(
        _(
            "Enter the public key as hexadecimal digits (the certificate's modulus, as jadx or "
            "openssl x509 -modulus print it) or as PEM text starting with "
            "-----BEGIN PUBLIC KEY-----."
        ),
        code="public_key_format",
    )


def normalize_public_key(value: str | None) -> str:
    """The public key of the signing certificate as stored: upper-case hexadecimal of the
    key's number (see the module's notes), whatever of these was pasted: the modulus in hex
    (with or without colons, spaces, line breaks, ``0x``, a leading ``00`` or a label such as
    openssl's ``Modulus=``), the key's DER
    in hex (SubjectPublicKeyInfo or RSAPublicKey, as the Windows certificate viewer shows it),
    the same DER in base64, or PEM (``PUBLIC KEY``, ``RSA PUBLIC KEY`` or a whole
    ``CERTIFICATE``).

    ``ValidationError`` coded ``public_key_required``, ``public_key_format``,
    ``public_key_odd`` or ``public_key_length``. SPEC §13.
    """
    text = folded(value)
    if not text:
        raise ValidationError(
            _("Enter the public key of the signing certificate."), code="public_key_required"
        )
    if len(text) > _PUBLIC_KEY_MAX_TEXT:
        raise ValidationError(
            _("This is longer than any public key: paste the key alone."),
            code="public_key_length",
        )
    pem = _PEM.search(text)
    if pem:
        body = "".join(pem["body"].split())
        try:
            der = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _key_error() from exc
        key = _der_key(der)
        if key is None:
            raise _key_error()
        return _checked_number(key_number(key))
    compact = _KEY_SEPARATORS.sub("", _KEY_LABEL.sub("", text, count=1))
    if compact[:2].lower() == "0x":
        compact = compact[2:]
    if compact and _HEX.fullmatch(compact.upper()):
        digits = compact.upper()
        if len(digits) % 2:
            raise ValidationError(
                _(
                    "The public key has an odd number of hexadecimal digits (%(length)d): a "
                    "digit is missing or one too many."
                )
                % {"length": len(digits)},
                code="public_key_odd",
            )
        key = _der_key(bytes.fromhex(digits)) if digits.startswith("30") else None
        if key is not None:
            return _checked_number(key_number(key))
        # A bare number: an INTEGER's sign byte (00) is not part of the modulus.
        while digits.startswith("00"):
            digits = digits[2:]
        return _checked_number(digits)
    if _BASE64.fullmatch(compact):
        try:
            key = _der_key(base64.b64decode(compact, validate=True))
        except (binascii.Error, ValueError):
            key = None
        if key is not None:
            return _checked_number(key_number(key))
    raise _key_error()


def _checked_number(digits: str) -> str:
    if not PUBLIC_KEY_MIN_DIGITS <= len(digits) <= PUBLIC_KEY_MAX_DIGITS:
        raise ValidationError(
            _(
                "A public key has %(min)d to %(max)d hexadecimal digits (a 2048-bit RSA modulus "
                "has 512); this one has %(length)d."
            )
            % {
                "min": PUBLIC_KEY_MIN_DIGITS,
                "max": PUBLIC_KEY_MAX_DIGITS,
                "length": len(digits),
            },
            code="public_key_length",
        )
    return digits


# Mini-program ids ---------------------------------------------------------------------------

WECHAT = "wechat"
ALIPAY = "alipay"
BAIDU = "baidu"
DOUYIN = "douyin"
QQ = "qq"
OTHER_HOST = "other"
MINI_PROGRAM_PLATFORMS = (WECHAT, ALIPAY, BAIDU, DOUYIN, QQ, OTHER_HOST)

# Each host's AppID as its developer console shows it: WeChat ``wx`` and 16 hexadecimal digits
# (微信公众平台, 开发管理 → 开发设置 → AppID), Douyin ``tt`` and 16 hexadecimal digits (抖音开放
# 平台), Alipay 16 digits (支付宝开放平台 APPID), QQ digits (QQ 小程序 AppID); Baidu's AppKey and
# other hosts' ids are letters, digits, ``_`` and ``-``.
_MINI_PROGRAM_IDS = {
    WECHAT: (re.compile(r"wx[0-9a-f]{16}"), "wx0123456789abcdef"),
    DOUYIN: (re.compile(r"tt[0-9a-f]{16}"), "tt0123456789abcdef"),
    ALIPAY: (re.compile(r"20\d{14}"), "2021001234567890"),
    QQ: (re.compile(r"\d{6,12}"), "1112345678"),
}
_MINI_PROGRAM_ID_OTHER = re.compile(r"[A-Za-z0-9_-]{2,64}")


def validate_mini_program_id(platform: str, value: str | None) -> str:
    """A mini-program's id on its host ``platform`` (one of ``MINI_PROGRAM_PLATFORMS``), as
    stored: folded (full-width typing reads as ASCII), the hexadecimal ids of WeChat and
    Douyin in lower case as their consoles show them. ``ValidationError`` coded
    ``mini_program_id_required`` or ``mini_program_id_format``, with an example of the
    platform's form. SPEC §13."""
    text = _identifier_text(value).replace(" ", "")
    if not text:
        raise ValidationError(
            _("Enter the mini-program's AppID on its platform."),
            code="mini_program_id_required",
        )
    rule = _MINI_PROGRAM_IDS.get(platform)
    if rule is None:
        if not _MINI_PROGRAM_ID_OTHER.fullmatch(text):
            raise ValidationError(
                _(
                    "“%(value)s” is not an AppID: use 2 to 64 letters, digits, “_” and “-”, "
                    "as the platform's console shows it."
                )
                % {"value": text},
                code="mini_program_id_format",
            )
        return text
    pattern, example = rule
    candidate = text.lower() if platform in (WECHAT, DOUYIN) else text
    if not pattern.fullmatch(candidate):
        raise ValidationError(
            _(
                "“%(value)s” is not an AppID of this platform: it looks like %(example)s, as "
                "the platform's developer console shows it."
            )
            % {"value": text, "example": example},
            code="mini_program_id_format",
        )
    return candidate
