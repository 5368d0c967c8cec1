"""What access providers (接入服务提供商) keep here: their staff's API tokens, webhook deliveries
and client imports. The provider organisation itself is in ``accounts.models``."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A named API token of one provider staff member; only a hash of the key is stored.

    The key is shown once, when it is created. ``last_used_at`` is refreshed at most once a
    minute so that busy gating clients do not write on every call.
    """

    PREFIX = "bp_"

    user = models.ForeignKey(
        "accounts.User",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="provider_tokens",
    )
    name = models.CharField(_("token name"), max_length=64)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the key, to tell tokens apart without revealing them.
    key_prefix = models.CharField(_("key starts with"), max_length=12, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class WebhookDelivery(models.Model):
    """One signed POST to a provider's webhook URL: a row first, sent by a task after commit."""

    class Event(models.TextChoices):
        APPROVED = "approved", _("filing approved")
        AMENDED = "amended", _("amendment approved")
        REVOKED = "revoked", _("filing revoked")
        # SPEC §12: the changes of one access or one website.
        ACCESS_ADDED = "access_added", _("access added")
        ACCESS_CANCELLED = "access_cancelled", _("access cancelled")
        WEBSITE_CANCELLED = "website_cancelled", _("website cancelled")
        SHELL_FLAGGED = "shell_flagged", _("website left without access (empty shell)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENT = "sent", _("delivered")
        FAILED = "failed", _("failed")

    provider = models.ForeignKey(
        "accounts.AccessProvider",
        verbose_name=_("access provider"),
        on_delete=models.CASCADE,
        related_name="webhook_deliveries",
    )
    filing = models.ForeignKey(
        "filings.Filing",
        verbose_name=_("filing"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    event = models.CharField(_("event"), max_length=24, choices=Event.choices)
    # The URL as it was when the event happened; retries go to the same place.
    url = models.URLField(_("webhook URL"), max_length=500)
    # The exact bytes that are signed and sent, identical on every attempt.
    body = models.BinaryField(_("body"))
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    response_status = models.PositiveSmallIntegerField(_("last answer"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    sent_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["provider", "-created_at"], name="webhook_provider_idx"),
            models.Index(
                fields=["status", "updated_at"],
                name="webhook_queued_idx",
                condition=models.Q(status="queued"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event} {self.status}"


class ImportJob(models.Model):
    """One CSV file (or API batch) of client rows, processed in chunks by a Celery task."""

    class Source(models.TextChoices):
        CSV = "csv", _("CSV file")
        API = "api", _("API")

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting")
        RUNNING = "running", _("in progress")
        DONE = "done", _("finished")
        FAILED = "failed", _("stopped by an error")

    provider = models.ForeignKey(
        "accounts.AccessProvider",
        verbose_name=_("access provider"),
        on_delete=models.CASCADE,
        related_name="import_jobs",
    )
    created_by = models.ForeignKey(
        "accounts.User", verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    exists_count = models.PositiveIntegerField(_("already imported"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    failure = models.TextField(_("failure"), blank=True)
    # Initial passwords are handed out once: after the first download they are erased.
    passwords_released_at = models.DateTimeField(_("passwords downloaded"), null=True, blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["provider", "-created_at"], name="import_provider_idx")]

    def __str__(self) -> str:
        return f"{self.provider} {self.filename or self.source} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 100


class ImportRow(models.Model):
    """The outcome of one row of an import: created, exists or error, with its errors."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        CREATED = "created", _("created")
        EXISTS = "exists", _("already imported")
        ERROR = "error", _("error")

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="results")
    index = models.PositiveIntegerField()
    line = models.PositiveIntegerField(_("line"))
    username = models.CharField(_("username"), max_length=150, blank=True)
    status = models.CharField(
        _("result"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    # The row as read from the file: {"client": {...}, "filing": {...}} (SPEC §10 shape).
    payload = models.JSONField(default=dict)
    filing = models.ForeignKey(
        "filings.Filing", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    errors = models.JSONField(default=dict, blank=True)
    # Encrypted with a key derived from SECRET_KEY; erased once the provider has downloaded it.
    initial_password_sealed = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "index"]
        indexes = [
            models.Index(
                fields=["job", "index"],
                name="import_row_pending_idx",
                condition=models.Q(status="pending"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="import_row_once"),
        ]
