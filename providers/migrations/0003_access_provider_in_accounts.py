"""The access provider organisation now lives in accounts; imports and webhook deliveries
point at it there, and its table (``providers_accessprovider``) stays where it is."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_accessprovider"),
        ("filings", "0007_access_provider_in_accounts"),
        ("providers", "0002_tokens_webhooks_imports"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="importjob",
                    name="provider",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="import_jobs", to="accounts.accessprovider", verbose_name="access provider"),
                ),
                migrations.AlterField(
                    model_name="webhookdelivery",
                    name="provider",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="webhook_deliveries", to="accounts.accessprovider", verbose_name="access provider"),
                ),
                migrations.DeleteModel(name="AccessProvider"),
            ],
            database_operations=[],
        ),
    ]
