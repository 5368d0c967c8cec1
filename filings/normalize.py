"""Normal forms used to compare filings: domains, homepages and sponsor names."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from urllib.parse import urlsplit

import idna


@lru_cache(maxsize=65536)
def normalize_domain(value: str) -> str:
    """A domain as a lower-case A-label without a trailing dot; ValueError when malformed.

    The IDNA library checks every character of every label: answers are remembered, because
    gating and the public query ask about the same domains again and again.

    Accepts Unicode (IDN) and full-width input: ``例子。中国`` becomes ``xn--fsqu00a.xn--fiqs8s``.
    """
    text = unicodedata.normalize("NFKC", value or "").strip().rstrip(".").replace("。", ".")
    if not text:
        raise ValueError("empty domain")
    try:
        labels = [idna.encode(label, uts46=True).decode("ascii") for label in text.split(".")]
    except idna.IDNAError as exc:
        raise ValueError(str(exc)) from exc
    domain = ".".join(labels).lower()
    if len(domain) > 253 or any(not label or len(label) > 63 for label in labels):
        raise ValueError("bad length")
    return domain


def domain_for_lookup(value: str) -> str | None:
    """Like ``normalize_domain`` but tolerant of a URL or a port; None when not a domain."""
    text = (value or "").strip()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    text = text.split("/", 1)[0].split(":", 1)[0]
    try:
        return normalize_domain(text)
    except ValueError:
        return None


def parent_domains(domain: str) -> list[str]:
    """The domain and every parent: ``a.b.example.cn`` → itself, ``b.example.cn``, …"""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def homepage_key(url: str) -> str:
    """Homepages compare by host and path: scheme, port 80/443, case of the host and a
    trailing slash make no difference."""
    text = unicodedata.normalize("NFKC", url or "").strip()
    if not text:
        return ""
    parts = urlsplit(text if "://" in text else f"http://{text}")
    host = parts.hostname or ""
    try:
        host = normalize_domain(host)
    except ValueError:
        host = host.lower()
    port = parts.port if parts.port not in (None, 80, 443) else None
    path = parts.path.rstrip("/")
    return f"{host}{':' + str(port) if port else ''}{path}"[:255]


def sponsor_name_key(name: str) -> str:
    """Trimmed, full-width to half-width (NFKC), inner white space folded, Latin case-folded."""
    text = unicodedata.normalize("NFKC", name or "")
    return " ".join(text.split()).casefold()[:128]
