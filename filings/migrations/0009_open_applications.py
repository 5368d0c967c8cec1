"""Every filing waiting for the bureau gets its open application (SPEC §12).

``pending_review`` opens a ``new`` application, ``amendment_pending`` an ``amendment``,
``revocation_pending`` a ``revocation``; each has reached the bureau when it was submitted.
A submission's time and author are the filing's; an application for revocation's are those of
its ``filing.revocation_apply`` audit row (the filing keeps no time of its own for it). The
provider is the registered provider of the filing's first website that names one.

One ``INSERT … SELECT`` per range of filing ids, each committed on its own, so millions of
filings never hold one long transaction; a filing that already has an open application is
skipped, so running it again after an interruption finishes the work.
"""

from django.db import migrations

BATCH_IDS = 50_000
WAITING = ("pending_review", "amendment_pending", "revocation_pending")


def _tables(apps) -> dict[str, str]:
    tables = {
        "application": apps.get_model("filings", "Application")._meta.db_table,
        "filing": apps.get_model("filings", "Filing")._meta.db_table,
        "website": apps.get_model("filings", "Website")._meta.db_table,
        "audit": apps.get_model("beian", "AuditLog")._meta.db_table,
    }
    # Run on a schema where accesses have a table of their own (filings 0012), the provider
    # is that of the filing's first access naming one.
    website = apps.get_model("filings", "Website")
    if not any(f.name == "access_provider" for f in website._meta.get_fields()):
        tables["access"] = apps.get_model("filings", "Access")._meta.db_table
    return tables


def _insert_sql(t: dict[str, str]) -> str:
    revocation_row = (
        f"SELECT {{column}} FROM {t['audit']} l WHERE l.action = 'filing.revocation_apply' "
        f"AND l.target_type = 'filings.filing' AND l.target_id = CAST(f.id AS VARCHAR(20)) "
        f"ORDER BY l.created_at DESC, l.id DESC LIMIT 1"
    )
    submitted_at = (
        "CASE WHEN f.status = 'revocation_pending' "
        f"THEN COALESCE(({revocation_row.format(column='l.created_at')}), f.updated_at) "
        "ELSE COALESCE(f.submitted_at, f.updated_at) END"
    )
    submitted_by = (
        "CASE WHEN f.status = 'revocation_pending' "
        f"THEN ({revocation_row.format(column='l.actor_id')}) "
        "ELSE f.submitted_by_id END"
    )
    first_provider = (
        f"(SELECT w.access_provider_id FROM {t['website']} w WHERE w.filing_id = f.id "
        "AND w.access_provider_id IS NOT NULL ORDER BY w.position, w.id LIMIT 1)"
    )
    if "access" in t:
        first_provider = (
            f"(SELECT a.provider_id FROM {t['access']} a JOIN {t['website']} w "
            "ON w.id = a.website_id WHERE a.filing_id = f.id AND a.provider_id IS NOT NULL "
            "ORDER BY w.position, w.id, a.position, a.id LIMIT 1)"
        )
    provider = (
        f"CASE WHEN f.status = 'revocation_pending' THEN NULL ELSE {first_provider} END"
    )
    return (
        f"INSERT INTO {t['application']} (filing_id, kind, status, provider_id, submitted_at, "
        "submitted_by_id, reached_bureau_at, verification_expires_at, returns, closed_at, "
        "outcome, decided_by_id) "
        "SELECT f.id, CASE f.status WHEN 'pending_review' THEN 'new' "
        "WHEN 'amendment_pending' THEN 'amendment' ELSE 'revocation' END, "
        f"f.status, {provider}, {submitted_at}, {submitted_by}, {submitted_at}, "
        "NULL, '[]', NULL, '', NULL "
        f"FROM {t['filing']} f "
        "WHERE f.status IN (%s, %s, %s) AND f.id >= %s AND f.id < %s "
        f"AND NOT EXISTS (SELECT 1 FROM {t['application']} a "
        "WHERE a.filing_id = f.id AND a.closed_at IS NULL)"
    )


def open_applications(apps, schema_editor) -> None:
    """Open the application of every filing waiting for the bureau, one id range at a time."""
    tables = _tables(apps)
    sql = _insert_sql(tables)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MIN(id), MAX(id) FROM {tables['filing']} WHERE status IN (%s, %s, %s)",
            WAITING,
        )
        low, high = cursor.fetchone()
        if low is None:
            return
        for start in range(low, high + 1, BATCH_IDS):
            with schema_editor.connection.cursor() as batch:
                batch.execute(sql, [*WAITING, start, start + BATCH_IDS])


def remove_applications(apps, schema_editor) -> None:
    """Back to filings without applications: the table is empty before this migration."""
    apps.get_model("filings", "Application").objects.all().delete()


class Migration(migrations.Migration):
    # Each batch commits on its own (see above).
    atomic = False

    dependencies = [
        ("beian", "0006_rate_counter"),
        ("filings", "0008_application"),
    ]

    operations = [
        migrations.RunPython(open_applications, remove_applications, elidable=True),
    ]
