"""Filings and websites point at the access provider in its new home, accounts."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_accessprovider"),
        ("filings", "0006_name_keys_ips_and_certificate_search"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="filing",
                    name="filed_by_provider",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="client_filings", to="accounts.accessprovider", verbose_name="filed by access provider"),
                ),
                migrations.AlterField(
                    model_name="publishedwebsite",
                    name="access_provider",
                    field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="accounts.accessprovider"),
                ),
                migrations.AlterField(
                    model_name="website",
                    name="access_provider",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="websites", to="accounts.accessprovider", verbose_name="access provider"),
                ),
            ],
            database_operations=[],
        ),
    ]
