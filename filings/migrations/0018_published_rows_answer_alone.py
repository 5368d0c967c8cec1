"""Gating and the app check read one table each: a published domain carries its website's
number and access providers, a published identifier its service's number (written by
publishing), and both their filing's status, kept by triggers.

A published row's ``filing_status`` is set from its filing when the row is inserted and
follows every change of the filing's status after that (an amendment or a revocation under
review, the revocation itself), so the database, not each code path that changes a status,
keeps the copy exact. The rows already published are filled from their services and filings.
"""

from django.db import migrations, models

POSTGRESQL = """
CREATE FUNCTION filings_published_domain_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT status INTO NEW.filing_status FROM filings_filing WHERE id = NEW.filing_id;
    RETURN NEW;
END;
$$;

CREATE TRIGGER filings_published_domain_status
    BEFORE INSERT ON filings_publisheddomain
    FOR EACH ROW EXECUTE FUNCTION filings_published_domain_status();

CREATE TRIGGER filings_published_identifier_status
    BEFORE INSERT ON filings_publishedidentifier
    FOR EACH ROW EXECUTE FUNCTION filings_published_domain_status();

CREATE FUNCTION filings_filing_status_to_domains() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE filings_publisheddomain SET filing_status = NEW.status WHERE filing_id = NEW.id;
    UPDATE filings_publishedidentifier SET filing_status = NEW.status WHERE filing_id = NEW.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER filings_filing_status_to_domains
    AFTER UPDATE OF status ON filings_filing
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION filings_filing_status_to_domains();
"""

POSTGRESQL_UNINSTALL = """
DROP TRIGGER IF EXISTS filings_filing_status_to_domains ON filings_filing;
DROP FUNCTION IF EXISTS filings_filing_status_to_domains();
DROP TRIGGER IF EXISTS filings_published_identifier_status ON filings_publishedidentifier;
DROP TRIGGER IF EXISTS filings_published_domain_status ON filings_publisheddomain;
DROP FUNCTION IF EXISTS filings_published_domain_status();
"""

SQLITE = [
    """
    CREATE TRIGGER filings_published_domain_status
    AFTER INSERT ON filings_publisheddomain
    BEGIN
        UPDATE filings_publisheddomain
        SET filing_status = (SELECT status FROM filings_filing WHERE id = NEW.filing_id)
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER filings_published_identifier_status
    AFTER INSERT ON filings_publishedidentifier
    BEGIN
        UPDATE filings_publishedidentifier
        SET filing_status = (SELECT status FROM filings_filing WHERE id = NEW.filing_id)
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER filings_filing_status_to_domains
    AFTER UPDATE OF status ON filings_filing
    WHEN OLD.status IS NOT NEW.status
    BEGIN
        UPDATE filings_publisheddomain SET filing_status = NEW.status WHERE filing_id = NEW.id;
        UPDATE filings_publishedidentifier SET filing_status = NEW.status
        WHERE filing_id = NEW.id;
    END
    """,
]

SQLITE_UNINSTALL = [
    "DROP TRIGGER IF EXISTS filings_filing_status_to_domains",
    "DROP TRIGGER IF EXISTS filings_published_identifier_status",
    "DROP TRIGGER IF EXISTS filings_published_domain_status",
]

FILL = """
UPDATE filings_publisheddomain
SET website_number = w.website_number,
    access_providers = w.access_providers,
    filing_status = f.status
FROM filings_publishedwebsite w, filings_filing f
WHERE w.id = filings_publisheddomain.website_id AND f.id = filings_publisheddomain.filing_id;
"""

FILL_IDENTIFIERS = """
UPDATE filings_publishedidentifier
SET service_number = w.website_number, filing_status = f.status
FROM filings_publishedwebsite w, filings_filing f
WHERE w.id = filings_publishedidentifier.website_id
  AND f.id = filings_publishedidentifier.filing_id;
"""


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL)
    elif vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)
    else:
        return
    schema_editor.execute(FILL)
    schema_editor.execute(FILL_IDENTIFIERS)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_UNINSTALL)
    elif vendor == "sqlite":
        for statement in SQLITE_UNINSTALL:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("filings", "0017_services_of_three_kinds"),
    ]

    operations = [
        migrations.AddField(
            model_name="publisheddomain",
            name="access_providers",
            field=models.JSONField(db_default=[], default=list),
        ),
        migrations.AddField(
            model_name="publisheddomain",
            name="filing_status",
            field=models.CharField(db_default="", default="", max_length=24),
        ),
        migrations.AddField(
            model_name="publisheddomain",
            name="website_number",
            field=models.CharField(db_default="", default="", max_length=40),
        ),
        migrations.AddField(
            model_name="publishedidentifier",
            name="filing_status",
            field=models.CharField(db_default="", default="", max_length=24),
        ),
        migrations.AddField(
            model_name="publishedidentifier",
            name="service_number",
            field=models.CharField(db_default="", default="", max_length=40),
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
