"""Counting the SQL a piece of code runs, for the tests that hold a query budget.

- `capture_queries(action)` runs `action()` and returns what it ran (`.sql`, one string
  per query, in order; `len()` is the count) and what it returned (`.result`).
- `count_queries(action)` is just the count.
- `assert_num_queries(expected, action)` holds a fixed budget: exactly `expected`.
- `assert_queries_do_not_grow(measure, grow)` holds "the count does not grow with the
  data": measure, grow the data, measure again, the same count. `measure` returns the
  queries it captured, so it can do uncounted work first (a warm-up request, a fresh
  client): `lambda: capture_queries(lambda: client.get(PATH))` when it has none.

Failures list the SQL: every query for a fixed budget, the added (or missing) ones when
a count grew (or shrank)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db import connection
from django.test.utils import CaptureQueriesContext

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

# Long statements (an IN list of a thousand ids) are cut in failure messages.
SHOWN = 500


@dataclass(frozen=True)
class Queries(Generic[T_co]):
    """The queries one run of an action made, and what the action returned."""

    sql: list[str]
    result: T_co

    def __len__(self) -> int:
        return len(self.sql)


def capture_queries(action: Callable[[], T]) -> Queries[T]:
    """Run `action()` on the default database connection, capturing every query."""
    with CaptureQueriesContext(connection) as captured:
        result = action()
    return Queries([query["sql"] for query in captured.captured_queries], result)


def count_queries(action: Callable[[], object]) -> int:
    """How many queries `action()` runs."""
    return len(capture_queries(action))


def assert_num_queries(expected: int, action: Callable[[], T]) -> T:
    """`action()` runs exactly `expected` queries; returns what it returned."""
    queries = capture_queries(action)
    if len(queries) != expected:
        raise AssertionError(
            f"expected {expected} queries, ran {len(queries)}:\n{_listing(queries.sql)}"
        )
    return queries.result


def assert_queries_do_not_grow(
    measure: Callable[[], Queries[T]], grow: Callable[[], object]
) -> tuple[Queries[T], Queries[T]]:
    """`measure()`, `grow()` the data, `measure()` again: both measures ran the same
    number of queries. Returns both (what was captured, and each result)."""
    before = measure()
    grow()
    after = measure()
    if len(after) != len(before):
        raise AssertionError(_growth(before.sql, after.sql))
    return before, after


def _growth(before: list[str], after: list[str]) -> str:
    """Both counts, and the queries one run made that the other did not (told apart by
    their shape: numbers and quoted values do not count)."""
    added: list[str] = []
    missing: list[str] = []
    matcher = difflib.SequenceMatcher(
        a=[_shape(sql) for sql in before], b=[_shape(sql) for sql in after], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("delete", "replace"):
            missing.extend(before[i1:i2])
        if tag in ("insert", "replace"):
            added.extend(after[j1:j2])
    message = (
        f"the number of queries changed with the data: {len(before)} before, {len(after)} after"
    )
    if added:
        message += f"\nran after the data grew, not before:\n{_listing(added)}"
    if missing:
        message += f"\nran before the data grew, not after:\n{_listing(missing)}"
    return message


def _shape(sql: str) -> str:
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\b\d+(?:\.\d+)?\b", "?", sql)
    return re.sub(r"\?(?:\s*,\s*\?)+", "?", sql)  # IN lists of any length


def _listing(queries: list[str]) -> str:
    return "\n".join(
        f"{number:>4}. {sql if len(sql) <= SHOWN else sql[:SHOWN] + ' …'}"
        for number, sql in enumerate(queries, 1)
    )
