"""Accesses (接入, SPEC §12) as the record's third part: every website gets one access made from
its access provider, server location and IP addresses, and every published website that
access (and its registered provider, for gating), before those fields leave the website. Numbers,
certificates and the public query are unchanged by it."""

import django.db.models.deletion
from django.db import migrations, models

METHOD_CHOICES = [
    ("cloud", "cloud hosting"),
    ("hosting", "virtual hosting"),
    ("colocation", "server colocation"),
    ("dedicated_line", "dedicated line"),
    ("other", "other"),
]


def copy_accesses(apps, schema_editor):
    """One statement per table, whatever the number of websites: the method of an access
    filed before methods were asked is ``other``."""
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    Access = apps.get_model("filings", "Access")
    Website = apps.get_model("filings", "Website")
    Published = apps.get_model("filings", "PublishedWebsite")
    access, website, published = (
        quote(m._meta.db_table) for m in (Access, Website, Published)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {access} (website_id, filing_id, position, provider_id, method, "  # noqa: S608
            f"server_location, ips) SELECT id, filing_id, 0, access_provider_id, 'other', "
            f"server_location, ips FROM {website}"
        )
        postgres = connection.vendor == "postgresql"
        array = "jsonb_build_array" if postgres else "json_array"
        obj = "jsonb_build_object" if postgres else "json_object"
        cursor.execute(
            f"UPDATE {published} SET access_providers = {array}(access_provider_id) "  # noqa: S608
            f"WHERE access_provider_id IS NOT NULL"
        )
        # The published access is the approved one: its provider is the published row's; its
        # server location the website's (the same unless an amendment waits).
        cursor.execute(
            f"UPDATE {published} SET accesses = {array}({obj}("  # noqa: S608
            f"'provider', access_provider_id, 'method', 'other', 'server_location', "
            f"COALESCE((SELECT w.server_location FROM {website} w "
            f"WHERE w.id = {published}.website_id), '')))"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_accessprovider"),
        ("filings", "0011_application_stage_statistics"),
    ]

    operations = [
        migrations.CreateModel(
            name="Access",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveSmallIntegerField(default=0)),
                (
                    "method",
                    models.CharField(
                        choices=METHOD_CHOICES,
                        default="other",
                        max_length=16,
                        verbose_name="access method",
                    ),
                ),
                (
                    "server_location",
                    models.CharField(blank=True, max_length=8, verbose_name="server location"),
                ),
                ("ips", models.JSONField(blank=True, default=list, verbose_name="IP addresses")),
                (
                    "filing",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="accesses",
                        to="filings.filing",
                    ),
                ),
                (
                    "provider",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="accesses",
                        to="accounts.accessprovider",
                        verbose_name="access provider",
                    ),
                ),
                (
                    "website",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="accesses",
                        to="filings.website",
                    ),
                ),
            ],
            options={
                "verbose_name": "access",
                "verbose_name_plural": "accesses",
                "ordering": ["position", "id"],
            },
        ),
        migrations.AddField(
            model_name="publishedwebsite",
            name="access_providers",
            field=models.JSONField(db_default=[], default=list),
        ),
        migrations.AddField(
            model_name="publishedwebsite",
            name="accesses",
            field=models.JSONField(db_default=[], default=list),
        ),
        migrations.RunPython(copy_accesses, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="access",
            index=models.Index(fields=["provider", "filing"], name="access_provider_idx"),
        ),
        migrations.RemoveField(model_name="website", name="access_provider"),
        migrations.RemoveField(model_name="website", name="access_provider_other"),
        migrations.RemoveField(model_name="website", name="ips"),
        migrations.RemoveField(model_name="website", name="server_location"),
    ]
