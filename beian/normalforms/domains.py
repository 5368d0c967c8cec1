"""Domains and homepages: one stored form, the A-label, and one shown form, Unicode.

- RFC 3490 §3.1: U+002E FULL STOP, U+3002 IDEOGRAPHIC FULL STOP (what a Chinese input method
  types), U+FF0E FULLWIDTH FULL STOP and U+FF61 HALFWIDTH IDEOGRAPHIC FULL STOP all separate
  labels; a trailing separator is the root's, so ``example.cn。`` is ``example.cn``.
- Format characters are dropped and the text is folded by NFKC first (``ｅｘａｍｐｌｅ``).
- Each label is checked and converted by IDNA 2008 (RFC 5890–5893, the ``idna`` package)
  after the UTS #46 mapping (lower case, width): a domain is stored as lower-case A-labels
  (``xn--kpu98e64ir97a.xn--fiqs8s``) and shown to people as Unicode (``新手测试.中国``).
- The registrable domain is found with the public suffix list bundled with ``tldextract``
  (never downloaded), private suffixes included so that platform suffixes (``github.io``) are
  recognised.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

import idna

from .text import folded

# RFC 3490 §3.1 label separators besides the full stop. NFKC already turns U+FF0E into "."
# and U+FF61 into U+3002; they are listed for text that did not pass through it.
LABEL_SEPARATORS = re.compile("[\u3002\uff0e\uff61]")


def _separated(text: str) -> str:
    return LABEL_SEPARATORS.sub(".", folded(text))


@lru_cache(maxsize=65536)
def normalize_domain(value: str | None) -> str:
    """A domain as lower-case A-labels without the trailing dot; ``ValueError`` if malformed.

    Answers are remembered, because gating and the public query ask about the same domains
    again and again. ``normalize_domain("例子。中国。") == "xn--fsqu00a.xn--fiqs8s"``.
    """
    text = _separated(value or "")
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1]
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


def domain_for_lookup(value: str | None) -> str | None:
    """Like ``normalize_domain`` but tolerant of a URL, a path or a port; None when the text
    is not a domain. What the public query and access gating look up."""
    text = _separated(value or "")
    if "://" in text:
        try:
            text = urlsplit(text).hostname or ""
        except ValueError:
            return None
    text = text.split("/", 1)[0].split(":", 1)[0]
    try:
        return normalize_domain(text)
    except ValueError:
        return None


@lru_cache(maxsize=65536)
def domain_unicode(domain: str | None) -> str:
    """A stored (A-label) domain as people read it: ``xn--fiqs8s`` → ``中国``. A domain that
    does not decode is shown as stored."""
    if not domain or "xn--" not in domain:
        return domain or ""
    try:
        return idna.decode(domain)
    except (idna.IDNAError, UnicodeError):
        return domain


def url_unicode(url: str | None) -> str:
    """A homepage URL with its host shown in Unicode (the stored URL keeps the A-label)."""
    if not url or "xn--" not in url:
        return url or ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    host = parts.hostname or ""
    if "xn--" not in host:
        return url
    netloc = parts.netloc.replace(host, domain_unicode(host), 1)
    return parts._replace(netloc=netloc).geturl()


@lru_cache(maxsize=65536)
def parent_domains(domain: str) -> tuple[str, ...]:
    """The domain and every parent: ``a.b.example.cn`` → itself, ``b.example.cn``, …; empty
    for a single label."""
    labels = domain.split(".")
    return tuple(".".join(labels[i:]) for i in range(len(labels) - 1))


@lru_cache(maxsize=1)
def _extractor():
    # Imported on first use: tldextract (and the requests it brings) takes a tenth of a second.
    import tldextract

    # The snapshot bundled with the package, never a download; private suffixes included so
    # that platform suffixes such as github.io are recognised (and refused).
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


def split_domain(domain: str):
    """``tldextract``'s parts of a normalised domain: ``subdomain``, ``domain``, ``suffix``,
    ``is_private``."""
    return _extractor()(domain)


@lru_cache(maxsize=65536)
def registrable_domain(name: str) -> str | None:
    """The registrable domain that ``name`` (a normalised domain) belongs to — the only form a
    domain is filed in — or None for a bare suffix."""
    parts = split_domain(name)
    if not parts.domain or not parts.suffix:
        return None
    return f"{parts.domain}.{parts.suffix}"


def top_level_domain(domain: str) -> str:
    """The last label of a normalised domain (an A-label: ``xn--fiqs8s`` for ``中国``)."""
    return domain.rsplit(".", 1)[-1]


_SCHEME = re.compile(r"(?i)^[a-z][a-z0-9+.-]*://")
_AUTHORITY = re.compile(r"([^/?#]*)(.*)", re.DOTALL)


def homepage_url(value: str | None) -> str:
    """A typed homepage as a URL: format characters dropped, the RFC 3490 separators of the
    host made full stops, and ``http://`` put in front when no scheme was typed
    (``www.example.cn`` means ``http://www.example.cn/``)."""
    text = folded(value)
    if not text:
        return ""
    if not _SCHEME.match(text):
        text = f"http://{text}"
    scheme, _sep, rest = text.partition("://")
    host, path = _AUTHORITY.match(rest).groups()
    host = LABEL_SEPARATORS.sub(".", host)
    if host.endswith(".") and not host.endswith(".."):
        host = host[:-1]
    return f"{scheme.lower()}://{host}{path if path.startswith('/') else '/' + path}"


def homepage_key(url: str | None) -> str:
    """Homepages compare by host and path: scheme, port 80/443, case and writing of the host
    (Unicode or A-label) and a trailing slash make no difference."""
    text = homepage_url(url)
    if not text:
        return ""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text.lower()[:255]
    host = parts.hostname or ""
    try:
        host = normalize_domain(host)
    except ValueError:
        host = host.lower()
    port = port if port not in (None, 80, 443) else None
    path = parts.path.rstrip("/")
    return f"{host}{':' + str(port) if port else ''}{path}"[:255]
