"""Applications (SPEC §12): one change to a filing record on its way to a decision."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_accessprovider"),
        ("filings", "0007_access_provider_in_accounts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Application",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("new", "new filing"),
                            ("amendment", "amendment"),
                            ("revocation", "revocation"),
                            ("new_access", "new access"),
                            ("cancel_access", "access cancellation"),
                            ("cancel_website", "website cancellation"),
                        ],
                        max_length=16,
                        verbose_name="kind",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending_review", "pending review"),
                            ("amendment_pending", "amendment pending review"),
                            ("revocation_pending", "revocation pending review"),
                        ],
                        max_length=24,
                        verbose_name="status",
                    ),
                ),
                ("submitted_at", models.DateTimeField(verbose_name="submitted")),
                ("reached_bureau_at", models.DateTimeField(blank=True, null=True)),
                ("verification_expires_at", models.DateTimeField(blank=True, null=True)),
                ("returns", models.JSONField(blank=True, default=list)),
                ("closed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "outcome",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("approved", "approved"),
                            ("rejected", "rejected"),
                            ("withdrawn", "withdrawn"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "filing",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="applications",
                        to="filings.filing",
                    ),
                ),
                (
                    "provider",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="applications",
                        to="accounts.accessprovider",
                        verbose_name="access provider",
                    ),
                ),
                (
                    "submitted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="submitted by",
                    ),
                ),
            ],
            options={
                "verbose_name": "application",
                "verbose_name_plural": "applications",
                "indexes": [
                    models.Index(
                        condition=models.Q(("closed_at__isnull", True)),
                        fields=["provider", "status", "submitted_at", "id"],
                        name="application_provider_idx",
                    ),
                    models.Index(
                        condition=models.Q(("closed_at__isnull", True)),
                        fields=["status", "submitted_at", "id"],
                        name="application_open_status_idx",
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("closed_at__isnull", True)),
                        fields=("filing",),
                        name="application_one_open_per_filing",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("closed_at__isnull", True), ("outcome", "")),
                            models.Q(
                                ("closed_at__isnull", False),
                                models.Q(("outcome", ""), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="application_outcome_when_closed",
                    ),
                ],
            },
        ),
    ]
