"""Electronic filing certificates (电子证书, SPEC §5): signing keys, issued certificates and the
results of the compliance checker."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SigningKey(models.Model):
    """An Ed25519 key pair; only the public half is stored here.

    The private key lives outside the database (a file or a secret, see ``certificates.keys``).
    A retired key signs nothing new but keeps verifying what it signed.
    """

    key_id = models.CharField(_("key id"), max_length=40, unique=True)
    algorithm = models.CharField(_("algorithm"), max_length=16, default="Ed25519")
    # The raw 32-byte public key, base64.
    public_key = models.CharField(_("public key"), max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    is_active = models.BooleanField(_("signs new certificates"), default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True),
                name="one_active_signing_key",
            ),
        ]

    def __str__(self) -> str:
        return self.key_id


class Certificate(models.Model):
    """One issued ``bazs.cert``; ``content`` is the file exactly as it was signed."""

    class Status(models.TextChoices):
        VALID = "valid", _("valid")
        SUPERSEDED = "superseded", _("superseded")
        REVOKED = "revoked", _("revoked")

    filing = models.ForeignKey(
        "filings.Filing", on_delete=models.CASCADE, related_name="certificates"
    )
    serial = models.CharField(_("serial"), max_length=40, unique=True)
    key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="certificates")
    number = models.CharField(_("filing number"), max_length=32)
    domains = models.JSONField(_("domains"), default=list)
    content = models.TextField(_("certificate file"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.VALID
    )
    issued_at = models.DateTimeField(_("issued"))
    superseded_at = models.DateTimeField(_("superseded"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        constraints = [
            models.UniqueConstraint(
                fields=["filing"],
                condition=models.Q(status="valid"),
                name="one_valid_certificate_per_filing",
            ),
        ]
        indexes = [models.Index(fields=["filing", "status"], name="certificate_filing_idx")]

    def __str__(self) -> str:
        return f"{self.number} {self.serial}"

    @property
    def file_bytes(self) -> bytes:
        return self.content.encode("utf-8")


class ComplianceCheck(models.Model):
    """One visit of the checker to one domain: is the certificate installed and the number shown
    and linked on the homepage (Q15)?"""

    class Reason(models.TextChoices):
        OK = "ok", _("certificate installed and filing number shown")
        CERT_MISSING = "cert_missing", _("bazs.cert is not reachable at /cert/bazs.cert")
        CERT_NOT_GENUINE = "cert_not_genuine", _("the file at /cert/bazs.cert is not genuine")
        CERT_STALE = "cert_stale", _("the file at /cert/bazs.cert is not the current certificate")
        FOOTER_MISSING = "footer_missing", _("the homepage does not show the filing number")
        FOOTER_NOT_LINKED = (
            "footer_not_linked",
            _("the filing number on the homepage is not linked to the portal"),
        )
        UNREACHABLE = "unreachable", _("the website could not be reached")
        REFUSED = "refused", _("the website points to an address the checker may not visit")
        TOO_LARGE = "too_large", _("the response was larger than the checker reads")

    class Trigger(models.TextChoices):
        PERIODIC = "periodic", _("periodic")
        OWNER = "owner", _("requested by the owner")
        STAFF = "staff", _("requested by the bureau")

    filing = models.ForeignKey(
        "filings.Filing", on_delete=models.CASCADE, related_name="compliance_checks"
    )
    certificate = models.ForeignKey(
        Certificate, null=True, on_delete=models.SET_NULL, related_name="compliance_checks"
    )
    domain = models.CharField(_("domain"), max_length=253)
    checked_at = models.DateTimeField(_("checked"), db_index=True)
    ok = models.BooleanField(_("passed"))
    reason = models.CharField(_("result"), max_length=24, choices=Reason.choices)
    detail = models.TextField(_("detail"), blank=True)
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices)

    class Meta:
        ordering = ["-checked_at", "-id"]
        verbose_name = _("compliance check")
        verbose_name_plural = _("compliance checks")
        indexes = [
            models.Index(fields=["filing", "-checked_at"], name="compliance_filing_idx"),
            models.Index(fields=["domain", "-checked_at"], name="compliance_domain_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.domain} {self.checked_at:%Y-%m-%d %H:%M} {self.reason}"
