"""Trigram indexes for the is-it-filed name search (substring search over millions of rows).

Django's ``icontains`` on PostgreSQL is ``UPPER(column::text) LIKE UPPER(%s)``, so the GIN
indexes are on the same expression. Other databases (SQLite in development) search without
them.
"""

from django.db import migrations

INDEXES = {
    "public_published_sponsor_name_trgm": "sponsor_name",
    "public_published_website_name_trgm": "website_name",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON filings_publishedwebsite "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("public", "0001_initial"),
        ("filings", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
