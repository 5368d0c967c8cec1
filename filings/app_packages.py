"""An app's identity read from its signed package (SPEC §13), so that an owner need not dig
the package name, public key and fingerprint out with a decompiler, and what was typed can be
checked against the package.

``read_package(file)`` answers a ``PackageIdentity`` for:

- an Android ``.apk``: the package name from the binary ``AndroidManifest.xml`` (decoded by
  apkInspector), the signer's certificate from the APK Signing Block (APK Signature Scheme
  v3.1, v3 or v2, read here by the block's published layout: source.android.com, "APK
  Signature Scheme v2" and "v3") or else from the JAR signature (v1, ``META-INF/*.RSA``,
  ``*.DSA`` or ``*.EC``, a PKCS #7 SignedData read by ``cryptography``); the MD5 fingerprint;
- an iOS ``.ipa`` (``Payload/NAME.app/embedded.mobileprovision`` and ``Info.plist``) or a
  bare ``embedded.mobileprovision``: a CMS SignedData (BER, as Apple writes it) around an XML
  property list; the bundle ID from the app's ``CFBundleIdentifier`` (binary or XML plist)
  or else the profile's ``Entitlements.application-identifier`` without its team prefix (a
  wildcard profile names no app), the developer certificates from ``DeveloperCertificates``,
  each with its SHA-1 fingerprint and public key.

HarmonyOS packages (``.hap``, ``.app``) are recognised but not read: no maintained reader of
their signing block exists for Python, so their values are typed.

What is read is what the package declares: its signatures are not verified (the filing is
checked against what the owner typed, and the bureau reviews it). A package is never
executed, never unpacked to disk, and only the parts named above are read, each with a limit
— a ``.apk`` of hundreds of megabytes costs its central directory, its manifest and its
signing block. Every problem is a ``ValidationError`` with a code and a message for the
owner, never anything else: ``APP_PACKAGE_MAX_BYTES`` bounds the file, zip bombs stop at the
entry limits, and what is not a zip, not binary XML, not signed or not a profile is said so.
The caller keeps Django's upload and discards it.
"""

from __future__ import annotations

import io
import plistlib
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from apkInspector.axml import get_manifest_lite
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import pkcs7
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from beian.normalforms.apps import (
    ANDROID,
    FINGERPRINT_ALGORITHMS,
    HARMONYOS,
    IOS,
    certificate_fingerprint,
    certificate_public_key,
    fingerprint_display,
    identifier_key,
    normalize_fingerprint,
    normalize_public_key,
    validate_identifier,
)

from .uploads import megabytes

# Limits on the parts read, far above real packages: a manifest is tens of kilobytes (the
# largest apps' a few hundred), a provisioning profile or Info.plist a few dozen, an APK
# Signing Block a few (more with padding), a JAR signature block one or two.
MANIFEST_MAX_BYTES = 4 * 1024 * 1024
# Elements of the manifest decoded: the namespace declarations and <manifest> come first.
MANIFEST_ELEMENTS = 8
PROFILE_MAX_BYTES = 1024 * 1024
INFO_PLIST_MAX_BYTES = 1024 * 1024
SIGNING_BLOCK_MAX_BYTES = 16 * 1024 * 1024
JAR_SIGNATURE_MAX_BYTES = 1024 * 1024
JAR_SIGNATURE_MAX_FILES = 8
CENTRAL_DIRECTORY_MAX_BYTES = 64 * 1024 * 1024
ZIP_MAX_ENTRIES = 500_000
# Nesting deeper than this is not a provisioning profile.
BER_MAX_DEPTH = 32


@dataclass(frozen=True)
class SigningCertificate:
    """One signing certificate: its fingerprint by the platform's digest and its public key,
    each in the stored form of ``beian.normalforms.apps``, and its subject for people."""

    fingerprint: str
    public_key: str
    subject: str


@dataclass(frozen=True)
class PackageIdentity:
    """What a package says of the app (SPEC §13 ``platforms`` entry): ``platform``
    (``"android"`` or ``"ios"``), ``identifier`` (``""`` when a wildcard profile names no
    app), and the ``public_key`` and ``fingerprint`` of the signing certificate, which is
    ``certificates[0]``; a provisioning profile may name further developer certificates, any
    of which may sign the app."""

    platform: str
    identifier: str
    public_key: str
    fingerprint: str
    certificates: tuple[SigningCertificate, ...]
    source: str  # "v3.1", "v3", "v2", "v1" (APK signature schemes) or "profile"


def _error(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _size(file: BinaryIO) -> int:
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, io.SEEK_END)
        size = file.tell()
    file.seek(0)
    return size


def read_package(file: BinaryIO) -> PackageIdentity:
    """The identity of the app in ``file`` (an uploaded ``.apk``, ``.ipa`` or
    ``embedded.mobileprovision``, seekable, judged by its content, not its name), read within
    ``settings.APP_PACKAGE_MAX_BYTES``; ``ValidationError`` with a code naming what is wrong
    (``package_too_large``, ``package_empty``, ``package_kind``, ``package_zip``,
    ``harmonyos_package``, ``apk_…``, ``ipa_…``, ``profile_…``). SPEC §13."""
    size = _size(file)
    limit = settings.APP_PACKAGE_MAX_BYTES
    if size > limit:
        raise _error(
            _(
                "The package is %(size)s; packages of up to %(limit)s are read. Upload the "
                "provisioning profile alone (iOS), or type the values."
            )
            % {"size": megabytes(size), "limit": megabytes(limit)},
            "package_too_large",
        )
    if size == 0:
        raise _error(_("The file is empty: upload the package again."), "package_empty")
    head = file.read(4)
    file.seek(0)
    if head[:2] == b"PK":
        return _read_zip(file, size)
    if head[:1] == b"\x30":
        if size > PROFILE_MAX_BYTES:
            raise _profile_error()
        return _identity_from_profile(file.read(PROFILE_MAX_BYTES), identifier=None)
    raise _error(
        _(
            "This file is not an app package: upload the signed .apk (Android), or the .ipa "
            "or its embedded.mobileprovision (iOS)."
        ),
        "package_kind",
    )


# Zip archives ------------------------------------------------------------------------------

_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"


@dataclass(frozen=True)
class _ZipLayout:
    central_directory_offset: int
    central_directory_size: int
    entries: int
    zip64: bool


def _not_a_zip() -> ValidationError:
    return _error(
        _(
            "The package is damaged or not a zip archive (an .apk or .ipa is one): export or "
            "download it again and upload it whole."
        ),
        "package_zip",
    )


def _zip_layout(file: BinaryIO, size: int) -> _ZipLayout:
    """Where the central directory is, from the end of central directory record (APPNOTE
    4.3.16) and, for a ZIP64 archive, its locator and record (4.3.14, 4.3.15)."""
    tail_size = min(size, 22 + 0xFFFF)
    file.seek(size - tail_size)
    tail = file.read(tail_size)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise _not_a_zip()
    entries, cd_size, cd_offset = struct.unpack_from("<HII", tail, at + 10)
    zip64 = False
    locator_at = at - 20
    if locator_at >= 0 and tail[locator_at : locator_at + 4] == _ZIP64_LOCATOR:
        zip64 = True
        (record_offset,) = struct.unpack_from("<Q", tail, locator_at + 8)
        if record_offset + 56 > size:
            raise _not_a_zip()
        file.seek(record_offset)
        record = file.read(56)
        if record[:4] != _ZIP64_EOCD:
            raise _not_a_zip()
        entries, cd_size, cd_offset = struct.unpack_from("<QQQ", record, 32)
    if cd_offset + cd_size > size:
        raise _not_a_zip()
    if entries > ZIP_MAX_ENTRIES or cd_size > CENTRAL_DIRECTORY_MAX_BYTES:
        raise _error(
            _("The package lists more files than any app holds: it cannot be read."),
            "package_entries",
        )
    return _ZipLayout(cd_offset, cd_size, entries, zip64)


def _read_entry(archive: zipfile.ZipFile, name: str, limit: int, too_large: ValidationError):
    """The bytes of entry ``name``, decompressed no further than ``limit``: the size the
    archive declares is not trusted (a zip bomb declares a small one)."""
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise too_large
    try:
        with archive.open(info) as entry:
            data = entry.read(limit + 1)
    # Encrypted entries raise RuntimeError, names that are not UTF-8 a ValueError.
    except (
        zipfile.BadZipFile,
        zlib.error,
        NotImplementedError,
        EOFError,
        OSError,
        ValueError,
        RuntimeError,
    ) as exc:
        raise _not_a_zip() from exc
    if len(data) > limit:
        raise too_large
    return data


def _read_zip(file: BinaryIO, size: int) -> PackageIdentity:
    layout = _zip_layout(file, size)
    try:
        archive = zipfile.ZipFile(file)
        names = set(archive.namelist())
    except (
        zipfile.BadZipFile,
        zlib.error,
        NotImplementedError,
        EOFError,
        OSError,
        ValueError,
    ) as exc:
        raise _not_a_zip() from exc
    # Closing the archive leaves the upload open: it belongs to the caller.
    with archive:
        if "AndroidManifest.xml" in names:
            return _read_apk(file, archive, names, layout)
        if any(_IPA_APP.match(name) for name in names):
            return _read_ipa(archive, names)
    if _is_harmonyos(names):
        raise _error(
            _(
                "HarmonyOS packages are not read here: type the bundle name, the public key and "
                "the MD5 fingerprint of the release certificate (AppGallery Connect, "
                "certificates)."
            ),
            "harmonyos_package",
        )
    raise _error(
        _(
            "This archive is not an app package: an .apk holds AndroidManifest.xml, an .ipa a "
            "Payload folder with the app."
        ),
        "package_kind",
    )


def _is_harmonyos(names: set[str]) -> bool:
    """A HarmonyOS module (``.hap``: ``module.json``, or ``config.json`` beside
    ``resources.index`` in the older FA model) or app bundle (``.app``: ``pack.info`` and its
    ``.hap`` files)."""
    return bool(
        {"module.json", "pack.info"} & names
        or {"config.json", "resources.index"} <= names
        or any(name.endswith(".hap") for name in names)
    )


# Android ----------------------------------------------------------------------------------

_SIGNING_BLOCK_MAGIC = b"APK Sig Block 42"
# APK Signing Block pair IDs, newest scheme first (source.android.com, APK Signature Scheme
# v2, v3 and v3.1).
_SIGNATURE_SCHEMES = (
    (0x1B93AD61, "v3.1"),
    (0xF05368C0, "v3"),
    (0x7109871A, "v2"),
)
_JAR_SIGNATURE = re.compile(r"^META-INF/[^/]+\.(RSA|DSA|EC)$")
# Chunk types and header sizes of compiled XML (frameworks/base, ResourceTypes.h): the file
# (RES_XML_TYPE), its string pool (RES_STRING_POOL_TYPE) and resource map
# (RES_XML_RESOURCE_MAP_TYPE).
_XML_CHUNK = (0x0003, 8)
_STRING_POOL_CHUNK = (0x0001, 28)
_RESOURCE_MAP_CHUNK = (0x0180, 8)


def _read_apk(file, archive, names, layout: _ZipLayout) -> PackageIdentity:
    if layout.zip64:
        raise _error(
            _(
                "This .apk is a ZIP64 archive, which Android does not install: upload the .apk "
                "as the build makes it."
            ),
            "apk_zip64",
        )
    manifest = _read_entry(
        archive,
        "AndroidManifest.xml",
        MANIFEST_MAX_BYTES,
        _error(
            _(
                "The package's AndroidManifest.xml is larger than any real manifest: it cannot "
                "be read."
            ),
            "apk_manifest_too_large",
        ),
    )
    package = _manifest_package(manifest)
    certificates, source = _apk_signer(file, archive, names, layout)
    return _identity(ANDROID, package, certificates, source, _signature_unreadable())


def _manifest_unreadable() -> ValidationError:
    return _error(
        _("The package's AndroidManifest.xml is damaged and cannot be read."),
        "apk_manifest_unreadable",
    )


def _chunk(manifest: bytes, at: int, kind: tuple[int, int]) -> int:
    """The size of the chunk of ``kind`` (type, header size) at ``at``; ``ValidationError``
    when another or a truncated one is there."""
    if at + 8 > len(manifest):
        raise _manifest_unreadable()
    chunk_type, header_size, size = struct.unpack_from("<HHI", manifest, at)
    if (chunk_type, header_size) != kind or size < header_size or at + size > len(manifest):
        raise _manifest_unreadable()
    return size


def _manifest_package(manifest: bytes) -> str:
    """The ``package`` attribute of a compiled manifest's ``<manifest>`` element.

    The file, its string pool and its resource map are checked to follow one another as
    every build tool writes them before apkInspector decodes the elements: its decoder looks
    for the resource map byte by byte and would not stop on a manifest without one."""
    if manifest[:4] != struct.pack("<HH", *_XML_CHUNK):
        raise _error(
            _(
                "The package's AndroidManifest.xml is not the compiled (binary) manifest a "
                "build makes: upload the .apk the build signed."
            ),
            "apk_manifest_not_binary",
        )
    _chunk(manifest, 0, _XML_CHUNK)
    string_pool = _chunk(manifest, 8, _STRING_POOL_CHUNK)
    _chunk(manifest, 8 + string_pool, _RESOURCE_MAP_CHUNK)
    # The <manifest> element comes right after the namespace declarations; the decoder
    # merges the attributes of the first elements, and only <manifest> has a "package".
    try:
        attributes = get_manifest_lite(io.BytesIO(manifest), MANIFEST_ELEMENTS)
    # Whatever a third-party decoder of untrusted bytes may raise is a damaged manifest.
    except Exception as exc:
        raise _manifest_unreadable() from exc
    package = attributes.get("package")
    if not isinstance(package, str) or not package:
        raise _error(
            _("The package's AndroidManifest.xml names no package."), "apk_manifest_no_package"
        )
    return package


def _signature_unreadable() -> ValidationError:
    return _error(
        _("The package's signature is damaged and cannot be read: sign the .apk again."),
        "apk_signature_unreadable",
    )


def _prefixed(buffer: bytes, at: int) -> tuple[bytes, int]:
    """A uint32-length-prefixed value of an APK Signing Block and the position after it."""
    if at + 4 > len(buffer):
        raise _signature_unreadable()
    (length,) = struct.unpack_from("<I", buffer, at)
    end = at + 4 + length
    if end > len(buffer):
        raise _signature_unreadable()
    return buffer[at + 4 : end], end


def _signing_block(file, layout: _ZipLayout) -> dict[int, bytes]:
    """The ID-value pairs of the APK Signing Block, which sits right before the central
    directory, or an empty dict when there is none."""
    offset = layout.central_directory_offset
    if offset < 32:
        return {}
    file.seek(offset - 24)
    footer = file.read(24)
    if footer[8:] != _SIGNING_BLOCK_MAGIC:
        return {}
    (block_size,) = struct.unpack_from("<Q", footer, 0)
    if block_size > SIGNING_BLOCK_MAX_BYTES or block_size < 24 or block_size + 8 > offset:
        raise _signature_unreadable()
    file.seek(offset - block_size - 8)
    block = file.read(block_size + 8)
    if len(block) != block_size + 8 or struct.unpack_from("<Q", block, 0)[0] != block_size:
        raise _signature_unreadable()
    pairs: dict[int, bytes] = {}
    at, end = 8, len(block) - 24
    while at < end:
        if at + 12 > end:
            raise _signature_unreadable()
        (length,) = struct.unpack_from("<Q", block, at)
        if length < 4 or at + 8 + length > end:
            raise _signature_unreadable()
        (pair_id,) = struct.unpack_from("<I", block, at + 8)
        pairs.setdefault(pair_id, block[at + 12 : at + 8 + length])
        at += 8 + length
    return pairs


def _scheme_certificate(value: bytes) -> bytes:
    """The first signer's certificate (DER) of a v2, v3 or v3.1 block: signers → signer →
    signed data → (digests, certificates) → the first certificate, the signer's own."""
    signers, _end = _prefixed(value, 0)
    signer, _end = _prefixed(signers, 0)
    signed_data, _end = _prefixed(signer, 0)
    _digests, at = _prefixed(signed_data, 0)
    certificates, _end = _prefixed(signed_data, at)
    certificate, _end = _prefixed(certificates, 0)
    return certificate


def _load_certificate(der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except (ValueError, x509.InvalidVersion) as exc:
        raise _signature_unreadable() from exc


def _leaf(certificates: list[x509.Certificate]) -> x509.Certificate:
    """Of a JAR signature's certificates, the one that issued none of the others."""
    issuers = {c.issuer for c in certificates if c.issuer != c.subject}
    leaves = [c for c in certificates if c.subject not in issuers]
    return (leaves or certificates)[0]


def _apk_signer(file, archive, names, layout) -> tuple[list[x509.Certificate], str]:
    pairs = _signing_block(file, layout)
    for pair_id, scheme in _SIGNATURE_SCHEMES:
        if pair_id in pairs:
            return [_load_certificate(_scheme_certificate(pairs[pair_id]))], scheme
    blocks = sorted(name for name in names if _JAR_SIGNATURE.match(name))
    for name in blocks[:JAR_SIGNATURE_MAX_FILES]:
        data = _read_entry(archive, name, JAR_SIGNATURE_MAX_BYTES, _signature_unreadable())
        try:
            certificates = pkcs7.load_der_pkcs7_certificates(data)
        except (ValueError, x509.InvalidVersion, UnsupportedAlgorithm) as exc:
            raise _signature_unreadable() from exc
        if certificates:
            return [_leaf(certificates)], "v1"
    raise _error(
        _(
            "The package is not signed: upload the .apk signed with the release key (the one "
            "the app stores have), not the unsigned build."
        ),
        "apk_unsigned",
    )


# iOS --------------------------------------------------------------------------------------

_IPA_APP = re.compile(r"^Payload/[^/]+\.app/")
_IPA_PROFILE = re.compile(r"^Payload/[^/]+\.app/embedded\.mobileprovision$")
_IPA_INFO = re.compile(r"^Payload/[^/]+\.app/Info\.plist$")


def _read_ipa(archive, names) -> PackageIdentity:
    profiles = sorted(name for name in names if _IPA_PROFILE.match(name))
    if not profiles:
        raise _error(
            _(
                "This .ipa holds no embedded.mobileprovision: upload the .ipa as Xcode exports "
                "it, or the provisioning profile alone."
            ),
            "ipa_no_profile",
        )
    profile_name = profiles[0]
    info_name = profile_name.rsplit("/", 1)[0] + "/Info.plist"
    identifier = None
    if info_name in names:
        info = _read_entry(
            archive,
            info_name,
            INFO_PLIST_MAX_BYTES,
            _error(_("The app's Info.plist is too large to be read."), "ipa_info_too_large"),
        )
        identifier = _bundle_identifier(info)
    profile = _read_entry(archive, profile_name, PROFILE_MAX_BYTES, _profile_error())
    return _identity_from_profile(profile, identifier=identifier)


def _load_plist(data: bytes):
    """The property list in ``data`` (XML or binary), or None when it is not one."""
    try:
        return plistlib.loads(data)
    # Whatever plistlib raises on untrusted bytes (expat errors, bad dates, bad offsets, …)
    # means the same: not a readable property list.
    except Exception:
        return None


def _bundle_identifier(info: bytes) -> str | None:
    plist = _load_plist(info)
    if not isinstance(plist, dict):
        raise _error(
            _("The app's Info.plist is damaged and cannot be read."), "ipa_info_unreadable"
        )
    identifier = plist.get("CFBundleIdentifier")
    return identifier if isinstance(identifier, str) and identifier else None


def _profile_error() -> ValidationError:
    return _error(
        _(
            "This is not a provisioning profile (embedded.mobileprovision, as Xcode puts in the "
            "app or the Apple Developer site lets you download) or it is damaged."
        ),
        "profile_unreadable",
    )


class _Malformed(Exception):
    pass


def _tlv(data: bytes, at: int, depth: int) -> tuple[int, int, int, int]:
    """``(tag, content start, content end, next position)`` of the BER element at ``at``
    (X.690 §8.1), definite or indefinite length."""
    if depth > BER_MAX_DEPTH or at + 2 > len(data):
        raise _Malformed
    tag = data[at]
    if tag & 0x1F == 0x1F:
        raise _Malformed
    first = data[at + 1]
    start = at + 2
    if first == 0x80:
        if not tag & 0x20:
            raise _Malformed
        cursor = start
        while data[cursor : cursor + 2] != b"\x00\x00":
            cursor = _tlv(data, cursor, depth + 1)[3]
        return tag, start, cursor, cursor + 2
    if first & 0x80:
        count = first & 0x7F
        if count > 4 or start + count > len(data):
            raise _Malformed
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    else:
        length = first
    end = start + length
    if end > len(data):
        raise _Malformed
    return tag, start, end, end


def _children(data: bytes, start: int, end: int, depth: int):
    at = start
    while at < end:
        element = _tlv(data, at, depth + 1)
        yield element
        at = element[3]


def _octets(data: bytes, element, depth: int) -> bytes:
    """The content of an OCTET STRING, primitive or cut into pieces (X.690 §8.7)."""
    tag, start, end, _next = element
    if tag == 0x04:
        return data[start:end]
    if tag == 0x24:
        return b"".join(
            _octets(data, child, depth + 1) for child in _children(data, start, end, depth)
        )
    raise _Malformed


# 1.2.840.113549.1.7.2, signedData (RFC 5652 §5.1), as its OBJECT IDENTIFIER's content.
_SIGNED_DATA = bytes.fromhex("2a864886f70d010702")


def _profile_plist(data: bytes) -> dict:
    """The property list a provisioning profile signs: ContentInfo → SignedData →
    EncapsulatedContentInfo → eContent (RFC 5652 §5)."""
    try:
        tag, start, end, _next = _tlv(data, 0, 0)
        if tag != 0x30:
            raise _Malformed
        content_type, explicit = list(_children(data, start, end, 0))[:2]
        if content_type[0] != 0x06 or data[content_type[1] : content_type[2]] != _SIGNED_DATA:
            raise _Malformed
        signed_data = next(_children(data, explicit[1], explicit[2], 1))
        encapsulated = list(_children(data, signed_data[1], signed_data[2], 2))[2]
        econtent_explicit = list(_children(data, encapsulated[1], encapsulated[2], 3))[1]
        octets = next(_children(data, econtent_explicit[1], econtent_explicit[2], 4))
        content = _octets(data, octets, 5)
    except (_Malformed, ValueError, IndexError, StopIteration, RecursionError) as exc:
        raise _profile_error() from exc
    plist = _load_plist(content)
    if not isinstance(plist, dict):
        raise _profile_error()
    return plist


def _profile_identifier(plist: dict) -> str:
    """The bundle ID a profile's App ID names (``TEAMID.com.example.app`` →
    ``com.example.app``), or ``""`` for a wildcard App ID (``TEAMID.*``)."""
    entitlements = plist.get("Entitlements")
    app_id = entitlements.get("application-identifier") if isinstance(entitlements, dict) else None
    if not isinstance(app_id, str):
        return ""
    prefixes = [
        p
        for key in ("ApplicationIdentifierPrefix", "TeamIdentifier")
        for p in (plist.get(key) or [])
        if isinstance(p, str)
    ]
    prefix = next((p for p in prefixes if app_id.startswith(p + ".")), None)
    bundle_id = app_id[len(prefix) + 1 :] if prefix else app_id.partition(".")[2]
    return "" if not bundle_id or bundle_id.endswith("*") else bundle_id


def _identity_from_profile(data: bytes, *, identifier: str | None) -> PackageIdentity:
    plist = _profile_plist(data)
    ders = plist.get("DeveloperCertificates")
    if not isinstance(ders, list) or not ders:
        raise _error(
            _(
                "The provisioning profile names no developer certificate: download it again "
                "from the Apple Developer site."
            ),
            "profile_no_certificates",
        )
    damaged = _error(
        _("A developer certificate in the provisioning profile is damaged."),
        "profile_certificate_unreadable",
    )
    certificates = []
    for der in ders:
        if not isinstance(der, bytes):
            raise damaged
        try:
            certificates.append(x509.load_der_x509_certificate(der))
        except (ValueError, x509.InvalidVersion) as exc:
            raise damaged from exc
    if identifier is None:
        identifier = _profile_identifier(plist)
    return _identity(IOS, identifier, certificates, "profile", damaged)


def _identity(platform, identifier, certificates, source, damaged) -> PackageIdentity:
    """The identity of ``certificates`` (the signer's first); ``damaged`` is raised when one
    of them parses but its key or name does not (``cryptography`` reads them lazily)."""
    algorithm = FINGERPRINT_ALGORITHMS[platform]
    try:
        signing = tuple(
            SigningCertificate(
                fingerprint=certificate_fingerprint(c, algorithm),
                public_key=certificate_public_key(c),
                subject=c.subject.rfc4514_string(),
            )
            for c in certificates
        )
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise damaged from exc
    return PackageIdentity(
        platform=platform,
        identifier=identifier,
        public_key=signing[0].public_key,
        fingerprint=signing[0].fingerprint,
        certificates=signing,
        source=source,
    )


# Checking what was typed ------------------------------------------------------------------

_PLATFORM_NAMES = {ANDROID: "Android", IOS: "iOS", HARMONYOS: "HarmonyOS"}
_PLATFORM_FILES = {
    ANDROID: gettext_noop("the signed .apk"),
    IOS: gettext_noop("the .ipa or its embedded.mobileprovision"),
}


def _key_ends(public_key: str) -> str:
    return f"{public_key[:8]}…{public_key[-8:]}"


def package_mismatches(
    identity: PackageIdentity,
    *,
    platform: str,
    identifier: str = "",
    public_key: str = "",
    fingerprint: str = "",
) -> dict[str, list[str]]:
    """Field errors for every typed value the package contradicts, all at once, keyed like the
    SPEC §13 ``platforms`` entry (``identifier``, ``public_key``, ``fingerprint``) and
    ``package`` when the package is another platform's. Values left empty are not compared
    (the package supplies them); a typed value that is not well formed gets its own message.
    An empty dict when everything typed agrees with the package."""
    if identity.platform != platform:
        found = _PLATFORM_NAMES[identity.platform]
        if platform == HARMONYOS:
            message = _(
                "This is an %(found)s package; HarmonyOS packages are not read: type the "
                "bundle name, the public key and the fingerprint."
            ) % {"found": found}
        else:
            message = _(
                "This is an %(found)s package, not an %(platform)s one: for %(platform)s, "
                "upload %(files)s."
            ) % {
                "found": found,
                "platform": _PLATFORM_NAMES[platform],
                "files": _(_PLATFORM_FILES[platform]),
            }
        return {"package": [message]}
    errors: dict[str, list[str]] = {}
    if identifier and identity.identifier:
        try:
            typed = validate_identifier(platform, identifier)
        except ValidationError as exc:
            errors["identifier"] = list(exc.messages)
        else:
            if identifier_key(platform, typed) != identifier_key(platform, identity.identifier):
                errors["identifier"] = [
                    _("The package is the app “%(package)s”, not “%(typed)s”.")
                    % {"package": identity.identifier, "typed": typed}
                ]
    if fingerprint:
        try:
            typed = normalize_fingerprint(platform, fingerprint)
        except ValidationError as exc:
            errors["fingerprint"] = list(exc.messages)
        else:
            known = [c.fingerprint for c in identity.certificates]
            if typed not in known:
                errors["fingerprint"] = [
                    _(
                        "The package is signed with the certificate whose fingerprint is "
                        "%(package)s, not %(typed)s: correct the fingerprint, or upload the "
                        "package signed with the certificate you meant."
                    )
                    % {
                        "package": ", ".join(fingerprint_display(f) for f in known),
                        "typed": fingerprint_display(typed),
                    }
                ]
    if public_key:
        try:
            typed = normalize_public_key(public_key)
        except ValidationError as exc:
            errors["public_key"] = list(exc.messages)
        else:
            known = [c.public_key for c in identity.certificates]
            if typed not in known:
                errors["public_key"] = [
                    _(
                        "This public key is not the key of the certificate the package is "
                        "signed with (that key begins and ends %(package)s): correct it, or "
                        "leave it empty to take the package's."
                    )
                    % {"package": ", ".join(_key_ends(k) for k in known)}
                ]
    return errors
