"""Trigram indexes for the is-it-filed name search on the names' search keys.

The query searches ``sponsor_name_search`` and ``website_name_search`` (the keys of
``beian.normalforms.names``, already case-folded) with ``LIKE '%key%'``; Django writes that
as ``column::text LIKE %s``, so the GIN indexes are on the same expression. They replace the
indexes on ``UPPER(name)``, which nothing searches any more. Other databases (SQLite in
development) search without them.
"""

from django.db import migrations

OLD = {
    "public_published_sponsor_name_trgm": "sponsor_name",
    "public_published_website_name_trgm": "website_name",
}
INDEXES = {
    "public_published_sponsor_search_trgm": "sponsor_name_search",
    "public_published_website_search_trgm": "website_name_search",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name in OLD:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON filings_publishedwebsite "
            f"USING gin (({column}::text) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    for name, column in OLD.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON filings_publishedwebsite "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("public", "0002_published_trigram_indexes"),
        ("filings", "0005_normal_forms"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
