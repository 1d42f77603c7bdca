"""Migration operations for what the database defines itself: who-sees-what views and
the triggers that keep derived counts exact (docs/architecture.md, rule 2).

A view's SQL is written once, in the SQL PostgreSQL and SQLite share (joins, UNION ALL,
CASE, no vendor functions), so both databases answer "who may see this row" with the
same words. A trigger's body cannot be shared (PL/pgSQL against SQLite's trigger
programs), so `VendorSQL` takes one text per vendor; both sides are tested on both
databases by the suite.

Changing a table a view reads: drop the view first and create it again after (on
PostgreSQL a view pins the types of the columns it reads; on SQLite, Django rebuilds a
table to alter it, which drops its triggers). `tests/lib/test_dbviews.py` fails when a
view or trigger this module's operations created is missing from a migrated database.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, router

# Every view and trigger the migrations create, by name, for the test that checks a
# migrated database still has them all.
VIEWS: set[str] = set()
TRIGGERS: dict[str, set[str]] = {"postgresql": set(), "sqlite": set()}


def create_view(name: str, select: str) -> migrations.RunSQL:
    """`CREATE VIEW name AS select`, dropped again when the migration is unapplied."""
    VIEWS.add(name)
    return migrations.RunSQL(
        sql=f"CREATE VIEW {name} AS {select}",
        reverse_sql=f"DROP VIEW IF EXISTS {name}",
    )


def replace_view(name: str, select: str, *, was: str) -> migrations.RunSQL:
    """The view `name` defined anew as `select` (the same columns), and as it `was`
    when the migration is unapplied. Drop and create: SQLite has no CREATE OR REPLACE."""
    VIEWS.add(name)
    return migrations.RunSQL(
        sql=[f"DROP VIEW IF EXISTS {name}", f"CREATE VIEW {name} AS {select}"],
        reverse_sql=[f"DROP VIEW IF EXISTS {name}", f"CREATE VIEW {name} AS {was}"],
    )


class VendorSQL(migrations.RunSQL):
    """SQL with one text per database vendor (`postgresql`, `sqlite`), each with its
    reverse. A vendor with no text here is refused: Nuzzle runs on those two only."""

    def __init__(
        self,
        *,
        postgresql: list[str],
        sqlite: list[str],
        reverse_postgresql: list[str],
        reverse_sqlite: list[str],
        triggers: dict[str, list[str]] | None = None,
    ) -> None:
        self.by_vendor = {"postgresql": postgresql, "sqlite": sqlite}
        self.reverse_by_vendor = {"postgresql": reverse_postgresql, "sqlite": reverse_sqlite}
        for vendor, names in (triggers or {}).items():
            TRIGGERS[vendor].update(names)
        super().__init__(sql=migrations.RunSQL.noop, reverse_sql=migrations.RunSQL.noop)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (
            self.__class__.__qualname__,
            [],
            {
                "postgresql": self.by_vendor["postgresql"],
                "sqlite": self.by_vendor["sqlite"],
                "reverse_postgresql": self.reverse_by_vendor["postgresql"],
                "reverse_sqlite": self.reverse_by_vendor["sqlite"],
            },
        )

    def _run(self, table: dict[str, list[str]], app_label: str, schema_editor: Any) -> None:
        if not router.allow_migrate(schema_editor.connection.alias, app_label, **self.hints):
            return
        vendor = schema_editor.connection.vendor
        if vendor not in table:
            raise NotImplementedError(f"no SQL for {vendor}: Nuzzle runs on PostgreSQL or SQLite")
        for statement in table[vendor]:
            schema_editor.execute(statement, params=None)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        self._run(self.by_vendor, app_label, schema_editor)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        self._run(self.reverse_by_vendor, app_label, schema_editor)

    def describe(self) -> str:
        return "Vendor SQL (PostgreSQL and SQLite)"
