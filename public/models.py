"""Public services: the bulletin board (Q5) and the annual review (Q9).

The is-it-filed query (Q20) has no model of its own: it reads the published copy of approved
filings (``filings.PublishedWebsite`` and ``PublishedDomain``), which holds only public fields.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Announcement(models.Model):
    """A notice on the bulletin board (公告栏), kept by the ministry in the admin."""

    title = models.CharField(_("title"), max_length=200)
    # Plain text: paragraphs are separated by blank lines, nothing is rendered as HTML.
    body = models.TextField(_("text"))
    publish_at = models.DateTimeField(
        _("publish at"),
        default=timezone.now,
        help_text=_("The announcement is visible from this time on."),
    )
    pinned = models.BooleanField(
        _("pinned"), default=False, help_text=_("Pinned announcements are listed first.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-pinned", "-publish_at", "-id"]
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        indexes = [
            models.Index(fields=["-pinned", "-publish_at", "-id"], name="announcement_board_idx")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.publish_at <= timezone.now()


class AnnualReviewWindow(models.Model):
    """The ministry's window for one year; years without a row use the default in settings."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    starts_on = models.DateField(_("opens on"))
    ends_on = models.DateField(_("closes on"), help_text=_("The last day owners may confirm."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("annual review window")
        verbose_name_plural = _("annual review windows")

    def __str__(self) -> str:
        return f"{self.year}: {self.starts_on} – {self.ends_on}"

    def clean(self) -> None:
        errors = {}
        if self.year and self.starts_on and self.starts_on.year != self.year:
            errors["starts_on"] = _("The window must open within the year %(year)s.") % {
                "year": self.year
            }
        if self.year and self.ends_on and self.ends_on.year != self.year:
            errors["ends_on"] = _("The window must close within the year %(year)s.") % {
                "year": self.year
            }
        if self.starts_on and self.ends_on and self.ends_on <= self.starts_on:
            errors.setdefault("ends_on", _("The window must close after the day it opens."))
        if errors:
            raise ValidationError(errors)


class AnnualReview(models.Model):
    """One approved filing's annual review (年度审核) for one year.

    The row is created when the year's window opens. The owner confirms that the record is
    current (or an amendment submitted inside the window counts as that); a row still
    unconfirmed after the window is flagged overdue, and stays on its bureau's list until the
    owner confirms late or the bureau revokes the filing.
    """

    filing = models.ForeignKey(
        "filings.Filing",
        verbose_name=_("filing"),
        on_delete=models.CASCADE,
        related_name="annual_reviews",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    reminded_open_at = models.DateTimeField(_("reminded at opening"), null=True, blank=True)
    reminded_final_at = models.DateTimeField(_("reminded before closing"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # True when an amendment submitted inside the window stood for the confirmation.
    confirmed_by_amendment = models.BooleanField(_("confirmed by an amendment"), default=False)
    # Kept after a late confirmation, so the history shows that the review was late.
    overdue_flagged_at = models.DateTimeField(_("flagged overdue"), null=True, blank=True)

    class Meta:
        ordering = ["-year", "filing_id"]
        verbose_name = _("annual review")
        verbose_name_plural = _("annual reviews")
        constraints = [
            models.UniqueConstraint(fields=["filing", "year"], name="annual_review_once_a_year")
        ]
        indexes = [
            # The bureau's overdue list and the statistics.
            models.Index(
                fields=["filing"],
                name="annual_review_overdue_idx",
                condition=models.Q(confirmed_at__isnull=True, overdue_flagged_at__isnull=False),
            ),
            # The reminder and flagging sweeps: this year's unconfirmed rows.
            models.Index(
                fields=["year", "id"],
                name="annual_review_open_idx",
                condition=models.Q(confirmed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.filing}"

    @property
    def is_overdue(self) -> bool:
        return self.confirmed_at is None and self.overdue_flagged_at is not None
