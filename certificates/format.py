"""The ``bazs.cert`` file: a readable header, a JSON payload, and an Ed25519 signature.

Layout (UTF-8, LF line endings; docs/certificate-format.md is the reference)::

    网站备案电子证书 ICP Filing Certificate
    ...readable "名称 Name: value" lines...

    -----BEGIN BAZS PAYLOAD-----
    {JSON, keys sorted, indented by 2}
    -----END BAZS PAYLOAD-----
    -----BEGIN BAZS SIGNATURE-----
    Algorithm: Ed25519
    Key-Id: 20260301-1a2b3c4d
    Signature: <base64 of the 64-byte signature>
    -----END BAZS SIGNATURE-----

The signature covers every byte before the ``-----BEGIN BAZS SIGNATURE-----`` line: header and
payload both, so a changed character anywhere a person reads is detected. Before verifying, a
leading byte-order mark is dropped and CR LF becomes LF, so a file saved by a Windows editor or
uploaded by FTP in text mode still verifies.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from beian.normalforms.domains import domain_unicode, url_unicode

# The format new certificates are issued in; verification accepts every format ever issued:
# /1 (until accesses, SPEC §12) has no accesses, /2 lists each website's accesses, /3 also
# lists the record's apps and mini-programs (SPEC §13) apart from its websites.
FORMAT = "bazs-cert/3"
FORMATS = ("bazs-cert/1", "bazs-cert/2", "bazs-cert/3")
PAYLOAD_BEGIN = "-----BEGIN BAZS PAYLOAD-----"
PAYLOAD_END = "-----END BAZS PAYLOAD-----"
SIGNATURE_BEGIN = "-----BEGIN BAZS SIGNATURE-----"
SIGNATURE_END = "-----END BAZS SIGNATURE-----"
MAX_FILE_BYTES = 256 * 1024


class NotGenuine(Exception):
    """The file is malformed, altered, or signed by a key we do not know."""


@dataclass(frozen=True)
class ParsedCertificate:
    payload: dict[str, Any]
    key_id: str

    @property
    def format(self) -> str:
        return str(self.payload.get("format", ""))

    @property
    def serial(self) -> str:
        return str(self.payload.get("serial", ""))

    @property
    def number(self) -> str:
        return str(self.payload.get("number", ""))

    @property
    def domains(self) -> list[str]:
        return [d for w in self.payload.get("websites", []) for d in w.get("domains", [])]

    @property
    def apps(self) -> list[dict[str, Any]]:
        """The apps the file lists (format /3; none in older files): ``[{"name", "number",
        "platforms": [{"platform", "identifier"}]}]``."""
        return [
            {
                "name": str(app.get("name", "")),
                "number": str(app.get("number", "")),
                "platforms": [
                    {
                        "platform": str(p.get("platform", "")),
                        "identifier": str(p.get("identifier", "")),
                    }
                    for p in app.get("platforms", [])
                    if isinstance(p, dict)
                ],
            }
            for app in self.payload.get("apps", [])
            if isinstance(app, dict)
        ]

    @property
    def mini_programs(self) -> list[dict[str, Any]]:
        """The mini-programs the file lists (format /3; none in older files): ``[{"name",
        "number", "platform", "platform_id"}]``."""
        return [
            {
                "name": str(program.get("name", "")),
                "number": str(program.get("number", "")),
                "platform": str(program.get("platform", "")),
                "platform_id": str(program.get("platform_id", "")),
            }
            for program in self.payload.get("mini_programs", [])
            if isinstance(program, dict)
        ]


def normalize(data: bytes) -> bytes:
    """What is verified: without a leading BOM and with LF line endings."""
    return data.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")


def signed_extent(data: bytes) -> bytes:
    """The normalised file up to the end of its signature block; what follows is ignored."""
    data = normalize(data)
    end = data.find(SIGNATURE_END.encode())
    return data if end < 0 else data[: end + len(SIGNATURE_END)]


def _readable(domain: str) -> str:
    """A domain as people read it, and as stored when that differs: the payload keeps the
    A-labels (``新手测试.中国 (xn--kpu98e64ir97a.xn--fiqs8s)``)."""
    shown = domain_unicode(domain)
    return shown if shown == domain else f"{shown} ({domain})"


# The access methods (SPEC §12) as the file writes them, Chinese then English, whatever the
# language of the page that led to the issue.
ACCESS_METHODS = {
    "cloud": "云主机 cloud",
    "hosting": "虚拟主机 hosting",
    "colocation": "服务器托管 colocation",
    "dedicated_line": "专线接入 dedicated line",
    "other": "其它 other",
}
OTHER_PROVIDER = "其它 other"
OTHER_LOCATION = "中国大陆境外 outside mainland China"
NO_ACCESS = "  接入 Access: 无（空壳网站） none (an empty shell)"
# An app's platforms and a mini-program's hosts (SPEC §13) as the file writes them.
PLATFORMS = {
    "android": "Android",
    "ios": "iOS",
    "harmonyos": "鸿蒙 HarmonyOS",
    "wechat": "微信 WeChat",
    "alipay": "支付宝 Alipay",
    "baidu": "百度 Baidu",
    "douyin": "抖音 Douyin",
    "qq": "QQ",
    "other": "其它 other",
}


def _access_lines(accesses: list[dict[str, Any]], places: Mapping[str, str]) -> list[str]:
    """One line per access of a website, or the line saying it has none."""
    if not accesses:
        return [NO_ACCESS]
    lines = []
    for index, access in enumerate(accesses, start=1):
        if access["provider_id"] is None:
            provider = OTHER_PROVIDER
        else:
            provider = access["provider"] or f"#{access['provider_id']}"
        location = access["server_location"]
        place = OTHER_LOCATION if location == "other" else places.get(location, location or "—")
        method = ACCESS_METHODS.get(access["method"], access["method"])
        lines.append(f"  接入 Access {index}: {provider} · {method} · {place}")
    return lines


def render_header(payload: dict[str, Any], *, places: Mapping[str, str] | None = None) -> str:
    """The readable part of the file for ``payload``; ``places`` names the provinces of the
    accesses' server locations (GB/T 2260 code → ``"北京市 Beijing"``), a code without a name
    being written as it is."""
    places = places or {}
    lines = [
        "网站备案电子证书 ICP Filing Certificate",
        "=" * 40,
        f"备案号 Filing number: {payload['number']}",
        f"主办单位 Sponsor: {payload['sponsor']['name']}",
        f"发证机关 Issued by: {payload['bureau']['name']}",
        f"发证时间 Issued at: {payload['issued_at']}",
        f"证书序列号 Serial: {payload['serial']}",
        f"签名密钥 Key id: {payload['key_id']}",
    ]
    for index, website in enumerate(payload["websites"], start=1):
        lines += [
            "",
            f"网站 Website {index}: {website['name']}",
            f"  网站备案号 Website number: {website['number']}",
            f"  首页 Homepage: {url_unicode(website['homepage'])}",
            f"  域名 Domains: {', '.join(_readable(d) for d in website['domains'])}",
        ]
        if "accesses" in website:
            lines += _access_lines(website["accesses"], places)
    for index, app in enumerate(payload.get("apps", []), start=1):
        lines += ["", f"App {index}: {app['name']}", f"  App备案号 App number: {app['number']}"]
        lines += [
            f"  平台 Platform: {PLATFORMS.get(p['platform'], p['platform'])} · {p['identifier']}"
            for p in app["platforms"]
        ]
        lines += _access_lines(app["accesses"], places)
    for index, program in enumerate(payload.get("mini_programs", []), start=1):
        platform = PLATFORMS.get(program["platform"], program["platform"])
        lines += [
            "",
            f"小程序 Mini-program {index}: {program['name']}",
            f"  小程序备案号 Mini-program number: {program['number']}",
            f"  平台 Platform: {platform} · {program['platform_id']}",
        ]
    lines += [
        "",
        f"核验 Verify: {payload['verify_url']}",
        "安装 Install: 放在 http://域名/cert/bazs.cert / serve at http://{domain}/cert/bazs.cert",
    ]
    return "\n".join(lines)


def sign(
    payload: dict[str, Any],
    *,
    key_id: str,
    private_key: Ed25519PrivateKey,
    places: Mapping[str, str] | None = None,
) -> str:
    """The complete file text for ``payload``, signed with ``private_key``; ``places`` as for
    ``render_header``."""
    body = (
        render_header(payload, places=places)
        + "\n\n"
        + PAYLOAD_BEGIN
        + "\n"
        + json.dumps(payload, ensure_ascii=False, sort_keys=True, indent=2)
        + "\n"
        + PAYLOAD_END
        + "\n"
    )
    signature = base64.b64encode(private_key.sign(body.encode("utf-8"))).decode("ascii")
    return (
        body
        + SIGNATURE_BEGIN
        + "\nAlgorithm: Ed25519\n"
        + f"Key-Id: {key_id}\n"
        + f"Signature: {signature}\n"
        + SIGNATURE_END
        + "\n"
    )


def verify(data: bytes, public_key: Callable[[str], Ed25519PublicKey | None]) -> ParsedCertificate:
    """Check the signature of a certificate file; raise ``NotGenuine`` when it fails.

    ``public_key(key_id)`` returns the public key with that id, or None when unknown. Every
    format in ``FORMATS`` is accepted, so a file issued before the current format still verifies.
    """
    if len(data) > MAX_FILE_BYTES:
        raise NotGenuine("the file is too large to be a certificate")
    data = normalize(data)
    marker = ("\n" + SIGNATURE_BEGIN + "\n").encode()
    body, found, rest = data.partition(marker)
    if not found:
        raise NotGenuine("no signature block")
    body += b"\n"
    try:
        fields = dict(
            line.split(": ", 1)
            for line in rest.decode("ascii").split(SIGNATURE_END, 1)[0].strip().splitlines()
        )
        key_id = fields["Key-Id"].strip()
        signature = base64.b64decode(fields["Signature"].strip(), validate=True)
    except (UnicodeDecodeError, ValueError, KeyError, binascii.Error) as exc:
        raise NotGenuine("the signature block is malformed") from exc
    if fields.get("Algorithm", "").strip() != "Ed25519":
        raise NotGenuine("unsupported signature algorithm")
    key = public_key(key_id)
    if key is None:
        raise NotGenuine("signed by an unknown key")
    try:
        key.verify(signature, body)
    except InvalidSignature as exc:
        raise NotGenuine("the signature does not match the content") from exc
    try:
        text = body.decode("utf-8")
        start = text.index(PAYLOAD_BEGIN + "\n") + len(PAYLOAD_BEGIN) + 1
        end = text.index("\n" + PAYLOAD_END, start)
        payload = json.loads(text[start:end])
    except ValueError as exc:
        raise NotGenuine("the payload is malformed") from exc
    if not isinstance(payload, dict) or payload.get("format") not in FORMATS:
        raise NotGenuine("unknown certificate format")
    if payload.get("key_id") != key_id:
        raise NotGenuine("the key id of the payload and of the signature differ")
    return ParsedCertificate(payload=payload, key_id=key_id)
