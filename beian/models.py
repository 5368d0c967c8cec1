"""Project-wide reference data and the message delivery log."""

import uuid

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .normalforms.domains import domain_unicode


class Province(models.Model):
    """One of the 31 mainland provinces, and its communications administration (通信管理局)."""

    code = models.CharField(_("GB/T 2260 code"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=32)
    name_en = models.CharField(_("English name"), max_length=64)
    abbr = models.CharField(
        _("abbreviation"),
        max_length=1,
        unique=True,
        help_text=_("The one-character abbreviation used in filing numbers, e.g. 京."),
    )
    bureau_name = models.CharField(_("bureau"), max_length=64)
    bureau_phone = models.CharField(_("bureau contact phone"), max_length=64, blank=True)
    bureau_email = models.EmailField(_("bureau contact email"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def name_in(self, language: str | None) -> str:
        """The province's name in ``language`` (English, else Chinese)."""
        return self.name_en if _is_english(language) else self.name

    def bureau_in(self, language: str | None) -> str:
        """The bureau's name in ``language``: its English name is the province's and
        "Communications Administration", as the bureaus name themselves in English."""
        if _is_english(language):
            return f"{self.name_en} Communications Administration"
        return self.bureau_name

    @property
    def display_name(self) -> str:
        """The province's name in the language of the page being made."""
        return self.name_in(get_language())

    @property
    def display_bureau(self) -> str:
        return self.bureau_in(get_language())


def _is_english(language: str | None) -> bool:
    return bool(language) and language.lower().startswith("en")


class CalendarDay(models.Model):
    """A day that breaks the Monday-to-Friday rule.

    A holiday on a weekday is stored as ``is_workday=False``; an adjusted working day on a
    weekend (调休) as ``is_workday=True``. Days not stored follow the weekday rule, so a year
    nobody has entered yet counts weekends only.
    """

    class Source(models.TextChoices):
        PACKAGE = "package", _("chinesecalendar package")
        MANUAL = "manual", _("entered by the ministry")

    date = models.DateField(_("date"), primary_key=True)
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(_("holiday"), max_length=64, blank=True)
    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.MANUAL
    )

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self) -> str:
        kind = _("working day") if self.is_workday else _("holiday")
        return f"{self.date} {kind} {self.name}".strip()

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        bump_calendar_version()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        bump_calendar_version()
        return result

    def clean(self) -> None:
        """Only days that break the Monday-to-Friday rule are stored (as the year list)."""
        super().clean()
        if self.date is None or self.is_workday is None:
            return
        weekend = self.date.weekday() >= 5
        if self.is_workday and not weekend:
            raise ValidationError(
                {
                    "is_workday": _("%(date)s is a weekday: it is a working day anyway.")
                    % {"date": self.date}
                }
            )
        if not self.is_workday and weekend:
            raise ValidationError(
                {
                    "is_workday": _("%(date)s is a Saturday or Sunday: it is a day off anyway.")
                    % {"date": self.date}
                }
            )


CALENDAR_VERSION_KEY = "calendar:version"


def bump_calendar_version() -> None:
    """Tell every process that its in-memory copy of the calendar is stale."""
    cache.set(CALENDAR_VERSION_KEY, uuid.uuid4().hex, timeout=None)


class Message(models.Model):
    """One email or SMS: the delivery log and, in development, the outbox."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("email")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    to = models.CharField(_("recipient"), max_length=254, db_index=True)
    template = models.CharField(_("template"), max_length=100)
    language = models.CharField(_("language"), max_length=16)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("body"))
    html_body = models.TextField(_("HTML body"), blank=True)
    # Small files only (a certificate is a few kilobytes): [{filename, mimetype, content_b64}].
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # Sent to the SMS gateway so that a message retried after a lost answer is delivered once.
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("message")
        verbose_name_plural = _("delivery log")
        indexes = [
            models.Index(
                fields=["status", "updated_at"],
                name="message_queued_idx",
                condition=models.Q(status="queued"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.to}: {self.subject or self.template}"


class AuditLog(models.Model):
    """Who did what to which object, with the state before and after (every staff action)."""

    actor = models.ForeignKey(
        "accounts.User",
        verbose_name=_("actor"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("object type"), max_length=64)
    target_id = models.CharField(_("object id"), max_length=64)
    # The province the object belongs to, so that each bureau sees its own trail.
    province = models.ForeignKey(
        Province, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            # The statistics: review decisions per week, read from the index alone.
            models.Index(
                fields=["created_at"],
                include=["province", "action"],
                name="audit_decision_idx",
                condition=models.Q(
                    action__in=[
                        "filing.approve",
                        "filing.approve_amendment",
                        "filing.reject",
                        "filing.reject_amendment",
                        "revocation.approve",
                        "revocation.refuse",
                        "filing.revoke",
                    ]
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action}"


class TopLevelDomain(models.Model):
    """A top-level domain the ministry approved for filing (reference data, SPEC §3).

    Only domains under these can be filed; the ministry keeps the list in the admin, as it
    keeps the holiday calendar. Stored as the lower-case A-label (``xn--fiqs8s``), shown in
    Unicode (``中国``).
    """

    name = models.CharField(
        _("top-level domain"),
        max_length=63,
        primary_key=True,
        help_text=_("Without the dot, e.g. cn, com or 中国."),
    )
    source = models.CharField(_("source"), max_length=255, blank=True)
    listed_on = models.DateField(_("as of"), help_text=_("The date of the list it comes from."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("approved top-level domain")
        verbose_name_plural = _("approved top-level domains")

    def __str__(self) -> str:
        return f".{domain_unicode(self.name)}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        bump_top_level_domains_version()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        bump_top_level_domains_version()
        return result


TOP_LEVEL_DOMAINS_VERSION_KEY = "tlds:version"


def bump_top_level_domains_version() -> None:
    """Tell every process that its in-memory copy of the approved top-level domains is stale."""
    cache.set(TOP_LEVEL_DOMAINS_VERSION_KEY, uuid.uuid4().hex, timeout=None)


class RateCounter(models.Model):
    """A window of a rate limit, kept on the database while Redis is away (``beian.limits``):
    its count and when the window closes. Rows are locked in key order while counted."""

    key = models.CharField(max_length=300, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("rate-limit counter")
        verbose_name_plural = _("rate-limit counters")

    def __str__(self) -> str:
        return f"{self.key} = {self.count}"
