"""Statements prepared once per PostgreSQL connection, for the hot endpoints.

A hot endpoint (docs/performance.md) reads with one statement that builds its whole
response in the database, from the who-sees-what views (docs/architecture.md, rule 2).
Planning such a statement costs PostgreSQL more than running it, so it is prepared
(`PREPARE name (types) AS ...`) once per connection and run with `EXECUTE`; the plan
stays with the connection. psycopg2, the project's driver, has no protocol-level
prepared statements, so this is SQL-level preparation:

- The first use on a connection sends `PREPARE ...; EXECUTE ...` in one round trip
  (one query, as Django counts them); later uses send `EXECUTE` alone.
- Which statements a connection has prepared is remembered per driver connection
  (weakly), so a connection that is replaced (`CONN_MAX_AGE`, an error, a health check)
  starts with none.
- If the server says a statement does not exist (a server restart behind a proxy, or
  `DISCARD ALL` from a pooler), it is prepared again and run once more, when outside a
  transaction (inside one the error has already aborted it, so it is raised).

Connection poolers: PgBouncer in *session* mode keeps one server connection per client
connection and works (set `server_reset_query` to `DISCARD ALL` only if the pool may
hand a server connection to another client: the statements are prepared again, as
above). In *transaction* or *statement* mode a client's next statement may run on
another server connection, where the statement was never prepared: use session mode,
or connect Nuzzle straight to PostgreSQL. SQLite has no such statements: callers use
the ORM path there (the same views, `Statement.available()` says which).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.utils import DatabaseError

# SQLSTATE 26000, invalid_sql_statement_name: "prepared statement ... does not exist".
_MISSING = "26000"

# driver connection → names of the statements prepared on it.
_prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Statement:
    """One statement to prepare: its name (unique in the process), the PostgreSQL
    types of its parameters ($1, $2, ... in `sql`) and its text."""

    name: str
    types: tuple[str, ...]
    sql: str

    @staticmethod
    def available(using: str = "default") -> bool:
        """Whether the database can run prepared statements (PostgreSQL)."""
        return connections[using].vendor == "postgresql"

    def _execute_sql(self) -> str:
        if not self.types:
            return f"EXECUTE {self.name}"
        return f"EXECUTE {self.name}({', '.join(['%s'] * len(self.types))})"

    def _prepare_sql(self) -> str:
        # The body's parameters are $1, $2...; psycopg2 interpolates the EXECUTE's %s on
        # the client, in the same text, so every % of the body is escaped for it.
        types = f" ({', '.join(self.types)})" if self.types else ""
        return f"PREPARE {self.name}{types} AS {self.sql.replace('%', '%%')}"

    def rows(self, params: Sequence[Any], using: str = "default") -> list[tuple[Any, ...]]:
        """Run the statement with `params` and return its rows."""
        if len(params) != len(self.types):
            raise ValueError(f"{self.name} takes {len(self.types)} parameters")
        connection = connections[using]
        with connection.cursor() as cursor:
            driver = connection.connection
            known = _prepared.setdefault(driver, set())
            if self.name in known:
                try:
                    cursor.execute(self._execute_sql(), params)
                    return list(cursor.fetchall())
                except DatabaseError as exc:  # psycopg2 calls SQLSTATE 26000 operational
                    cause = exc.__cause__
                    if getattr(cause, "pgcode", None) != _MISSING or connection.in_atomic_block:
                        raise
                    known.clear()  # the server forgot them all (restart, DISCARD ALL)
            cursor.execute(f"{self._prepare_sql()}; {self._execute_sql()}", params)
            known.add(self.name)
            return list(cursor.fetchall())

    def one(self, params: Sequence[Any], using: str = "default") -> tuple[Any, ...]:
        """Run the statement, which returns exactly one row, and return it."""
        found = self.rows(params, using)
        if len(found) != 1:
            raise ValueError(f"{self.name} returned {len(found)} rows, not one")
        return found[0]


# --- Pieces of SQL the statements share --------------------------------------------------


def iso(column: str) -> str:
    """SQL for an aware datetime's text exactly as Python's `isoformat()` writes it in
    UTC (the API's datetimes): microseconds only when there are any."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN {column} IS NULL THEN NULL "
        f"WHEN extract(microseconds FROM {utc})::bigint % 1000000 = 0 "
        f"""THEN to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"') """
        f"""ELSE to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') END"""
    )


def day(column: str) -> str:
    """SQL for a date's text as Python's `date.isoformat()` writes it."""
    return f"to_char({column}, 'YYYY-MM-DD')"


def position(column: str, values: Sequence[str]) -> str:
    """SQL for the index of `column`'s value in `values` (len(values) when absent): an
    order the product chose, not the alphabet's."""
    cases = " ".join(f"WHEN '{value}' THEN {index}" for index, value in enumerate(values))
    return f"CASE {column} {cases} ELSE {len(values)} END"
