"""The compliance checker (Q15): is ``bazs.cert`` installed, and is the number on the homepage?

For one approved domain it fetches ``http://{domain}/cert/bazs.cert`` and ``http://{domain}/``
(through ``certificates.fetch``, which guards against SSRF) and records a ``ComplianceCheck``.
The number's place ("bottom centre") cannot be judged reliably from HTML, so the checker asks
for what can: the filing number is the text of a link whose target is the portal.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from beian.normalforms.domains import url_unicode
from filings.models import Filing, PublishedDomain

from . import format as cert_format
from .fetch import FetchError, fetch
from .models import Certificate, ComplianceCheck
from .selectors import (
    PUBLIC_CHECK_SECONDS,
    current_certificate,
    public_check_key,
    verify_certificate_file,
)

Reason = ComplianceCheck.Reason


def cert_url(domain: str) -> str:
    return f"http://{domain}/cert/bazs.cert"


def homepage_url(domain: str) -> str:
    return f"http://{domain}/"


def check_certificate_file(*, domain: str, certificate: Certificate) -> tuple[str, str]:
    """``(reason, detail)`` for the file served at the domain's certificate address."""
    try:
        result = fetch(cert_url(domain), max_bytes=settings.COMPLIANCE_MAX_CERT_BYTES)
    except FetchError as exc:
        return exc.reason, exc.detail
    if result.status != 200:
        return Reason.CERT_MISSING, _("%(url)s answered HTTP %(status)s.") % {
            "url": url_unicode(cert_url(domain)),
            "status": result.status,
        }
    if cert_format.signed_extent(result.body) == cert_format.signed_extent(certificate.file_bytes):
        return Reason.OK, ""
    verification = verify_certificate_file(result.body)
    if verification.status == "invalid":
        return Reason.CERT_NOT_GENUINE, _("The file is not a genuine certificate.")
    return Reason.CERT_STALE, _(
        "The file is certificate %(serial)s (%(status)s); the current one is %(current)s."
    ) % {
        "serial": verification.certificate.serial,
        "status": verification.status,
        "current": certificate.serial,
    }


class _LinkCollector(HTMLParser):
    """The text of every ``<a href>`` of a page, and the page's whole text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self.text: list[str] = []
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open.append((dict(attrs).get("href") or "", []))

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            href, parts = self._open.pop()
            self.links.append((href, "".join(parts)))

    def handle_data(self, data):
        self.text.append(data)
        for _href, parts in self._open:
            parts.append(data)


def _decode(body: bytes, content_type: str) -> str:
    charset = ""
    if "charset=" in content_type.lower():
        charset = content_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'")
    for encoding in (charset, "utf-8", "gb18030"):
        if not encoding:
            continue
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")


def _portal_hosts() -> set[str]:
    return {(urlsplit(settings.PORTAL_URL).hostname or "").lower()}


def _squash(text: str) -> str:
    return "".join(text.split())


def check_homepage(*, domain: str, number: str) -> tuple[str, str]:
    """``(reason, detail)`` for the homepage: the filing number, linked to the portal."""
    try:
        result = fetch(homepage_url(domain), max_bytes=settings.COMPLIANCE_MAX_PAGE_BYTES)
    except FetchError as exc:
        return exc.reason, exc.detail
    if result.status != 200:
        return Reason.UNREACHABLE, _("%(url)s answered HTTP %(status)s.") % {
            "url": url_unicode(homepage_url(domain)),
            "status": result.status,
        }
    parser = _LinkCollector()
    parser.feed(_decode(result.body, result.content_type))
    parser.close()
    wanted = _squash(number)
    if wanted not in _squash("".join(parser.text)):
        return Reason.FOOTER_MISSING, _("The homepage does not show %(number)s.") % {
            "number": number
        }
    portal_hosts = _portal_hosts()
    for href, text in parser.links:
        host = (urlsplit(href.strip()).hostname or "").lower()
        if wanted in _squash(text) and host in portal_hosts:
            return Reason.OK, ""
    return Reason.FOOTER_NOT_LINKED, _(
        "The homepage shows %(number)s, but not as a link to %(portal)s."
    ) % {"number": number, "portal": settings.PORTAL_URL}


def run_check(*, filing: Filing, domain: str, trigger: str) -> ComplianceCheck | None:
    """Check one domain of ``filing`` and record the result; None when it has no certificate
    any more (revoked or amended away since the check was queued)."""
    certificate = current_certificate(filing=filing)
    if certificate is None or domain not in certificate.domains:
        return None
    # The detail is read later by the owner or the bureau in their own language: it is made
    # in English, the message ids, and translated when shown (beian.coded).
    with translation.override("en"):
        reason, detail = check_certificate_file(domain=domain, certificate=certificate)
        if reason == Reason.OK:
            reason, detail = check_homepage(domain=domain, number=certificate.number)
    return ComplianceCheck.objects.create(
        filing=filing,
        certificate=certificate,
        domain=domain,
        checked_at=timezone.now(),
        ok=reason == Reason.OK,
        reason=reason,
        detail=detail[:2000],
        trigger=trigger,
    )


def domain_certificate_status(*, domain: str) -> tuple[str, Certificate | None, str]:
    """For the public domain check: ``(answer, certificate, detail)``.

    ``answer`` is ``"valid"`` when ``http://{domain}/cert/bazs.cert`` holds the current
    certificate of the filing that covers the domain, ``"not_filed"`` when no valid filing
    covers it, and otherwise a ComplianceCheck.Reason value saying what is wrong.
    """
    row = (
        PublishedDomain.objects.filter(Filing.filed_q("filing__"), name=domain)
        .select_related("filing")
        .first()
    )
    certificate = current_certificate(filing=row.filing) if row else None
    if certificate is None:
        return "not_filed", None, ""
    reason, detail = check_certificate_file(domain=domain, certificate=certificate)
    return ("valid" if reason == Reason.OK else reason), certificate, detail


def public_domain_check_record(*, check_id: str, domain: str) -> None:
    """Run the check (``domain_certificate_status``, the SSRF-guarded fetch with
    its socket deadlines) and keep its answer for the page for ``PUBLIC_CHECK_SECONDS``."""
    # Made in English (the message ids) and read in the visitor's language (beian.coded).
    with translation.override("en"):
        answer, certificate, detail = domain_certificate_status(domain=domain)
    cache.set(
        public_check_key(check_id),
        {
            "state": "done",
            "domain": domain,
            "answer": answer,
            "certificate_id": certificate.pk if certificate else None,
            "detail": detail,
        },
        timeout=PUBLIC_CHECK_SECONDS,
    )
