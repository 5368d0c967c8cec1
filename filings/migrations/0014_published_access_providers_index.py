"""A GIN index on the published websites' access providers (SPEC §12).

A provider's console lists its accesses in force from the published copy
(``access_providers @> '[id]'``): with millions of published websites, the containment test
must read an index, not every row. ``jsonb_path_ops`` answers ``@>`` and is the smaller of
PostgreSQL's two GIN operator classes for jsonb. Other databases (SQLite in development) list
without it.
"""

from django.db import migrations

NAME = "published_access_providers_gin"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {NAME} ON filings_publishedwebsite "
        "USING gin (access_providers jsonb_path_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("filings", "0013_application_changes")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
