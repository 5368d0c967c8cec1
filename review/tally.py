"""The running count of submitted filings behind the statistics page (PostgreSQL only).

Counting 600,000 filings by province and status on every request is too slow, so triggers on
``filings_filing`` (review migration 0002) append a signed row to ``FilingTally`` for every
change that moves a submitted filing between keys: -1 for its old (province, status, open
deadline), +1 for its new one. A key's count is the sum of its rows, written in the same
transaction as the change, so the page is exact the moment the change commits, and concurrent
submissions in one province append rows instead of queueing on one counter row.

``compact`` (beat, every few minutes) folds each key's rows into one; ``rebuild`` recomputes
every key from the filings. Each is a single statement, so a reader sees the rows either
before or after it, and both hold an advisory lock so that they never run at the same time.
Other databases (SQLite in development) have no triggers: the selectors count the filings.
"""

from __future__ import annotations

from django.db import connection, transaction

from filings.models import Filing

# pg_advisory_xact_lock key shared by compact and rebuild ("tally" in ASCII).
LOCK_KEY = 0x74616C6C79

OPEN_STATUSES_SQL = ", ".join(f"'{status}'" for status in Filing.OPEN_STATUSES)

# Keys with more than one row, or whose rows cancel out, are replaced by their sum.
COMPACT_SQL = """
WITH folded AS (
    DELETE FROM review_filingtally
    WHERE id IN (
        SELECT id FROM (
            SELECT id, COUNT(*) OVER key AS key_rows, SUM(delta) OVER key AS key_total
            FROM review_filingtally
            WINDOW key AS (PARTITION BY province_id, status, review_deadline)
        ) AS tally
        WHERE key_rows > 1 OR key_total = 0
    )
    RETURNING province_id, status, review_deadline, delta
)
INSERT INTO review_filingtally (province_id, status, review_deadline, delta)
SELECT province_id, status, review_deadline, SUM(delta)
FROM folded
GROUP BY province_id, status, review_deadline
HAVING SUM(delta) <> 0
"""

REBUILD_SQL = f"""
WITH cleared AS (DELETE FROM review_filingtally)
INSERT INTO review_filingtally (province_id, status, review_deadline, delta)
SELECT province_id, status,
       CASE WHEN status IN ({OPEN_STATUSES_SQL}) THEN review_deadline END,
       COUNT(*)
FROM filings_filing
WHERE status <> 'draft'
GROUP BY 1, 2, 3
"""  # noqa: S608 (the statuses are the model's constants)


def enabled() -> bool:
    """Whether the triggers keep the tally (PostgreSQL), so that reads may use it."""
    return connection.vendor == "postgresql"


def _run(sql: str) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        cursor.execute(sql)
        return cursor.rowcount


def compact() -> int:
    """Fold the rows of each key into one; the sums do not change. Returns rows written."""
    if not enabled():
        return 0
    return _run(COMPACT_SQL)


def rebuild() -> int:
    """Recompute the tally from the filings (after a bulk load, or to repair it)."""
    if not enabled():
        return 0
    return _run(REBUILD_SQL)
