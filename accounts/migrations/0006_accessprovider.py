"""The access provider organisation belongs to accounts (SPEC §1, §6); its table stays."""

import django.db.models.deletion
from django.db import migrations, models


def _move_content_type(apps, schema_editor, *, source: str, target: str) -> None:
    # The content type keeps its id, so permissions and admin history stay attached to it.
    content_types = apps.get_model("contenttypes", "ContentType").objects.using(
        schema_editor.connection.alias
    )
    if not content_types.filter(app_label=target, model="accessprovider").exists():
        content_types.filter(app_label=source, model="accessprovider").update(app_label=target)


def content_type_to_accounts(apps, schema_editor):
    _move_content_type(apps, schema_editor, source="providers", target="accounts")


def content_type_to_providers(apps, schema_editor):
    _move_content_type(apps, schema_editor, source="accounts", target="providers")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_contacts_unique_among_live_accounts"),
        ("beian", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("providers", "0002_tokens_webhooks_imports"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AccessProvider",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=128, unique=True, verbose_name="name")),
                        ("licence_number", models.CharField(max_length=64, unique=True, verbose_name="licence number")),
                        ("contact_name", models.CharField(blank=True, max_length=64, verbose_name="contact person")),
                        ("email", models.EmailField(max_length=254, verbose_name="contact email")),
                        ("phone", models.CharField(max_length=32, verbose_name="contact phone")),
                        ("webhook_url", models.URLField(blank=True, verbose_name="webhook URL")),
                        ("webhook_secret", models.CharField(blank=True, max_length=128, verbose_name="webhook secret")),
                        ("is_active", models.BooleanField(default=True, verbose_name="active")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                        ("provinces", models.ManyToManyField(blank=True, to="beian.province", verbose_name="provinces served")),
                    ],
                    options={
                        "verbose_name": "access provider",
                        "verbose_name_plural": "access providers",
                        "db_table": "providers_accessprovider",
                        "ordering": ["name"],
                    },
                ),
                migrations.AlterField(
                    model_name="user",
                    name="imported_by",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="imported_accounts", to="accounts.accessprovider", verbose_name="imported by"),
                ),
                migrations.AlterField(
                    model_name="user",
                    name="provider",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="staff", to="accounts.accessprovider", verbose_name="access provider"),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_accounts, content_type_to_providers),
    ]
