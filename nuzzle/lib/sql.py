"""Set-based reads and writes with a few parameters per batch, not a few per row.

The nudge tick and the daily-question sweep handle up to a million rows a minute in
batches of thousands. Through the ORM, each batch's outbox insert carried ~13,000
parameters that Django prepared one by one (a few microseconds each) and PostgreSQL
parsed one by one, and every `__in=ids` filter cost ~4 ms of Django's per-value
preparation per 1,000 ids. On PostgreSQL this module sends each column as *one*
array literal instead (`pg_array`), parsed by the server's array input:
`INSERT ... SELECT FROM unnest(%s::bigint[], ...)`, `UPDATE ... FROM unnest(...)`,
`col IN (SELECT unnest(%s::bigint[]))` and `col = ANY(%s::bigint[])`. On other
databases (SQLite, the embedded default) the same calls go through the ORM, so both
behave alike and the tests cover both. `PipelinedWriter` overlaps a batch's writes with
the reading of the next one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, time
from types import TracebackType
from typing import Any, Generic, TypeVar

from django.db import connection, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, F, Q, Value
from django.db.models.expressions import Expression
from django.db.models.sql.compiler import SQLCompiler

_Sql = tuple[str, list[Any]]
_Batch = TypeVar("_Batch")


def postgresql() -> bool:
    return connection.vendor == "postgresql"


# --- Array literals ----------------------------------------------------------------


def pg_array(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal (`{1,"a \\"b\\"",NULL}`) for a `%s::<type>[]`
    parameter. Built with C-level joins and look-ups: each distinct value is formatted
    once (a column repeats a few kinds, statuses, dates and instants), integers
    directly; dicts and lists are written as JSON."""
    sample = next((value for value in values if value is not None), None)
    if isinstance(sample, int) and None not in values:
        return "{" + ",".join(map(str, values)) + "}"
    if isinstance(sample, dict | list):
        return _json_array(values)
    formatted = {value: _element(value) for value in set(values)}
    return "{" + ",".join(map(formatted.__getitem__, values)) + "}"


def _element(value: Any) -> str:
    # One value's array-literal text. A column holds one type, so True and 1 (one
    # key in a set) never meet.
    if value is None:
        return "NULL"
    if isinstance(value, bool | int):
        return str(value)
    # Aware datetimes only (DTZ): isoformat keeps the offset.
    text = value.isoformat() if isinstance(value, datetime | date | time) else str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _json_array(values: Sequence[Any]) -> str:
    # Eligibility contexts are small dicts of counts and flags, mostly alike: each
    # distinct one (by its items) is dumped once.
    try:
        keys = [_json_key(value) for value in values]
        distinct = dict(zip(keys, values, strict=True))
    except TypeError:  # unhashable items: dump each
        return "{" + ",".join(map(_json_element, values)) + "}"
    lookup = {key: _json_element(value) for key, value in distinct.items()}
    return "{" + ",".join(map(lookup.__getitem__, keys)) + "}"


def _json_key(value: Any) -> Any:
    return value if value is None else (type(value), tuple(_items(value)))


def _items(value: dict[str, Any] | list[Any]) -> Any:
    return value.items() if isinstance(value, dict) else value


def _json_element(value: Any) -> str:
    return _element(None if value is None else json.dumps(value))


# --- Reads -------------------------------------------------------------------------


class IdIn(Expression):
    """`filter(IdIn("user_id", ids))`: the column is one of `ids`, sent as one array
    parameter on PostgreSQL; elsewhere a plain parameter list, without Django's
    per-value preparation.

    On PostgreSQL it is a semi-join, `IN (SELECT unnest(...))`, not `= ANY(...)`: with
    `= ANY` the planner may AND a bitmap of these ids with a bitmap of another indexed
    condition, and the tick's "due rows of these people" then read the whole due range
    of `nudge_schedule_due` (everyone due: a million entries) for each batch. Joined,
    the ids go through the per-person index, a few entries each."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, column: str, ids: Iterable[int]) -> None:
        super().__init__()
        self.column: Any = F(column)
        self.ids = [int(pk) for pk in ids]

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> _Sql:
        column, params = compiler.compile(self.column)
        if not self.ids:
            return "1 = 0", []
        return f"{column} IN ({', '.join(['%s'] * len(self.ids))})", [*params, *self.ids]

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> _Sql:
        column, params = compiler.compile(self.column)
        return f"{column} IN (SELECT unnest(%s::bigint[]))", [*params, pg_array(self.ids)]


class _AnyOf(Expression):
    """`column = ANY(%s::bigint[])`: the ids as one parameter (PostgreSQL)."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, column: str, ids: Sequence[int]) -> None:
        super().__init__()
        self.column: Any = F(column)  # a column once resolved
        self.literal = pg_array(ids)

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> _Sql:
        sql, params = compiler.compile(self.column)
        return f"{sql} = ANY(%s::bigint[])", [*params, self.literal]


def ids_in(column: str, ids: Sequence[int]) -> Q:
    """A filter `column IN ids`, for any number of ids at the cost of one parameter on
    PostgreSQL (the ORM's `__in` elsewhere). There, the ids' range comes along: it
    changes nothing in the result and shows the planner that an index range holds
    the rows (on small tables it would otherwise scan the whole table, batch after
    batch, rather than probe the index thousands of times). Where another indexed
    condition could be ANDed with it as a bitmap, use `IdIn`."""
    if postgresql() and ids:
        bounds = {f"{column}__gte": min(ids), f"{column}__lte": max(ids)}
        return Q(_AnyOf(column, ids), **bounds)
    return Q(**{f"{column}__in": ids})


class RowAfter(Expression):
    """`filter(RowAfter(("next_due_at", "id"), (due, pk)))`: the row comes after
    (due, pk) in that order, as one row comparison, `(next_due_at, id) > (%s, %s)`.
    On an index on those columns PostgreSQL starts its scan right there, where
    `next_due_at > due OR (next_due_at = due AND id > pk)` re-reads every tie of `due`
    (keyset pagination). SQLite compares row values too."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, columns: Sequence[str], values: Sequence[Any]) -> None:
        super().__init__()
        if len(columns) != len(values):
            raise ValueError("one value per column")
        self.columns: list[Any] = [F(column) for column in columns]
        self.values = list(values)

    def get_source_expressions(self) -> list[Any]:
        return self.columns

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.columns = list(exprs)

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> _Sql:
        left: list[str] = []
        right: list[str] = []
        params: list[Any] = []
        right_params: list[Any] = []
        for column, value in zip(self.columns, self.values, strict=True):
            sql, column_params = compiler.compile(column)
            left.append(sql)
            params += column_params
            # Prepared as the column's own values are (e.g. datetimes as text on SQLite).
            sql, value_params = compiler.compile(Value(value, output_field=column.output_field))
            right.append(sql)
            right_params += value_params
        return f"({', '.join(left)}) > ({', '.join(right)})", [*params, *right_params]


# --- Writes ------------------------------------------------------------------------


def insert_rows(
    model: type[models.Model],
    columns: Mapping[str, Sequence[Any]],
    *,
    same: Mapping[str, Any],
    unique: Sequence[str] = (),
) -> int:
    """Insert one row per position of `columns` (field name → values), with `same`
    (field name → value) in every row; a row that collides with an existing one on
    the `unique` fields is skipped (`ON CONFLICT (...) DO NOTHING`; without `unique`,
    a collision with any unique index, partial ones included). Returns the rows
    inserted on PostgreSQL; elsewhere the rows given (Django's `bulk_create` does not
    tell which it skipped)."""
    lengths = {len(values) for values in columns.values()}
    if lengths in (set(), {0}):
        return 0
    if len(lengths) != 1:
        raise ValueError("every column needs one value per row")
    if not postgresql():
        rows = []
        for values in zip(*columns.values(), strict=True):
            row = model(**dict(zip(map(_attname(model), columns), values, strict=True)))
            for name, value in same.items():
                setattr(row, _attname(model)(name), value)
            rows.append(row)
        return len(model._default_manager.bulk_create(rows, ignore_conflicts=True))
    sql, params = _insert_sql(model, columns, same, unique)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _insert_sql(
    model: type[models.Model],
    columns: Mapping[str, Sequence[Any]],
    same: Mapping[str, Any],
    unique: Sequence[str],
) -> _Sql:
    quote = connection.ops.quote_name
    varying = [concrete_field(model, name) for name in columns]
    fixed = [concrete_field(model, name) for name in same]
    names = ", ".join(quote(_column(field)) for field in [*varying, *fixed])
    aliases = [f"c{index}" for index in range(len(varying))]
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in varying)
    conflict = ", ".join(quote(_column(concrete_field(model, name))) for name in unique)
    conflict = f"({conflict}) " if conflict else ""
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({names}) "  # noqa: S608 (names from _meta)
        f"SELECT {', '.join([*aliases, *['%s'] * len(fixed)])} "
        f"FROM unnest({arrays}) AS t({', '.join(aliases)}) "
        f"ON CONFLICT {conflict}DO NOTHING"
    )
    constants = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fixed, same.values(), strict=True)
    ]
    return sql, [*constants, *(pg_array(values) for values in columns.values())]


def upsert_rows(
    model: type[models.Model], columns: Mapping[str, Sequence[Any]], *, unique: Sequence[str]
) -> None:
    """Insert one row per position of `columns` (field name → values); where a row with
    the same `unique` fields (a unique constraint, among `columns`) exists already, set
    its other given fields instead (`ON CONFLICT (...) DO UPDATE`). On PostgreSQL one
    statement, each column one array (binary fields as hex text, decoded by the
    server); elsewhere the ORM's `bulk_create(update_conflicts=True)`."""
    lengths = {len(values) for values in columns.values()}
    if lengths in (set(), {0}):
        return
    if len(lengths) != 1:
        raise ValueError("every column needs one value per row")
    updated = [name for name in columns if name not in unique]
    if not unique or not set(unique) <= set(columns) or not updated:
        raise ValueError("`unique` must name some of the columns, and not all of them")
    if not postgresql():
        attname = _attname(model)
        rows = [
            model(**dict(zip(map(attname, columns), values, strict=True)))
            for values in zip(*columns.values(), strict=True)
        ]
        model._default_manager.bulk_create(
            rows, update_conflicts=True, unique_fields=list(unique), update_fields=updated
        )
        return
    sql, params = _upsert_sql(model, columns, unique, updated)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _upsert_sql(
    model: type[models.Model],
    columns: Mapping[str, Sequence[Any]],
    unique: Sequence[str],
    updated: Sequence[str],
) -> _Sql:
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return quote(_column(concrete_field(model, name)))

    aliases: list[str] = []
    arrays: list[str] = []
    selected: list[str] = []
    params: list[str] = []
    for index, (name, values) in enumerate(columns.items()):
        field, alias = concrete_field(model, name), f"c{index}"
        aliases.append(alias)
        if isinstance(field, models.BinaryField):
            # An array literal has no form for bytes: each goes as hex text.
            arrays.append("%s::text[]")
            selected.append(f"decode({alias}, 'hex')")
            params.append(pg_array([None if v is None else bytes(v).hex() for v in values]))
        else:
            arrays.append(f"%s::{field.db_type(connection)}[]")
            selected.append(alias)
            params.append(pg_array(values))
    updates = ", ".join(f"{column(name)} = EXCLUDED.{column(name)}" for name in updated)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(column, columns))}) "  # noqa: S608 (names from _meta)
        f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) "
        f"AS t({', '.join(aliases)}) "
        f"ON CONFLICT ({', '.join(map(column, unique))}) DO UPDATE SET {updates}"
    )
    return sql, params


def update_rows(
    model: type[models.Model], pks: Sequence[int], *, field: str, values: Sequence[Any]
) -> None:
    """Set `field` to `values[i]` on the row whose primary key is `pks[i]`."""
    if len(pks) != len(values):
        raise ValueError("one value per primary key")
    if not pks:
        return
    if not postgresql():
        attname = _attname(model)(field)
        rows = [model(pk=pk, **{attname: value}) for pk, value in zip(pks, values, strict=True)]
        model._default_manager.bulk_update(rows, [attname])
        return
    quote = connection.ops.quote_name
    target, pk = concrete_field(model, field), concrete_field(model, "pk")
    sql = (
        f"UPDATE {quote(model._meta.db_table)} AS t "  # noqa: S608 (names from _meta)
        f"SET {quote(_column(target))} = v.value "
        f"FROM unnest(%s::{pk.db_type(connection)}[], %s::{target.db_type(connection)}[]) "
        f"AS v(pk, value) WHERE t.{quote(_column(pk))} = v.pk"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [pg_array(pks), pg_array(values)])


def concrete_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """The model's field of that name ("pk": the primary key), one with a column."""
    found = model._meta.pk if name == "pk" else model._meta.get_field(name)
    if not isinstance(found, models.Field):
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    return found


def _column(field: models.Field[Any, Any]) -> str:
    if not field.column:
        raise TypeError(f"{field} has no column")
    return field.column


def _attname(model: type[models.Model]) -> Callable[[str], str]:
    return lambda name: concrete_field(model, name).attname


# --- Writing while the next batch is read ------------------------------------------


class PipelinedWriter(Generic[_Batch]):
    """Writes each batch (`write(batch)`, which returns rows written) while the caller
    reads and prepares the next; `written` sums what the writes returned.

    On PostgreSQL, outside a transaction, the writes run in a thread with its own
    connection: the server writes one batch on one core while Python prepares the next
    on another (the driver releases the GIL while it waits). One write is in flight at
    a time, and an error in it is raised by the next `submit` or by `close`, so the
    caller stops at the next batch. The caller keeps its batches independent (e.g.
    disjoint slices of one sorted list of ids): a batch read while the previous one is
    being written may not see that write. Inside a transaction (a caller's atomic
    block, tests) every write must belong to it: each is written in place, at once.

    Use it as a context manager, or call `close` in a `finally`: it waits for the last
    write and closes the thread's connection."""

    def __init__(self, write: Callable[[_Batch], int], *, thread_name: str) -> None:
        self.write = write
        self.thread_name = thread_name
        self.threaded = postgresql() and not connection.in_atomic_block
        self.pool: ThreadPoolExecutor | None = None
        self.pending: Future[int] | None = None
        self.written = 0

    def submit(self, batch: _Batch) -> None:
        if not self.threaded:
            self.written += self.write(batch)
            return
        self.wait()
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.thread_name)
        self.pending = self.pool.submit(self.write, batch)

    def wait(self) -> None:
        """Wait for the write in flight, if any (raising its error)."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            self.written += pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            if self.pool is not None:
                self.pool.submit(_close_connection).result()
                self.pool.shutdown()

    def __enter__(self) -> PipelinedWriter[_Batch]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _close_connection() -> None:
    # Looked up in the calling thread: the writer thread's own connection.
    connection.close()
