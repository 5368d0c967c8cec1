"""Deadline tracking records (SPEC §4): what beat has already sent, so it never sends twice."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeadlineDigest(models.Model):
    """The daily digest of items due soon, sent once per province and day."""

    province = models.ForeignKey(
        "beian.Province", verbose_name=_("province"), on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField(_("date"))
    due_count = models.PositiveIntegerField(_("items due within 5 working days"), default=0)
    overdue_count = models.PositiveIntegerField(_("overdue items"), default=0)
    recipients = models.PositiveSmallIntegerField(_("recipients"), default=0)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        ordering = ["-date", "province"]
        verbose_name = _("deadline digest")
        verbose_name_plural = _("deadline digests")
        constraints = [
            models.UniqueConstraint(fields=["province", "date"], name="deadline_digest_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.province_id}"


class Escalation(models.Model):
    """An overdue item reported to the ministry, once per review deadline.

    A new submission restarts the deadline (Q1), so the same filing can be escalated again
    when it misses its next deadline.
    """

    filing = models.ForeignKey(
        "filings.Filing",
        verbose_name=_("filing"),
        on_delete=models.CASCADE,
        related_name="escalations",
    )
    province = models.ForeignKey(
        "beian.Province", verbose_name=_("province"), on_delete=models.PROTECT, related_name="+"
    )
    review_deadline = models.DateField(_("review deadline"))
    escalated_at = models.DateTimeField(_("escalated"), auto_now_add=True, db_index=True)
    # Set once the ministry's email listing it is queued.
    notified_at = models.DateTimeField(_("ministry notified"), null=True, blank=True)

    class Meta:
        ordering = ["-escalated_at", "-id"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        constraints = [
            models.UniqueConstraint(
                fields=["filing", "review_deadline"], name="escalation_once_per_deadline"
            ),
        ]
        indexes = [
            models.Index(fields=["province", "escalated_at"], name="escalation_province_idx"),
            models.Index(
                fields=["escalated_at"],
                name="escalation_unnotified_idx",
                condition=models.Q(notified_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filing_id} {self.review_deadline}"


class FilingTally(models.Model):
    """Signed changes to the number of submitted filings per province, status and, for open
    items, review deadline; the count of a key is the sum of its rows (see ``review.tally``).

    Only the PostgreSQL triggers on ``filings_filing`` and ``review.tally`` write here.
    """

    # No constraint and no index: rows are only appended, and reads scan the small table.
    province = models.ForeignKey(
        "beian.Province",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    status = models.CharField(max_length=24)
    # Set for open statuses only, so that other statuses fold into one row per province.
    review_deadline = models.DateField(null=True)
    delta = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.province_id} {self.status} {self.review_deadline or ''} {self.delta:+d}"
