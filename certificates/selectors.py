"""Reads of the certificates app: who may download, what a file proves, the latest checks."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.cache import cache

from accounts.models import User
from filings.models import Filing

from . import format as cert_format
from .keys import public_key_of
from .models import Certificate, ComplianceCheck, SigningKey


def current_certificate(*, filing: Filing) -> Certificate | None:
    """The filing's valid certificate, with its signing key; None when it has none."""
    return (
        Certificate.objects.filter(filing=filing, status=Certificate.Status.VALID)
        .select_related("key")
        .first()
    )


def may_download(*, user: User, filing: Filing) -> bool:
    """The account that submitted the filing and, for imported clients, its access provider's
    staff (Q23, Q25). Nobody else: not another owner, not the bureau."""
    if not (user.is_authenticated and user.is_active):
        return False
    if filing.submitted_by_id is not None and filing.submitted_by_id == user.pk:
        return True
    return bool(
        user.role == User.Role.PROVIDER
        and filing.filed_by_provider_id is not None
        and user.provider_id == filing.filed_by_provider_id
    )


def downloadable_certificate(*, user: User, filing_id: int) -> Certificate:
    """The current certificate of a filing ``user`` may download; ``Certificate.DoesNotExist``
    for everything else, so callers answer 404 without revealing that the filing exists."""
    filing = Filing.objects.filter(pk=filing_id).first()
    if filing is None or not may_download(user=user, filing=filing):
        raise Certificate.DoesNotExist
    certificate = current_certificate(filing=filing)
    if certificate is None:
        raise Certificate.DoesNotExist
    return certificate


def filing_for_owner_actions(*, user: User, filing_id: int) -> Filing:
    """A filing whose certificate pages (install guide, check now) ``user`` may open; raises
    ``Filing.DoesNotExist`` for any other, whether it exists or not."""
    filing = Filing.objects.select_related("province").filter(pk=filing_id).first()
    if filing is None or not may_download(user=user, filing=filing):
        raise Filing.DoesNotExist
    return filing


def staff_may_see(*, user: User, filing: Filing) -> bool:
    """Bureau staff of the filing's province, and the ministry."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.role == User.Role.MINISTRY:
        return True
    return user.role == User.Role.BUREAU and user.province_id == filing.province_id


def filing_for_staff(*, user: User, filing_id: int) -> Filing:
    """A filing of the staff member's province (any province for the ministry); raises
    ``Filing.DoesNotExist`` for any other, whether it exists or not."""
    filing = Filing.objects.select_related("province").filter(pk=filing_id).first()
    if filing is None or not staff_may_see(user=user, filing=filing):
        raise Filing.DoesNotExist
    return filing


def public_key_lookup():
    """A ``key_id -> Ed25519PublicKey | None`` function over every key, retired ones
    included, reading each key once."""
    cache: dict[str, Ed25519PublicKey | None] = {}

    def lookup(key_id: str) -> Ed25519PublicKey | None:
        if key_id not in cache:
            key = SigningKey.objects.filter(key_id=key_id).first()
            cache[key_id] = public_key_of(key) if key else None
        return cache[key_id]

    return lookup


@dataclass
class Verification:
    status: str  # valid | superseded | revoked | invalid
    number: str | None = None
    domains: list[str] = field(default_factory=list)
    reason: str = ""
    certificate: Certificate | None = None
    # What a genuine file of format /3 lists besides websites (SPEC §13): ``[{"name",
    # "number", "platforms": [{"platform", "identifier"}]}]`` and ``[{"name", "number",
    # "platform", "platform_id"}]``; empty for an older format and for an invalid file.
    apps: list[dict] = field(default_factory=list)
    mini_programs: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        """The API's answer: the [contract] keys ``status``, ``number`` and ``domains``, and
        the ``apps`` and ``mini_programs`` the certificate lists."""
        return {
            "status": self.status,
            "number": self.number,
            "domains": self.domains,
            "apps": self.apps,
            "mini_programs": self.mini_programs,
        }


def verify_certificate_file(data: bytes) -> Verification:
    """What a ``bazs.cert`` (the file's bytes) proves: genuine and current, superseded,
    revoked, or not genuine (``status`` "valid", "superseded", "revoked", "invalid", with the
    number, domains, apps and mini-programs of a genuine one, as it lists them; a file of a
    format before apps lists none). Raises nothing: a damaged file is "invalid"."""
    try:
        parsed = cert_format.verify(data, public_key_lookup())
    except cert_format.NotGenuine as exc:
        return Verification(status="invalid", reason=str(exc))
    certificate = Certificate.objects.select_related("filing").filter(serial=parsed.serial).first()
    # Signed by one of our keys but unknown here, or differing from what was issued under
    # that serial: only a leaked key could produce that, so it is not genuine.
    if certificate is None or cert_format.signed_extent(
        certificate.file_bytes
    ) != cert_format.signed_extent(data):
        return Verification(status="invalid", reason="not issued by this system")
    if certificate.revoked_at is not None or certificate.status == Certificate.Status.REVOKED:
        status = "revoked"
    elif certificate.status == Certificate.Status.SUPERSEDED:
        status = "superseded"
    else:
        status = "valid"
    return Verification(
        status=status,
        number=certificate.number,
        domains=list(certificate.domains),
        certificate=certificate,
        apps=parsed.apps,
        mini_programs=parsed.mini_programs,
    )


def latest_checks(*, filing: Filing, limit: int = 200) -> list[ComplianceCheck]:
    """The most recent check of each domain of the current certificate (newest first), among
    the latest ``limit`` checks; none without a valid certificate."""
    certificate = current_certificate(filing=filing)
    if certificate is None:
        return []
    checks = ComplianceCheck.objects.filter(filing=filing, domain__in=certificate.domains).order_by(
        "-checked_at", "-id"
    )[:limit]
    seen: dict[str, ComplianceCheck] = {}
    for check in checks:
        seen.setdefault(check.domain, check)
    return list(seen.values())


PUBLIC_CHECK_SECONDS = 15 * 60


def public_check_key(check_id: str) -> str:
    """Where the public domain check ``check_id`` keeps its state in the cache."""
    return f"certificates:public-check:{check_id}"


def public_domain_check(check_id: str) -> dict | None:
    """The public domain check ``check_id``: ``{"state": "pending"|"done", "domain", and when
    done "answer", "certificate" (or None), "detail"}``; None when unknown or expired."""
    found = cache.get(public_check_key(check_id))
    if not isinstance(found, dict):
        return None
    if found.get("state") == "done":
        found["certificate"] = (
            Certificate.objects.filter(pk=found["certificate_id"]).first()
            if found.get("certificate_id")
            else None
        )
    return found
