"""Benchmark: the daily-question sweep for many couples (set-based, batched).

Seeds N couples (set-based SQL on PostgreSQL: one INSERT ... SELECT per table, with
the foreign-key triggers off while seeding), and with --history-days D, D past
questions per couple (one statement per day, in date order as real sweeps would have
written them; two thirds revealed). Then:

1. *first* sweep, at the top of an hour (when couples without a schedule are looked
   for among all couples, not only the newest): every couple is new and has no
   history summary yet; with history it reads every couple's whole history once,
   and folds it into the summaries;
2. *next day* sweep, a day later: every couple due again, reading its summary and its
   last few days only (the steady state, every day);
3. *again*, at the same instant: nothing is due (the hourly full look for couples
   without a schedule), and *a minute later* (what every other minute costs);

each with its time, queries (on every connection: the sweep writes from a second
one), queries per batch (constant: they must not grow with the number of couples
beyond batching), CPU seconds of this process and of the database's server
processes (on a busy machine, steadier than wall time), and the time spent in each
kind of statement. It checks that every due couple got exactly one question and that
the reruns found nothing due. Between sweeps it runs VACUUM ANALYZE, and during them
ANALYZE every --autoanalyze seconds, as autovacuum would (the CI configuration of
PostgreSQL turns autovacuum off).

    psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE nuzzle_bench_sweep"   # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nuzzle_bench_sweep \\
        .venv/bin/python bench/sweep_daily_question.py --couples 100000 --history-days 90

Options: --couples N (100,000), --history-days D (0), --batch-size (the sweep's
BATCH_SIZE), --profile (cProfile of the next-day sweep: the top functions),
--explain (EXPLAIN (ANALYZE, BUFFERS) of each distinct statement of the first and
next-day sweeps, in a savepoint that is rolled back; its time is subtracted, but the
numbers of such a run are not for comparing), --reuse (keep the couples and history
seeded by the last run of the same size: only the sweeps' work is undone),
--autoanalyze SECONDS (30; 0: off).

Without DATABASE_URL it uses var/bench.sqlite3 (seeding through the ORM, for small
N). The database is flushed first, so it refuses any database whose name does not
contain "bench".
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import QueryCounter, explain_rolled_back, guard, reset, setup

setup()

from django.core.management import call_command
from django.db import connection, transaction
from django.db.backends.signals import connection_created
from django.utils import timezone

from nuzzle.couples.models import Couple, Membership, User
from nuzzle.lib.timezones import local_midnight
from prompts import sweep
from prompts.assignment import closes_at_for
from prompts.models import DailyQuestion, Prompt, QuestionSchedule

ZONES = ["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC"]
SENSITIVE_EVERY = 20  # one couple in 20: both partners opted in to sensitive questions
REVEALED = (0, 1)  # (couple + day) % 3 in these: both answered (two thirds)


# --- Seeding -------------------------------------------------------------------------


def seed(couples: int, history_days: int, today: date) -> float:
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The generated rows are consistent by construction: skip the per-row
            # foreign-key triggers while seeding (millions of deferred checks).
            cursor.execute("SET session_replication_role = replica")
            try:
                seed_couples_sql(couples)
                seed_history_sql(history_days, today)
            finally:
                cursor.execute("SET session_replication_role = DEFAULT")
    else:
        seed_couples_orm(couples)
        seed_history_orm(history_days, today)
    return time.perf_counter() - started


def seed_couples_sql(couples: int) -> None:
    """Users 2i and 2i+1 form couple i; three statements, no rows through Python."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO couples_user (password, is_superuser, email, display_name, "
            "timezone, allow_sensitive_questions, is_active, is_staff, date_joined) "
            "SELECT '!', false, 'p' || n || '@bench.invalid', 'Bench', "
            "(%s::text[])[1 + n %% %s], (n / 2) %% %s = 0, true, false, %s "
            "FROM generate_series(0, %s) AS n ORDER BY n",
            [ZONES, len(ZONES), SENSITIVE_EVERY, now, couples * 2 - 1],
        )
        cursor.execute(
            "INSERT INTO couples_couple (created_at, timezone) "
            "SELECT %s, (%s::text[])[1 + n %% %s] FROM generate_series(0, %s) AS n ORDER BY n",
            [now, ZONES, len(ZONES), couples - 1],
        )
        # One statement each on an otherwise idle table: the ids are consecutive.
        cursor.execute("SELECT min(id), max(id), count(*) FROM couples_couple")
        first_couple, last_couple, count = cursor.fetchone()
        assert last_couple - first_couple + 1 == count == couples
        cursor.execute("SELECT min(id) FROM couples_user")  # flushed: only ours
        (first_user,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO couples_membership (couple_id, user_id, joined_at) "
            "SELECT c.id, %s + 2 * (c.id - %s) + side, %s "
            "FROM couples_couple c CROSS JOIN (VALUES (0), (1)) AS s(side) ORDER BY c.id, side",
            [first_user, first_couple, now],
        )


def _bank() -> list[int]:
    return list(
        Prompt.objects.filter(kind=Prompt.Kind.QUESTION, status=Prompt.Status.PUBLISHED)
        .order_by("id")
        .values_list("id", flat=True)
    )


def seed_history_sql(days: int, today: date) -> None:
    """For each couple, one question a day for `days` days ending two days before
    `today` (so none falls on a couple's today in any zone), a day per statement,
    oldest first: rows of one couple lie far apart in the table, as in real life.
    Prompts rotate through the bank from a per-couple offset (no repeats until the
    bank is exhausted); two thirds are revealed, the rest closed."""
    if not days:
        return
    bank = _bank()
    now = timezone.now()
    with connection.cursor() as cursor, _indexes_built_after(cursor, "prompts_dailyquestion"):
        for back in range(days + 1, 1, -1):
            day = today - timedelta(days=back)
            cursor.execute(
                "INSERT INTO prompts_dailyquestion (couple_id, prompt_id, couple_date, "
                "status, created_at, closes_at, revealed_at) "
                "SELECT c.id, (%s::bigint[])[1 + (c.id * 37 + %s) %% %s], %s::date, "
                "CASE WHEN (c.id + %s) %% 3 IN %s THEN 'open' ELSE %s END, %s, %s, "
                "CASE WHEN (c.id + %s) %% 3 IN %s THEN %s::timestamptz END "
                "FROM couples_couple c ORDER BY c.id",
                [
                    bank,
                    back,
                    len(bank),
                    day,
                    back,
                    REVEALED,
                    _unrevealed_status(day, now),
                    _midnight(day),
                    _closes(day),
                    back,
                    REVEALED,
                    _midnight(day) + timedelta(hours=20),
                ],
            )
            if back % 30 == 0:
                print(f"        history: {days + 2 - back:,} of {days:,} days", flush=True)
        cursor.execute("VACUUM ANALYZE prompts_dailyquestion")


@contextmanager
def _indexes_built_after(cursor: Any, table: str) -> Iterator[None]:
    """Drop a table's secondary indexes, load, and build them again: one sorted build
    per index is many times faster than keeping them up to date row by row."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        [table],
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            cursor.execute(definition)


def _unrevealed_status(day: date, now: datetime) -> str:
    return "open" if _closes(day) > now else "closed"


def _midnight(day: date) -> datetime:
    return local_midnight(day, "UTC")


def _closes(day: date) -> datetime:
    return closes_at_for(day, "UTC")


def seed_couples_orm(couples: int) -> None:
    now = timezone.now()
    chunk = 5_000
    for start in range(0, couples, chunk):
        size = min(chunk, couples - start)
        with transaction.atomic():
            users = User.objects.bulk_create(
                [
                    User(
                        email=f"p{start * 2 + i}@bench.invalid",
                        display_name="Bench",
                        timezone=ZONES[(start * 2 + i) % len(ZONES)],
                        allow_sensitive_questions=(start * 2 + i) // 2 % SENSITIVE_EVERY == 0,
                        password="!",  # unusable
                    )
                    for i in range(size * 2)
                ]
            )
            made = Couple.objects.bulk_create(
                [
                    Couple(timezone=ZONES[(start + i) % len(ZONES)], created_at=now)
                    for i in range(size)
                ]
            )
            Membership.objects.bulk_create(
                [
                    Membership(couple=couple, user=users[2 * i + side], joined_at=now)
                    for i, couple in enumerate(made)
                    for side in (0, 1)
                ]
            )


def seed_history_orm(days: int, today: date) -> None:
    bank = _bank()
    couple_ids = list(Couple.objects.order_by("id").values_list("id", flat=True))
    now = timezone.now()
    for back in range(days + 1, 1, -1):
        day = today - timedelta(days=back)
        revealed = [(c + back) % 3 in REVEALED for c in couple_ids]
        DailyQuestion.objects.bulk_create(
            [
                DailyQuestion(
                    couple_id=c,
                    prompt_id=bank[(c * 37 + back) % len(bank)],
                    couple_date=day,
                    status="open" if shown else _unrevealed_status(day, now),
                    closes_at=_closes(day),
                    revealed_at=_midnight(day) + timedelta(hours=20) if shown else None,
                )
                for c, shown in zip(couple_ids, revealed, strict=True)
            ],
            batch_size=2_000,
        )


def vacuum() -> None:
    """Dead rows cleared and planner statistics fresh, as autovacuum keeps them on a
    live database (the CI configuration turns autovacuum off)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "VACUUM ANALYZE couples_user, couples_couple, couples_membership, "
                "prompts_dailyquestion, prompts_questionschedule"
            )


def unsweep(today: date) -> None:
    """--reuse: back to the seeded state (no schedules, no question after the seeded
    history, which ends two days before today; its last day open again)."""
    last = today - timedelta(days=2)
    with transaction.atomic():
        QuestionSchedule.objects.all().delete()
        DailyQuestion.objects.filter(couple_date__gt=last).delete()
        DailyQuestion.objects.filter(couple_date=last, revealed_at__isnull=True).update(
            status=_unrevealed_status(last, timezone.now())
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM prompts_dailyquestion, prompts_questionschedule")


# --- Measuring -----------------------------------------------------------------------


class Explainer:
    """A `connection.execute_wrapper` that runs EXPLAIN (ANALYZE, BUFFERS) on the first
    statement of each shape, on the driver's own cursor (unseen by the query counter),
    in a savepoint or transaction rolled back before the real statement runs. The time
    it takes is measured, to be subtracted."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.plans: list[tuple[str, str]] = []
        self.spent = 0.0
        self.lock = threading.Lock()

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        shape = re.sub(r"(%s, )+%s|\d+", "?", sql)[:200]
        with self.lock:
            new = not many and shape not in self.seen and not sql.startswith("ANALYZE")
            self.seen.add(shape)
        if new:
            started = time.perf_counter()
            plan = explain_rolled_back(context, sql, params)
            with self.lock:
                self.plans.append((sql, plan))
                self.spent += time.perf_counter() - started
        return execute(sql, params, many, context)

    def print(self, title: str) -> None:
        """The plans of this sweep; the next sweep explains its statements afresh."""
        for sql, plan in self.plans:
            print(f"\n--- {title}: {_cut(sql)}")
            print("\n".join(_cut(line) for line in plan.splitlines()))
        self.plans.clear()
        self.seen.clear()


def _cut(text: str, width: int = 240) -> str:
    """Long IN lists and arrays inlined by the driver, cut short."""
    return text if len(text) <= width else text[:width] + " ..."


class TimedCounter(QueryCounter):
    """Counts queries (per batch, as QueryCounter does) and sums the time spent in
    the database per kind of statement, on every connection: the sweep
    writes from a second one, in a thread (so the times of the two overlap)."""

    def __init__(self, mark: Callable[[str], bool]) -> None:
        super().__init__(mark)
        self.seconds: dict[str, float] = defaultdict(float)
        self.lock = threading.Lock()

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.startswith("ANALYZE"):  # the bench's own (Autoanalyze)
            return execute(sql, params, many, context)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            with self.lock:
                super().__call__(lambda *args: None, sql, params, many, context)
                self.seconds[_statement(sql)] += time.perf_counter() - started

    def print(self) -> None:
        for statement, seconds in sorted(self.seconds.items(), key=lambda item: -item[1]):
            print(f"{'':14} {seconds:7.2f} s  {statement}")


@contextmanager
def everywhere(wrapper: Callable[..., Any]) -> Iterator[None]:
    """`connection.execute_wrapper` on this thread's connection and on any connection
    opened meanwhile (the sweep writes from its own, in a thread)."""

    def attach(sender: Any, connection: Any, **kwargs: Any) -> None:
        if wrapper not in connection.execute_wrappers:
            connection.execute_wrappers.append(wrapper)

    connection_created.connect(attach)
    try:
        with connection.execute_wrapper(wrapper):
            yield
    finally:
        connection_created.disconnect(attach)


def _statement(sql: str) -> str:
    """`UPDATE prompts_dailyquestion`, `SELECT ... FROM couples_membership`, ..."""
    words = sql.replace('"', "").split()
    verb = words[0].upper()
    if verb in ("INSERT", "UPDATE", "DELETE"):
        return " ".join(words[:3] if verb != "UPDATE" else words[:2])
    table = words[words.index("FROM") + 1] if "FROM" in words else ""
    return f"{verb} ... FROM {table}"


class BackendCpu:
    """CPU seconds used by this database's server processes (PostgreSQL on this
    machine): on a busy machine, CPU time says more than wall time. A thread samples
    /proc every 0.2 s, so connections opened and closed meanwhile count too."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, database: str) -> None:
        self.title = f"postgres {database} ".encode()
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.started = False
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                    if self.title not in handle.read():
                        continue
                with open(f"/proc/{entry.name}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            seconds = (int(fields[11]) + int(fields[12])) / self.TICK  # utime + stime
            self.first.setdefault(int(entry.name), seconds if not self.started else 0.0)
            self.last[int(entry.name)] = seconds

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            self._sample()

    def __enter__(self) -> BackendCpu:
        self.started = False
        self._sample()
        self.started = True
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self._sample()

    @property
    def seconds(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


class Autoanalyze:
    """ANALYZE the tables a sweep fills, every few seconds while it runs, as autovacuum
    does on a production server. (The CI configuration turns autovacuum off; without
    this, a first sweep plans every batch with the statistics of empty tables.)"""

    def __init__(self, every: float) -> None:
        self.every = every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            while not self.stop.wait(self.every):
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE prompts_questionschedule, prompts_dailyquestion")
        finally:
            connection.close()

    def __enter__(self) -> Autoanalyze:
        if connection.vendor == "postgresql":
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()


def is_batch_start(sql: str) -> bool:
    """The query that reads a batch's couples opens each batch (sweep._due_batches)."""
    return 'LEFT OUTER JOIN "prompts_questionschedule" schedule ON' in sql


def run(
    title: str,
    now: datetime,
    args: argparse.Namespace,
    explain: Explainer | None = None,
    profile: cProfile.Profile | None = None,
) -> sweep.SweepResult:
    exact = connection.vendor == "postgresql" and "assigned" in sweep.SweepResult.__annotations__
    before = 0 if exact else DailyQuestion.objects.count()
    counter = TimedCounter(mark=is_batch_start)
    database = str(connection.settings_dict["NAME"])
    server = BackendCpu(database) if connection.vendor == "postgresql" else None
    cpu = time.process_time()
    with ExitStack() as stack:
        if server:
            stack.enter_context(server)
        stack.enter_context(everywhere(counter))
        if args.autoanalyze:
            stack.enter_context(Autoanalyze(args.autoanalyze))
        if explain:
            stack.enter_context(everywhere(explain))
        if profile:
            profile.enable()
        started = time.perf_counter()
        result = sweep.daily_question_sweep(now=now, batch_size=args.batch_size)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        if profile:
            profile.disable()
    if explain:
        seconds -= explain.spent
        explain.spent = 0.0
    # Exact on PostgreSQL (the insert's row count); elsewhere, or before the sweep
    # counted (an older version, for comparisons), counted here.
    assigned = result.assigned if exact else DailyQuestion.objects.count() - before
    rate = f"  {result.couples / seconds:,.0f} couples/s" if result.couples else ""
    print(
        f"{title:14} {seconds:7.2f} s {counter.count:6,} queries  couples={result.couples:,} "
        f"batches={result.batches} assigned={assigned:,} closed={result.closed:,}{rate}",
        flush=True,
    )
    if server and result.couples and not explain:
        print(f"{'':14} CPU: {cpu:.1f} s Python (this process), {server.seconds:.1f} s PostgreSQL")
    if counter.groups:
        before = counter.count - sum(counter.groups)
        print(
            f"{'':14} {before} queries before the first batch, then "
            f"{(counter.count - before) / len(counter.groups):.2f} per batch of "
            f"{args.batch_size:,} (each batch's writes overlap the next batch's reads)"
        )
    if result.couples:
        counter.print()
    if explain:
        explain.print(title)
    assert assigned == result.couples, "every due couple gets exactly one question"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--couples", type=int, default=100_000)
    parser.add_argument("--history-days", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=sweep.BATCH_SIZE)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--autoanalyze", type=float, default=30.0)
    args = parser.parse_args()

    guard()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    # At the top of an hour: the sweep then looks for couples without a schedule among
    # all couples, not only the newest (every couple is new to the first sweep).
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    today = now.date()
    if args.reuse and Couple.objects.count() == args.couples:
        call_command("migrate", verbosity=0)
        unsweep(today)
        print(f"reused {args.couples:,} couples and {DailyQuestion.objects.count():,} questions")
    else:
        reset()
        seeded = seed(args.couples, args.history_days, today)
        print(
            f"seeded {args.couples:,} couples, {DailyQuestion.objects.count():,} past "
            f"questions ({args.history_days} days) in {seeded:.1f} s"
        )
    vacuum()
    explain = Explainer() if args.explain and connection.vendor == "postgresql" else None
    profile = cProfile.Profile() if args.profile else None

    first = run("first", now, args, explain)
    assert first.couples == args.couples
    vacuum()  # as autovacuum will have by the next day
    tomorrow = now + timedelta(days=1)
    assert run("next day", tomorrow, args, explain, profile).couples == args.couples
    vacuum()
    assert run("again", tomorrow, args).couples == 0, "a rerun finds nothing due"
    later = tomorrow + timedelta(minutes=1)
    assert run("a minute later", later, args).couples == 0
    if profile:
        stats = pstats.Stats(profile).strip_dirs()
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
