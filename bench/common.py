"""What every benchmark shares: Django set-up against a benchmark database, the
guard that refuses any other database, and a query counter.

Import this module first and call `setup()` before importing anything from Nuzzle:

    from bench.common import setup
    setup()
    from nuzzle.couples.models import User  # noqa: E402
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def setup(*, log_level: str = "WARNING") -> None:
    """Point Django at the benchmark database (`DATABASE_URL`, else
    var/bench.sqlite3) with production-like settings, and set it up."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nuzzle.settings")
    # Delivery and the sweeps log a line per batch or per email at INFO.
    os.environ.setdefault("LOG_LEVEL", log_level)

    import django

    django.setup()


def guard() -> None:
    """Benchmarks flush their database: refuse one whose name lacks "bench"."""
    from django.conf import settings

    name = str(settings.DATABASES["default"]["NAME"])
    if "bench" not in name:
        sys.exit(f"refusing to flush {name!r}: the benchmark database's name contains 'bench'")


def reset() -> None:
    """Migrate, empty every table and load the prompt bank."""
    from django.core.management import call_command

    from prompts.services import prompt_bank_load

    guard()
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)  # its own database: all of it
    prompt_bank_load()


class QueryCounter:
    """A `connection.execute_wrapper` that counts queries. `mark` (a predicate on the
    SQL) starts a new group, so the counts per batch can be read from `groups`."""

    def __init__(self, mark: Callable[[str], bool] | None = None) -> None:
        self.count = 0
        self.mark = mark
        self.groups: list[int] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        if self.mark is not None and self.mark(sql):
            self.groups.append(0)
        if self.groups:
            self.groups[-1] += 1
        return execute(sql, params, many, context)


def explain_rolled_back(context: Any, sql: str, params: Any) -> str:
    """`EXPLAIN (ANALYZE, BUFFERS)` of a statement about to run, from inside a
    `connection.execute_wrapper` (`context` is the wrapper's): on the driver's own
    cursor, so no wrapper sees it, and in a savepoint (or a transaction) rolled back
    at once, so a write that ANALYZE performs is undone before the real one runs."""
    raw = context["cursor"].cursor
    nested = context["connection"].in_atomic_block
    raw.execute("SAVEPOINT bench_explain" if nested else "BEGIN")
    raw.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
    plan = "\n".join(row[0] for row in raw.fetchall())
    raw.execute("ROLLBACK TO SAVEPOINT bench_explain" if nested else "ROLLBACK")
    return plan


def backend_cpu_seconds() -> float:
    """CPU seconds (user + system) used so far by the PostgreSQL backend serving this
    connection, read from /proc: the server's share of the work, which unlike wall time
    does not count waiting for a busy machine's cores. 0.0 on SQLite, or when the
    server is not on this machine."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:  # the driver's own: no query counter sees it
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    return process_cpu_seconds(pid)


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of a process on this machine (0.0 if unreadable)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
