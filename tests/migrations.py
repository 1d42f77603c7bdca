"""Moving the test database across one migration, for tests of data migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(app: str, name_end: str, *, before: bool) -> Apps:
    """Migrate to just before `app`'s migration whose name ends with `name_end`
    (`before`) or to the latest state, and return the models as they are there. Found
    by its name's end: numbers change when branches meet."""
    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    ours = next(key for key in graph.nodes if key[0] == app and key[1].endswith(name_end))
    if before:
        targets = [node.key for node in graph.node_map[ours].parents if node.key[0] == app]
    else:
        targets = graph.leaf_nodes()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@contextmanager
def just_before(app: str, name_end: str) -> Iterator[Apps]:
    """The models just before that migration; the latest schema again afterwards,
    whatever happened (the next tests need it)."""
    try:
        yield migrate(app, name_end, before=True)
    finally:
        migrate(app, name_end, before=False)
