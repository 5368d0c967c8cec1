"""Moving the test database along the migration graph, for the tests of data migrations."""

from __future__ import annotations

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets: list[tuple[str, str]]) -> Apps:
    """Migrate the test database to ``targets`` ([(app, migration name)]), forwards or
    backwards; answers the historical models at that state."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def migrate_to_latest() -> Apps:
    """Migrate the test database forward to the newest migration of every app, as the rest
    of the suite (run in the same database afterwards) expects it."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return migrate(executor.loader.graph.leaf_nodes())
