"""Writes of the certificates app: issue and revoke ``bazs.cert``, request compliance checks.

``certificate_issue`` and ``certificate_revoke`` run inside the review decision's transaction
(``review.services``), so a certificate exists exactly when the approval committed.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessProvider, User
from accounts.notifications import EMAIL, notify_owner
from beian import limits
from beian.audit import audit
from beian.delivery import Attachment
from beian.models import Province
from beian.queueing import enqueue
from filings.models import Access, Filing, PublishedWebsite, Website

from . import format as cert_format
from .keys import active_signing_key
from .models import Certificate, ComplianceCheck
from .selectors import (
    PUBLIC_CHECK_SECONDS,
    current_certificate,
    may_download,
    public_check_key,
    staff_may_see,
)
from .tasks import check_domain, check_public_domain

CERT_FILENAME = "bazs.cert"


class CertificateError(Exception):
    """The filing is not in a state that has a certificate."""


def portal_link(name: str, *args) -> str:
    """The absolute address (``PORTAL_URL``) of the portal's URL named ``name``, for emails
    and certificates; ``NoReverseMatch`` for an unknown name."""
    return settings.PORTAL_URL.rstrip("/") + reverse(name, args=args)


def footer_snippet(number: str) -> str:
    """The footer the owner pastes at the bottom of the homepage (Q15): an HTML ``<div>``,
    centred, with the filing ``number`` linked to the portal."""
    portal = settings.PORTAL_URL.rstrip("/") + "/"
    return (
        '<div style="text-align:center">'
        f'<a href="{portal}" target="_blank" rel="noopener">{number}</a>'
        "</div>"
    )


def _accesses(websites: list[PublishedWebsite]) -> dict[int, list[dict]]:
    """Each published website's or app's accesses as the certificate lists them (format /2
    on), by the row's id: ``[{"provider": name | None, "provider_id": id | None, "method": code,
    "server_location": code}]`` in order, the providers' names read in one query."""
    ids = {a["provider"] for w in websites for a in w.accesses if a["provider"] is not None}
    names = dict(AccessProvider.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    return {
        w.pk: [
            {
                "provider": names.get(a["provider"]),
                "provider_id": a["provider"],
                "method": a["method"],
                "server_location": a["server_location"],
            }
            for a in w.accesses
        ]
        for w in websites
    }


def _places(payload: dict) -> dict[str, str]:
    """The provinces of the payload's server locations as the file names them:
    ``{"11": "北京市 Beijing"}``."""
    served = [*payload["websites"], *payload["apps"]]
    codes = {a["server_location"] for w in served for a in w["accesses"]}
    codes.discard(Access.OTHER_LOCATION)
    if not codes:
        return {}
    return {
        code: f"{name} {name_en}"
        for code, name, name_en in Province.objects.filter(code__in=codes).values_list(
            "code", "name", "name_en"
        )
    }


def _payload(*, filing: Filing, serial: str, key_id: str, issued_at) -> dict:
    """The certificate's facts (format /3, docs/certificate-format.md) from the published copy
    of ``filing``: its websites, and apart from them its apps (platforms with their
    identifiers: no key, no fingerprint) and mini-programs (SPEC §13), each kind in the order
    published."""
    services = list(PublishedWebsite.objects.filter(filing=filing).order_by("id"))
    if not services or not filing.number:
        raise CertificateError("the filing has no approved service")
    kinds: dict[str, list[PublishedWebsite]] = {kind: [] for kind in Website.Kind.values}
    for row in services:
        kinds.setdefault(row.service_type, []).append(row)
    websites, apps = kinds[Website.Kind.WEBSITE], kinds[Website.Kind.APP]
    accesses = _accesses([*websites, *apps])
    return {
        "format": cert_format.FORMAT,
        "serial": serial,
        "key_id": key_id,
        "issued_at": timezone.localtime(issued_at).isoformat(timespec="seconds"),
        "number": filing.number,
        "sponsor": {"name": filing.sponsor_name, "nature": filing.sponsor_nature},
        "bureau": {"province": filing.province_id, "name": filing.province.bureau_name},
        "websites": [
            {
                "number": w.website_number,
                "name": w.website_name,
                "homepage": w.homepage,
                "domains": list(w.domains),
                "accesses": accesses[w.pk],
            }
            for w in websites
        ],
        "apps": [
            {
                "number": a.website_number,
                "name": a.website_name,
                "platforms": [
                    {"platform": p["platform"], "identifier": p["identifier"]}
                    for p in a.identifiers
                ],
                "accesses": accesses[a.pk],
            }
            for a in apps
        ],
        "mini_programs": [
            {
                "number": m.website_number,
                "name": m.website_name,
                "platform": m.identifiers[0]["platform"] if m.identifiers else "",
                "platform_id": m.identifiers[0]["identifier"] if m.identifiers else "",
            }
            for m in kinds[Website.Kind.MINI_PROGRAM]
        ],
        "verify_url": portal_link("certificates:verify"),
    }


@transaction.atomic
def certificate_issue(*, filing: Filing) -> Certificate:
    """Sign a certificate of the approved data, supersede the previous one, email the owner.

    Called on approval and on approval of an amendment, after ``filings.publishing.publish``.
    Raises ``CertificateError`` when the filing has no number or no published service, and
    ``keys.SigningKeyUnavailable`` when no signing key can be had.
    """
    if not filing.is_filed:
        raise CertificateError(f"a {filing.status} filing has no certificate")
    key, private_key = active_signing_key()
    now = timezone.now()
    serial = secrets.token_hex(16).upper()
    payload = _payload(filing=filing, serial=serial, key_id=key.key_id, issued_at=now)
    content = cert_format.sign(
        payload, key_id=key.key_id, private_key=private_key, places=_places(payload)
    )

    previous = list(
        Certificate.objects.select_for_update().filter(
            filing=filing, status=Certificate.Status.VALID
        )
    )
    Certificate.objects.filter(pk__in=[c.pk for c in previous]).update(
        status=Certificate.Status.SUPERSEDED, superseded_at=now
    )
    domains = [d for w in payload["websites"] for d in w["domains"]]
    certificate = Certificate.objects.create(
        filing=filing,
        serial=serial,
        key=key,
        number=filing.number,
        domains=domains,
        content=content,
        issued_at=now,
    )
    audit(
        actor=None,
        action="certificate.issue",
        target=certificate,
        before={"superseded": [c.serial for c in previous]} if previous else None,
        after={"serial": serial, "key_id": key.key_id, "number": filing.number},
        province=filing.province_id,
    )
    owner = filing.owner
    notify_owner(
        owner,
        "certificate_issued",
        {
            "username": owner.username,
            "number": filing.number,
            "sponsor_name": filing.sponsor_name,
            "websites": payload["websites"],
            "apps": payload["apps"],
            "mini_programs": payload["mini_programs"],
            "bureau_name": filing.province.bureau_in(owner.language),
            "renewed": bool(previous),
            "snippet": footer_snippet(filing.number),
            "install_url": portal_link("certificates:install", filing.pk),
            "verify_url": payload["verify_url"],
        },
        channels=[EMAIL],
        attachments=[
            Attachment(
                filename=CERT_FILENAME,
                content=certificate.file_bytes,
                mimetype="application/octet-stream",
            )
        ],
    )
    return certificate


@transaction.atomic
def certificate_revoke(*, filing: Filing) -> int:
    """Revoke every certificate of a revoked filing; verification then answers "revoked".

    Superseded certificates keep their status but get ``revoked_at`` too, so an old file still
    on a website is reported as revoked, not merely outdated. Returns how many were revoked.
    """
    now = timezone.now()
    certificates = list(
        Certificate.objects.select_for_update().filter(filing=filing, revoked_at__isnull=True)
    )
    if not certificates:
        return 0
    Certificate.objects.filter(filing=filing, status=Certificate.Status.VALID).update(
        status=Certificate.Status.REVOKED, revoked_at=now
    )
    Certificate.objects.filter(pk__in=[c.pk for c in certificates], revoked_at__isnull=True).update(
        revoked_at=now
    )
    audit(
        actor=None,
        action="certificate.revoke",
        target=filing,
        after={"revoked": [c.serial for c in certificates]},
        province=filing.province_id,
    )
    return len(certificates)


class CheckTooSoon(Exception):
    """A check of this filing was requested moments ago; ``seconds`` until the next may run."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class CheckUnavailable(Exception):
    """The task queue could not take the check; nothing was started."""


class CheckNotAllowed(Exception):
    """The requester may not see this filing; pages and the API answer 404."""


def compliance_request_check(*, filing: Filing, by: User) -> int:
    """Queue a check of every approved domain of ``filing`` on ``by``'s demand; returns how many
    domains.

    The owner side (the account that may download the certificate) and the staff of the
    filing's province (or the ministry) may ask. Requests are limited to one per filing per
    cooldown, so a button cannot be used to hammer a website. Raises ``CheckNotAllowed``
    for anyone else, ``CertificateError`` when the filing has no valid certificate,
    ``CheckTooSoon`` within ``COMPLIANCE_ON_DEMAND_COOLDOWN_SECONDS`` of the last request, and
    ``CheckUnavailable`` when the queue cannot take the checks.
    """

    if staff_may_see(user=by, filing=filing):
        trigger = ComplianceCheck.Trigger.STAFF
    elif may_download(user=by, filing=filing):
        trigger = ComplianceCheck.Trigger.OWNER
    else:
        raise CheckNotAllowed
    certificate = current_certificate(filing=filing)
    if certificate is None:
        raise CertificateError("the filing has no valid certificate")
    charge = limits.Charge("compliance-on-demand", str(filing.pk))
    try:
        limits.take(charge)
    except limits.RateLimited as exc:
        raise CheckTooSoon(exc.retry_after) from exc
    domains = list(dict.fromkeys(certificate.domains))
    # Nothing is written here, so the checks can be handed over at once; when the broker is
    # down the owner is told so (the daily run checks every domain anyway).
    if not all(enqueue(check_domain, filing.pk, domain, trigger) for domain in domains):
        limits.give_back(charge)
        raise CheckUnavailable
    return len(domains)


def public_domain_check_start(*, domain: str, address: str) -> str:
    """Start the public "is the certificate installed?" check of ``domain`` (a normalised
    domain name) on the ``checks`` queue for the client at ``address``; the check's id, whose
    answer ``selectors.public_domain_check`` reads once a worker wrote it.

    The web request never waits on the website's server. Raises ``limits.RateLimited`` past
    ``CERT_DOMAIN_CHECK_RATE`` per address, and ``CheckUnavailable`` when the queue cannot
    take the check.
    """

    limits.take(limits.Charge("cert-domain-check", address))
    check_id = secrets.token_urlsafe(16)
    cache.set(
        public_check_key(check_id),
        {"state": "pending", "domain": domain},
        timeout=PUBLIC_CHECK_SECONDS,
    )
    if not enqueue(check_public_domain, check_id, domain):
        cache.delete(public_check_key(check_id))
        raise CheckUnavailable
    return check_id
