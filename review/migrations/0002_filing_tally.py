"""The filing tally behind the statistics page, kept by triggers on filings_filing.

A submitted filing (any status but draft) counts once under (province, status, review
deadline if open). Each trigger appends -1 for the key a filing leaves and +1 for the key it
enters; ``review.tally`` explains the design and folds the rows. The tally starts from the
filings already there. PostgreSQL only: elsewhere (SQLite in development) the statistics count
the filings directly and the table stays empty.
"""

import django.db.models.deletion
from django.db import migrations, models

# Filing.OPEN_STATUSES when this migration was written.
OPEN = "'pending_review', 'amendment_pending', 'revocation_pending'"

INSTALL = f"""
CREATE FUNCTION review_filing_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_deadline date;
    new_deadline date;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_deadline := CASE WHEN OLD.status IN ({OPEN}) THEN OLD.review_deadline END;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_deadline := CASE WHEN NEW.status IN ({OPEN}) THEN NEW.review_deadline END;
    END IF;
    IF TG_OP = 'UPDATE'
       AND OLD.status = NEW.status
       AND OLD.province_id IS NOT DISTINCT FROM NEW.province_id
       AND old_deadline IS NOT DISTINCT FROM new_deadline THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.status <> 'draft' THEN
        INSERT INTO review_filingtally (province_id, status, review_deadline, delta)
        VALUES (OLD.province_id, OLD.status, old_deadline, -1);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status <> 'draft' THEN
        INSERT INTO review_filingtally (province_id, status, review_deadline, delta)
        VALUES (NEW.province_id, NEW.status, new_deadline, 1);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER review_filing_tally_insert
    AFTER INSERT ON filings_filing
    FOR EACH ROW WHEN (NEW.status <> 'draft')
    EXECUTE FUNCTION review_filing_tally();

CREATE TRIGGER review_filing_tally_update
    AFTER UPDATE OF status, province_id, review_deadline ON filings_filing
    FOR EACH ROW WHEN (
        OLD.status IS DISTINCT FROM NEW.status
        OR OLD.province_id IS DISTINCT FROM NEW.province_id
        OR OLD.review_deadline IS DISTINCT FROM NEW.review_deadline
    )
    EXECUTE FUNCTION review_filing_tally();

CREATE TRIGGER review_filing_tally_delete
    AFTER DELETE ON filings_filing
    FOR EACH ROW WHEN (OLD.status <> 'draft')
    EXECUTE FUNCTION review_filing_tally();

INSERT INTO review_filingtally (province_id, status, review_deadline, delta)
SELECT province_id, status, CASE WHEN status IN ({OPEN}) THEN review_deadline END, COUNT(*)
FROM filings_filing
WHERE status <> 'draft'
GROUP BY 1, 2, 3;
"""

UNINSTALL = """
DROP TRIGGER IF EXISTS review_filing_tally_insert ON filings_filing;
DROP TRIGGER IF EXISTS review_filing_tally_update ON filings_filing;
DROP TRIGGER IF EXISTS review_filing_tally_delete ON filings_filing;
DROP FUNCTION IF EXISTS review_filing_tally();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNINSTALL)


class Migration(migrations.Migration):
    dependencies = [
        ("beian", "0003_audit_log"),
        ("filings", "0003_filing_decided_index"),
        ("review", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="FilingTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("status", models.CharField(max_length=24)),
                ("review_deadline", models.DateField(null=True)),
                ("delta", models.IntegerField()),
                (
                    "province",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="beian.province",
                    ),
                ),
            ],
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
