"""Set-based statements with a few parameters per batch, not a few per row.

The daily-question sweep handles up to a million couples in batches of thousands.
Through the ORM, an `__in=ids` filter costs microseconds of Django's per-value
preparation for each id, and a `bulk_create` a parameter per row and column, which
PostgreSQL then parses one by one. On PostgreSQL, a column of values goes as *one*
array literal instead (`= ANY(%s::bigint[])`, `INSERT ... SELECT FROM unnest(...)`),
parsed by the server's array input. Other databases (SQLite, the embedded default)
take the ORM's way; the tests run on both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, F, Q
from django.db.models.expressions import Expression
from django.db.models.sql.compiler import SQLCompiler


def postgresql() -> bool:
    return connection.vendor == "postgresql"


class _AnyOf(Expression):
    """`column = ANY(%s::bigint[])`: the ids as one parameter (PostgreSQL)."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, column: str, ids: Sequence[int]) -> None:
        super().__init__()
        self.column: Any = F(column)  # a column once resolved
        self.literal = int_array(ids)

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.column)
        return f"{sql} = ANY(%s::bigint[])", [*params, self.literal]


def ids_in(column: str, ids: Sequence[int]) -> Q:
    """A filter `column IN ids`, for any number of ids at the cost of one parameter on
    PostgreSQL (the ORM's `__in` elsewhere). There, the ids' range comes along: it
    changes nothing in the result and shows the planner that an index range holds
    the rows (on small tables it would otherwise scan the whole table, batch after
    batch, rather than probe the index thousands of times)."""
    if postgresql() and ids:
        bounds = {f"{column}__gte": min(ids), f"{column}__lte": max(ids)}
        return Q(_AnyOf(column, ids), **bounds)
    return Q(**{f"{column}__in": ids})


def int_array(values: Iterable[int]) -> str:
    """`{1,2,3}`: integers as a PostgreSQL array literal."""
    return "{" + ",".join(map(str, values)) + "}"


def text_array(values: Iterable[str | None]) -> str:
    """A PostgreSQL array literal of strings, each quoted (NULL for None)."""
    return "{" + ",".join("NULL" if v is None else _quoted(v) for v in values) + "}"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def time_array(values: Iterable[date | datetime | None]) -> str:
    """Dates or aware instants (ISO 8601, offset included) as an array literal. A
    column repeats a few values (a batch's days and midnights): each is formatted once."""
    memo: dict[date | datetime | None, str] = {}
    parts = []
    for value in values:
        text = memo.get(value)
        if text is None:
            text = memo[value] = "NULL" if value is None else value.isoformat()
        parts.append(text)
    return "{" + ",".join(parts) + "}"
