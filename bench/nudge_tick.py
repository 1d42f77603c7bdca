"""Benchmark: plan nudges for N people in one tick, then deliver them to a local SMTP
sink. Prints seconds, queries and people/s for planning, emails/s for delivery.

Seeds N people in N/2 couples (set-based SQL on PostgreSQL: one INSERT ... SELECT per
table; bulk inserts on SQLite), each couple with today's open daily question, and
every person with nudge preferences and one schedule row per kind: `question_ready`
due five seconds ago for everyone, the other kinds off or due later. Zones are picked
at start so that it is mid-day locally everywhere (never quiet hours, never a day
boundary), and a fraction of couples has one partner who already answered, so the
real eligibility check has people to drop.

Then:
1. one `nudges_tick` (time, people/s, queries, queries per batch: a constant);
2. the tick again (nothing due: plans nothing), and a *replay* with every
   `question_ready` row rewound to its old due time, as a second beat that read the
   same rows would see them: the outbox unique key and history make it plan nothing;
3. `nudges_deliver` until the chosen number of emails has gone to an aiosmtpd sink
   on 127.0.0.1 (its own process; it only counts), with one worker and then with
   each number of parallel worker processes asked for: emails/s, SMTP connections,
   queries per email, and a check that the sink received exactly the rows marked sent.

    psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE nuzzle_bench_tick"   # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nuzzle_bench_tick \\
        .venv/bin/python bench/nudge_tick.py --people 100000 --workers 1 2

Options: --people N (100,000), --deliver N|all (emails per delivery run; 10,000; the
other rows wait a day), --workers W [W ...] (one delivery run per entry, W worker
processes each; 1), --batch (tick batch; planning.BATCH_SIZE), --deliver-batch (rows
per claim and SMTP connection; NUDGE_DELIVERY_BATCH), --answered (share of couples
where one partner already answered; 0.1), --profile (cProfile of the tick and of a
one-worker delivery), --explain (EXPLAIN (ANALYZE, BUFFERS) of every statement of the
tick's first and last batches, the statements around them and delivery's first
batch, in a savepoint rolled back before the real statement; not timed), --reuse
(keep the people seeded by the last run of the same size: only the outbox and the
due times are reset). --jit leaves PostgreSQL's JIT on for the tick's statements, to
see what turning it off still buys.

Times are wall-clock; "cpu" is this process's CPU time and "server" the PostgreSQL
backend's (from /proc), which a busy machine inflates much less than wall time.
Without DATABASE_URL it uses var/bench.sqlite3. The database is flushed first, so it
refuses any database whose name does not contain "bench". LOG_LEVEL defaults to
WARNING here (delivery logs a line per email at INFO).
"""

from __future__ import annotations

import argparse
import cProfile
import math
import multiprocessing
import os
import pstats
import re
import sys
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    QueryCounter,
    backend_cpu_seconds,
    explain_rolled_back,
    guard,
    process_cpu_seconds,
    reset,
    setup,
)

setup()

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.backends.signals import connection_created
from django.db.models import Count
from django.utils import timezone

from nuzzle.couples.models import Couple, Membership, User
from nuzzle.lib.timezones import local_date
from nuzzle.nudges import kinds, planning
from nuzzle.nudges.delivery import DeliveryResult, nudges_deliver, pending_due_count
from nuzzle.nudges.kinds import Kind, Recipient
from nuzzle.nudges.models import Nudge, NudgePreferences, NudgeSchedule
from nuzzle.nudges.schedule import ALL_DAYS, Rules, next_recap_slot, next_slot
from prompts.assignment import closes_at_for
from prompts.models import DailyQuestion, Prompt, QuestionAnswer
from tests.nudges.smtp import HOST, free_port

CHUNK = 5_000  # couples per seeding transaction (SQLite)
INSERT_BATCH = 5_000  # rows per INSERT statement (SQLite)
# Real zones (with DST rules) are used when it is mid-day there; fixed offsets fill up.
REAL_ZONES = [
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
]
MIDDAY = (10, 16)  # local hours [from, to): far from quiet hours (22-08) and midnight
ZONE_COUNT = 6
PARTS_PER = 1_000_000  # the answered share as an integer fraction: the same in SQL
EVENT_DELAY = timedelta(minutes=15)  # partner_answered events wait this long after the slot
POSTGRESQL = connection.vendor == "postgresql"


# --- The SMTP sink (its own process, so it does not share the GIL with Django) -------


def _sink_main(port: int, received, connections_, parent: int) -> None:  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_EHLO(self, server, session, envelope, hostname, responses):  # type: ignore[no-untyped-def]
            with connections_.get_lock():
                connections_.value += 1
            session.host_name = hostname
            return responses

        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            with received.get_lock():
                received.value += len(envelope.rcpt_tos)
            return "250 2.0.0 OK"

    controller = Controller(Counting(), hostname=HOST, port=port)
    controller.start()
    try:
        while os.getppid() == parent:  # never outlive the benchmark
            time.sleep(0.5)
    finally:
        controller.stop()


class Sink:
    def __init__(self) -> None:
        # Forked before the first database connection is opened.
        context = multiprocessing.get_context("fork")
        self.port = free_port()
        self.received = context.Value("q", 0)
        self.connections = context.Value("q", 0)
        self.process = context.Process(
            target=_sink_main,
            args=(self.port, self.received, self.connections, os.getpid()),
            daemon=True,
        )

    def start(self) -> Sink:
        import socket

        self.process.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((HOST, self.port), timeout=1) as sock:
                    sock.recv(100)  # the 220 greeting
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("the SMTP sink did not start")
        with self.connections.get_lock():
            self.connections.value = 0
        return self

    def cpu(self) -> float:
        return process_cpu_seconds(self.process.pid or 0)

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(5)

    def use(self) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = HOST
        settings.EMAIL_PORT = self.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""


# --- Seeding ---------------------------------------------------------------------


def pick_zones(now: datetime) -> list[str]:
    """Zones where it is mid-day at `now`: real ones first, then fixed offsets."""
    zones = [
        name
        for name in REAL_ZONES
        if MIDDAY[0] <= now.astimezone(zoneinfo.ZoneInfo(name)).hour < MIDDAY[1]
    ][: ZONE_COUNT // 2]
    for local_hour in range(MIDDAY[0] + 1, MIDDAY[1]):
        offset = (local_hour - now.hour) % 24
        offset = offset - 24 if offset > 14 else offset
        # Etc/GMT-2 is UTC+2: the POSIX sign is inverted.
        name = "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"
        if name not in zones and len(zones) < ZONE_COUNT:
            zones.append(name)
    return zones


def answered_parts(fraction: float) -> int:
    return round(fraction * PARTS_PER)


def is_answered(index: int, parts: int) -> bool:
    """Spread `parts` per million of couples evenly (deterministic; as the SQL does)."""
    return (index + 1) * parts // PARTS_PER > index * parts // PARTS_PER


@dataclass(frozen=True)
class ZonePlan:
    """Per zone: the person's nudge time (the slot's local wall time), today's couple
    date and when its question closes, and each later kind's next due time."""

    name: str
    rules: Rules
    day: Any
    closes_at: datetime
    tomorrow: datetime | None
    recap: datetime | None


def zone_plans(zones: list[str], slot: datetime) -> list[ZonePlan]:
    plans = []
    for name in zones:
        local = slot.astimezone(zoneinfo.ZoneInfo(name))
        rules = Rules(timezone=name, nudge_time=local.time())
        plans.append(
            ZonePlan(
                name,
                rules,
                local.date(),
                closes_at_for(local.date(), name),
                next_slot(rules, slot),
                next_recap_slot(rules, slot),
            )
        )
    return plans


def seed(args: argparse.Namespace, zones: list[str], slot: datetime) -> tuple[float, int]:
    """Returns the seeding time and the number of people eligible for question_ready."""
    people, answered = args.people, args.answered
    started = time.perf_counter()
    prompts = list(
        Prompt.objects.filter(kind=Prompt.Kind.QUESTION, status=Prompt.Status.PUBLISHED)
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert prompts, "the prompt bank has no published questions"
    plans = zone_plans(zones, slot)
    parts = answered_parts(answered)
    seeder = seed_sql if POSTGRESQL else seed_orm
    answered_couples = seeder(people, plans, slot, parts, prompts)
    history = time.perf_counter()
    seed_history(people, plans, slot, args.history_days)
    SEEDING["outbox history"] = time.perf_counter() - history
    if POSTGRESQL:
        vacuum = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would have by now
        SEEDING["VACUUM ANALYZE"] = time.perf_counter() - vacuum
    return time.perf_counter() - started, people - answered_couples


SEEDING: dict[str, float] = {}  # seconds per table (PostgreSQL), printed after seeding


def seed_sql(
    people: int, plans: list[ZonePlan], slot: datetime, parts: int, prompts: list[int]
) -> int:
    """Person n is in couple n / 2 (side n % 2), in zone (n / 2) % zones; one
    INSERT ... SELECT per table, in id order, no rows through Python. Returns the number
    of couples where side 0 has answered."""
    couples, zones = people // 2, len(plans)
    last_active = slot - timedelta(days=1)
    zone = f"1 + (n / 2) %% {zones}"  # the zone's index (1-based) of person n
    couple_zone = f"1 + n %% {zones}"  # ... of couple n
    answered = (
        f"((n / 2 + 1)::bigint * {parts}) / {PARTS_PER} > ((n / 2)::bigint * {parts}) / {PARTS_PER}"
    )
    with connection.cursor() as cursor:

        def run(sql: str, params: list[Any]) -> int:
            started = time.perf_counter()
            cursor.execute(sql, params)
            table = sql.split()[2]
            SEEDING[table] = SEEDING.get(table, 0.0) + time.perf_counter() - started
            return int(cursor.rowcount)

        def first_id(table: str, count: int) -> int:
            # One statement on a flushed table: the ids are consecutive.
            cursor.execute(f"SELECT min(id), max(id), count(*) FROM {table}")  # noqa: S608
            first, last, total = cursor.fetchone()
            assert total == count, (table, total)
            assert last - first + 1 == count, (table, first, last)
            return int(first)

        run(
            "INSERT INTO couples_user (password, is_superuser, email, display_name, timezone,"  # noqa: S608 (only integers are formatted in)
            " is_active, is_staff, date_joined, allow_sensitive_questions)"
            " SELECT '!', false, 'p' || n || '@bench.invalid',"
            " CASE WHEN n %% 2 = 0 THEN 'Sam' ELSE 'Alex' END,"
            f" (%s::text[])[{zone}], true, false, %s, false"
            " FROM generate_series(0, %s) AS n ORDER BY n",
            [[p.name for p in plans], last_active, people - 1],
        )
        user = first_id("couples_user", people)
        run(
            "INSERT INTO couples_couple (created_at, timezone)"  # noqa: S608 (only integers are formatted in)
            f" SELECT %s, (%s::text[])[{couple_zone}] FROM generate_series(0, %s) AS n ORDER BY n",
            [last_active, [p.name for p in plans], couples - 1],
        )
        couple = first_id("couples_couple", couples)
        run(
            "INSERT INTO couples_membership (joined_at, couple_id, user_id)"
            " SELECT %s, %s + n / 2, %s + n FROM generate_series(0, %s) AS n ORDER BY n",
            [last_active, couple, user, people - 1],
        )
        run(
            "INSERT INTO prompts_dailyquestion (couple_date, status, created_at, closes_at,"  # noqa: S608 (only integers are formatted in)
            " couple_id, prompt_id)"
            f" SELECT (%s::date[])[{couple_zone}], 'open', %s, (%s::timestamptz[])[{couple_zone}],"
            f" %s + n, (%s::bigint[])[1 + n %% {len(prompts)}]"
            " FROM generate_series(0, %s) AS n ORDER BY n",
            [
                [p.day for p in plans],
                last_active,
                [p.closes_at for p in plans],
                couple,
                prompts,
                couples - 1,
            ],
        )
        question = first_id("prompts_dailyquestion", couples)
        # Side 0 answered: side 1 still gets question_ready (with partner_answered)
        # and has a partner_answered event waiting for later today.
        answered_couples = run(
            "INSERT INTO prompts_questionanswer (text, created_at, updated_at, author_id,"  # noqa: S608 (only integers are formatted in)
            " question_id)"
            " SELECT '(bench)', %s, %s, %s + n, %s + n / 2"
            f" FROM generate_series(0, %s, 2) AS n WHERE {answered} ORDER BY n",
            [last_active, last_active, user, question, people - 1],
        )
        defaults = {f.name: f.get_default() for f in NudgePreferences._meta.concrete_fields}
        run(
            "INSERT INTO nudges_nudgepreferences (user_id, nudge_time, days, quiet_start,"  # noqa: S608 (only integers are formatted in)
            " quiet_end, daily_cap, last_active_at, suppressed_reason, updated_at)"
            f" SELECT %s + n, (%s::time[])[{zone}], %s, %s, %s, 1, %s, '', %s"
            " FROM generate_series(0, %s) AS n ORDER BY n",
            [
                user,
                [p.rules.nudge_time for p in plans],
                ALL_DAYS,
                defaults["quiet_start"],
                defaults["quiet_end"],
                last_active,
                last_active,
                people - 1,
            ],
        )
        run(
            "INSERT INTO nudges_nudgeschedule (user_id, kind, enabled, next_due_at)"  # noqa: S608 (only integers are formatted in)
            " SELECT %s + n, k.kind, k.kind <> %s, CASE k.kind"
            "   WHEN %s THEN %s"
            f"  WHEN %s THEN CASE WHEN n %% 2 = 1 AND {answered} THEN %s::timestamptz END"
            f"  WHEN %s THEN (%s::timestamptz[])[{zone}]"
            f"  ELSE (%s::timestamptz[])[{zone}] END"
            " FROM generate_series(0, %s) AS n CROSS JOIN unnest(%s::text[]) AS k(kind)"
            " ORDER BY n, k.kind",
            [
                user,
                Kind.CHECKIN_REMINDER.value,
                Kind.QUESTION_READY.value,
                slot,
                Kind.PARTNER_ANSWERED.value,
                slot + EVENT_DELAY,
                Kind.WEEKLY_RECAP.value,
                [p.recap for p in plans],
                [p.tomorrow for p in plans],
                people - 1,
                [k.value for k in Kind],
            ],
        )
    return answered_couples


def seed_orm(
    people: int, plans: list[ZonePlan], slot: datetime, parts: int, prompts: list[int]
) -> int:
    """Bulk inserts through the ORM, for SQLite (small N); the same data as seed_sql."""
    couples = people // 2
    last_active = slot - timedelta(days=1)
    event_due = slot + EVENT_DELAY
    answered_total = 0
    for start in range(0, couples, CHUNK):
        size = min(CHUNK, couples - start)
        with transaction.atomic():
            zone_of = [plans[(start + i) % len(plans)] for i in range(size)]
            User.objects.bulk_create(
                [
                    User(
                        email=f"p{(start + i) * 2 + side}@bench.invalid",
                        display_name=("Sam", "Alex")[side],
                        timezone=zone_of[i].name,
                        password="!",  # unusable
                        date_joined=last_active,
                    )
                    for i in range(size)
                    for side in (0, 1)
                ],
                batch_size=INSERT_BATCH,
            )
            Couple.objects.bulk_create(
                [Couple(timezone=zone_of[i].name, created_at=last_active) for i in range(size)],
                batch_size=INSERT_BATCH,
            )
            # SQLite returns no ids from bulk_create: read them back, in order.
            made = list(Couple.objects.order_by("-id")[:size])[::-1]
            users = list(User.objects.order_by("-id")[: size * 2])[::-1]
            Membership.objects.bulk_create(
                [
                    Membership(couple=couple, user=users[2 * i + side], joined_at=last_active)
                    for i, couple in enumerate(made)
                    for side in (0, 1)
                ],
                batch_size=INSERT_BATCH,
            )
            DailyQuestion.objects.bulk_create(
                [
                    DailyQuestion(
                        couple=couple,
                        prompt_id=prompts[(start + i) % len(prompts)],
                        couple_date=zone_of[i].day,
                        status=DailyQuestion.Status.OPEN,
                        closes_at=zone_of[i].closes_at,
                    )
                    for i, couple in enumerate(made)
                ],
                batch_size=INSERT_BATCH,
            )
            questions = list(DailyQuestion.objects.order_by("-id")[:size])[::-1]
            answered = [i for i in range(size) if is_answered(start + i, parts)]
            answered_total += len(answered)
            QuestionAnswer.objects.bulk_create(
                [
                    QuestionAnswer(question=questions[i], author=users[2 * i], text="(bench)")
                    for i in answered
                ],
                batch_size=INSERT_BATCH,
            )
            waiting_event = {users[2 * i + 1].pk for i in answered}
            NudgePreferences.objects.bulk_create(
                [
                    NudgePreferences(
                        user=user,
                        nudge_time=zone_of[n // 2].rules.nudge_time,
                        days=ALL_DAYS,
                        last_active_at=last_active,
                        daily_cap=1,
                    )
                    for n, user in enumerate(users)
                ],
                batch_size=INSERT_BATCH,
            )
            rows = []
            for n, user in enumerate(users):
                zone = zone_of[n // 2]
                due = {
                    Kind.QUESTION_READY: (True, slot),
                    Kind.PARTNER_ANSWERED: (True, event_due if user.pk in waiting_event else None),
                    Kind.WEEKLY_RECAP: (True, zone.recap),
                    Kind.LOVEMAP_STALE: (True, zone.tomorrow),
                    Kind.LOVEMAP_CATCHUP: (True, zone.tomorrow),
                    Kind.CHECKIN_REMINDER: (False, zone.tomorrow),
                }
                rows.extend(
                    NudgeSchedule(user=user, kind=kind, enabled=on, next_due_at=at)
                    for kind, (on, at) in due.items()
                )
            NudgeSchedule.objects.bulk_create(rows, batch_size=INSERT_BATCH)
    return answered_total


def seed_history(people: int, plans: list[ZonePlan], slot: datetime, days: int) -> None:
    """`days` days of outbox history before today: each person's `question_ready`, sent
    at their nudge time each day, as a running system has. The tick reads it (the cap,
    the back-off, "already sent this period") and it changes nothing it decides; it
    also gives the outbox the statistics that autovacuum keeps in a running system."""
    if not days:
        return
    if POSTGRESQL:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO nudges_nudge (user_id, kind, period, local_date, scheduled_for,"
                " status, reason, attempts, claim_token, sent_at, created_at, context)"
                " SELECT u.id, %s, (z.day - k)::text, z.day - k, %s - k * interval '1 day',"
                " %s, '', 1, '', %s - k * interval '1 day', %s - k * interval '1 day', '{}'"
                " FROM couples_user u JOIN unnest(%s::text[], %s::date[]) AS z(zone, day)"
                " ON z.zone = u.timezone CROSS JOIN generate_series(1, %s) AS k"
                " ORDER BY k DESC, u.id",
                [
                    Kind.QUESTION_READY.value,
                    slot,
                    Nudge.Status.SENT.value,
                    slot,
                    slot,
                    [p.name for p in plans],
                    [p.day for p in plans],
                    days,
                ],
            )
        return
    day_of = {p.name: p.day for p in plans}
    for back in range(days, 0, -1):
        at = slot - timedelta(days=back)
        rows = [
            Nudge(
                user_id=pk,
                kind=Kind.QUESTION_READY,
                period=(day_of[zone] - timedelta(days=back)).isoformat(),
                local_date=day_of[zone] - timedelta(days=back),
                scheduled_for=at,
                status=Nudge.Status.SENT,
                attempts=1,
                sent_at=at,
                created_at=at,
            )
            for pk, zone in User.objects.values_list("pk", "timezone").iterator()
        ]
        Nudge.objects.bulk_create(rows, batch_size=INSERT_BATCH)
    assert Nudge.objects.count() == people * days


def reuse(people: int, slot: datetime) -> int | None:
    """--reuse: the people of the last run, if there are `people` of them, seeded
    today within a few hours and their zones still mid-day: the outbox emptied,
    `question_ready` due at `slot` again and the waiting partner_answered events due
    later. Returns the number eligible (None: seed afresh)."""
    zones = set(User.objects.values_list("timezone", flat=True).distinct())
    joined = User.objects.order_by("pk").values_list("date_joined", flat=True).first()
    if User.objects.count() != people or joined is None:
        return None
    seeded_at = joined + timedelta(days=1)  # seeding sets date_joined a day before its slot
    midday = all(
        MIDDAY[0] <= slot.astimezone(zoneinfo.ZoneInfo(zone)).hour < MIDDAY[1] for zone in zones
    )
    if not midday or slot - seeded_at > timedelta(hours=4):
        return None
    with transaction.atomic():
        # This script's rows, not the seeded history (all before today in every zone).
        today = min(local_date(zone, slot) for zone in zones)
        Nudge.objects.filter(local_date__gte=today).delete()
        schedules = NudgeSchedule.objects.all()
        schedules.filter(kind=Kind.QUESTION_READY).update(next_due_at=slot)
        schedules.filter(kind=Kind.PARTNER_ANSWERED, next_due_at__isnull=False).update(
            next_due_at=slot + EVENT_DELAY
        )
    if POSTGRESQL:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE nudges_nudge, nudges_nudgeschedule")
    return people - QuestionAnswer.objects.count()


# --- Measuring ---------------------------------------------------------------------


@dataclass
class Usage:
    """Wall time, this process's CPU time and the database backend's CPU time."""

    wall: float = 0.0
    cpu: float = 0.0
    server: float = 0.0

    def __str__(self) -> str:
        server = f", server {self.server:.1f} s" if POSTGRESQL else ""
        return f"{self.wall:.1f} s (cpu {self.cpu:.1f} s{server})"


@contextmanager
def measured(usage: Usage, profile: cProfile.Profile | None = None) -> Iterator[None]:
    """Wall and CPU time (all threads) into `usage`; the server's CPU time of this
    thread's connection too (run_tick replaces it with all the lanes' connections)."""
    server = backend_cpu_seconds()
    cpu, wall = time.process_time(), time.perf_counter()
    if profile is not None:
        profile.enable()
    try:
        yield
    finally:
        if profile is not None:
            profile.disable()
        usage.wall += time.perf_counter() - wall
        usage.cpu += time.process_time() - cpu
        usage.server += backend_cpu_seconds() - server


@dataclass
class Explainer:
    """A `connection.execute_wrapper` that runs EXPLAIN (ANALYZE, BUFFERS) on each
    statement of the chosen groups (a group starts at each statement `mark` picks: a
    batch), on the driver's own cursor (unseen by the query counter), in a savepoint
    or transaction rolled back before the real statement runs. Its time is measured,
    to be subtracted."""

    mark: Callable[[str], bool]
    groups: set[int]
    group: int = 0
    spent: float = 0.0
    plans: list[tuple[int, str, str]] = field(default_factory=list)
    seen: set[tuple[int, str]] = field(default_factory=set)  # (group, statement shape)

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if self.mark(sql):
            self.group += 1
        shape = (self.group, re.sub(r"\d+", "?", sql))
        explainable = sql.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE"))
        if explainable and not many and self.group in self.groups and shape not in self.seen:
            self.seen.add(shape)
            started = time.perf_counter()
            plan = explain_rolled_back(context, sql, params)
            self.plans.append((self.group, sql, plan))
            self.spent += time.perf_counter() - started
        return execute(sql, params, many, context)

    def print(self, title: str, names: Callable[[int], str]) -> None:
        indexes: Counter[str] = Counter()
        for group, sql, plan in self.plans:
            print(f"\n--- {title}, {names(group)}: {_cut(sql)}")
            print("\n".join(_cut(line) for line in plan.splitlines()))
            indexes.update(re.findall(r"(?:Index|Index Only) Scan (?:Backward )?using (\w+)", plan))
            indexes.update(re.findall(r"Bitmap Index Scan on (\w+)", plan))
        print(f"\n--- {title}: index scans: {dict(indexes)}")


def _cut(text: str, width: int = 200) -> str:
    """Arrays and IN lists inlined by the driver, cut short."""
    return text if len(text) <= width else text[:width] + " ..."


def is_tick_claim(sql: str) -> bool:
    """The tick's per-batch claim (the preferences rows of due people)."""
    return sql.lstrip().startswith("SELECT") and (
        'FROM "nudges_nudgepreferences"' in sql and '"nudges_nudgeschedule"' in sql
    )


@dataclass
class TickRun:
    usage: Usage
    queries: int
    per_batch: list[int]
    result: planning.TickResult


class _Backend:
    """One database connection seen by a tick (this thread's, or a lane thread's): its
    queries, grouped by batch, and its PostgreSQL backend's CPU time, read after each
    statement (the lane closes its connection when done, and the backend exits)."""

    def __init__(self, wrapper: Any) -> None:
        self.counter = QueryCounter(mark=is_tick_claim)
        self.pid = 0
        if POSTGRESQL:
            raw = wrapper.connection.cursor()  # the driver's own: not counted
            raw.execute("SELECT pg_backend_pid()")
            self.pid = raw.fetchone()[0]
            raw.close()
        self.started = self.last = process_cpu_seconds(self.pid) if self.pid else 0.0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        try:
            return self.counter(execute, sql, params, many, context)
        finally:
            if self.pid:
                self.last = process_cpu_seconds(self.pid) or self.last

    @property
    def server(self) -> float:
        return self.last - self.started


@contextmanager
def following_lanes(wrappers: Callable[[], list[Any]]) -> Iterator[None]:
    """Install `wrappers()` on this thread's connection and on every connection opened
    meanwhile (the tick's lane threads open their own)."""

    def install(sender: Any, connection: Any, **kwargs: Any) -> None:
        connection.execute_wrappers.extend(wrappers())

    connection.ensure_connection()
    mine = wrappers()
    connection.execute_wrappers.extend(mine)
    connection_created.connect(install)
    try:
        yield
    finally:
        connection_created.disconnect(install)
        for wrapper in mine:
            connection.execute_wrappers.remove(wrapper)


def run_tick(
    now: datetime,
    args: argparse.Namespace,
    profile: cProfile.Profile | None = None,
    explain: Callable[[], Explainer] | None = None,
) -> TickRun:
    """One tick with `args.lanes` lanes (one when profiling: cProfile sees one thread)."""
    backends: list[_Backend] = []
    explainers: list[Explainer] = []

    def wrappers() -> list[Any]:
        backend = _Backend(connection)
        backends.append(backend)
        if explain is None:
            return [backend]
        explainers.append(explain())
        return [backend, explainers[-1]]

    usage = Usage()
    lanes = 1 if profile is not None else args.lanes
    with following_lanes(wrappers), measured(usage, profile):
        result = planning.nudges_tick(now=now, batch_size=args.batch, lanes=lanes)
    usage.server = sum(backend.server for backend in backends)
    usage.wall -= sum(explainer.spent for explainer in explainers)
    if explainers:
        explainers[-1].print("tick", explain_names(args))  # the last lane's (or the only)
    per_batch: list[int] = []
    for backend in backends:
        # Each lane's last group is its claim that found nobody left (and `RESET jit`).
        per_batch += backend.counter.groups[:-1]
    queries = sum(backend.counter.count for backend in backends)
    return TickRun(usage, queries, per_batch, result)


def outbox_counts() -> Counter[str]:
    return Counter(dict(Nudge.objects.values_list("status").annotate(n=Count("id"))))


# --- Delivery --------------------------------------------------------------------


def is_delivery_claim(sql: str) -> bool:
    """Delivery's per-batch claim: the ids of due pending rows, in order (locked)."""
    return sql.startswith('SELECT "nudges_nudge"."id" AS "pk" FROM "nudges_nudge"') and (
        "ORDER BY" in sql
    )


def make_due(limit: int | None) -> int:
    """`limit` pending rows (or all) due now, the others tomorrow. Returns how many."""
    pending = Nudge.objects.filter(status=Nudge.Status.PENDING)
    now = timezone.now()
    with transaction.atomic():
        pending.update(next_attempt_at=now + timedelta(days=1))
        ids = pending.order_by("pk").values_list("pk", flat=True)
        last = ids[limit - 1] if limit is not None and limit < ids.count() else None
        due = pending if last is None else pending.filter(pk__lte=last)
        count = due.update(next_attempt_at=now)
    if POSTGRESQL:  # a clean pending index, as autovacuum keeps it
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE nudges_nudge")
    return count


@dataclass
class WorkerReport:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    queries: int = 0
    batches: int = 0
    usage: Usage = field(default_factory=Usage)


def deliver_here(
    batch: int, profile: cProfile.Profile | None = None, explain: Explainer | None = None
) -> WorkerReport:
    """Deliver as the task would (runs of at most 50 s) until nothing is due."""
    report = WorkerReport()
    counter = QueryCounter(mark=is_delivery_claim)
    with ExitStack() as stack:
        stack.enter_context(connection.execute_wrapper(counter))
        if explain is not None:
            stack.enter_context(connection.execute_wrapper(explain))
        stack.enter_context(measured(report.usage, profile))
        while pending_due_count(now=timezone.now(), limit=1):
            result: DeliveryResult = nudges_deliver(batch_size=batch)
            report.sent += result.sent
            report.skipped += result.skipped
            report.failed += result.failed + result.suppressed + result.retried
    if explain is not None:
        report.usage.wall -= explain.spent
    report.queries, report.batches = counter.count, len(counter.groups)
    return report


def _worker_main(batch: int, start: Any, reports: Any) -> None:
    connections.close_all()  # never the parent's connection: a fresh one
    start.wait()
    reports.put(deliver_here(batch))
    connections.close_all()


def deliver_parallel(workers: int, batch: int) -> tuple[float, list[WorkerReport]]:
    """`workers` processes delivering at once (forked: the parent's settings, the
    sink's address), each with its own connection. Returns wall time and reports."""
    connections.close_all()  # before forking: children must not share the socket
    context = multiprocessing.get_context("fork")
    start, reports = context.Event(), context.Queue()
    processes = [
        context.Process(target=_worker_main, args=(batch, start, reports)) for _ in range(workers)
    ]
    for process in processes:
        process.start()
    time.sleep(1.0)  # let each connect and import before the clock starts
    started = time.perf_counter()
    start.set()
    results = [reports.get() for _ in processes]
    wall = time.perf_counter() - started
    for process in processes:
        process.join()
    return wall, results


@dataclass
class DeliveryRun:
    workers: int
    emails: int
    wall: float
    reports: list[WorkerReport]
    connections: int
    received: int
    sink_cpu: float

    @property
    def sent(self) -> int:
        return sum(r.sent for r in self.reports)

    @property
    def queries(self) -> int:
        return sum(r.queries for r in self.reports)


def deliver(
    sink: Sink,
    workers: int,
    limit: int | None,
    batch: int,
    profile: cProfile.Profile | None,
    explain: Explainer | None,
) -> DeliveryRun:
    emails = make_due(limit)
    sent_before = Nudge.objects.filter(status=Nudge.Status.SENT).count()
    received, links, sink_cpu = sink.received.value, sink.connections.value, sink.cpu()
    if workers == 1:
        report = deliver_here(batch, profile, explain)
        wall, reports = report.usage.wall, [report]
    else:
        wall, reports = deliver_parallel(workers, batch)
    run = DeliveryRun(
        workers,
        emails,
        wall,
        reports,
        sink.connections.value - links,
        sink.received.value - received,
        sink.cpu() - sink_cpu,
    )
    sent_rows = Nudge.objects.filter(status=Nudge.Status.SENT).count() - sent_before
    cpu = sum(r.usage.cpu for r in reports)
    server = sum(r.usage.server for r in reports)
    print(
        f"deliver: {workers} worker(s)  {wall:6.1f} s  {run.sent:,} emails  "
        f"{run.sent / max(wall, 1e-9):,.0f} emails/s  "
        f"{sum(r.batches for r in reports)} batches of {batch}  "
        f"{run.connections} SMTP connections  {run.queries:,} queries "
        f"({run.queries / max(run.sent, 1):.2f} per email)  "
        f"cpu {cpu:.1f} s, server {server:.1f} s, sink {run.sink_cpu:.1f} s  "
        f"skipped {sum(r.skipped for r in reports)}, failed {sum(r.failed for r in reports)}"
    )
    print(f"         sink received {run.received:,}; outbox rows sent {sent_rows:,}")
    assert run.received == sent_rows == run.sent == emails, (run.received, sent_rows, emails)
    return run


def print_profile(profile: cProfile.Profile, title: str, lines: int) -> None:
    print(f"\n--- profile: {title} (top {lines} by cumulative and by own time) ---")
    stats = pstats.Stats(profile, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(lines)
    stats.sort_stats("tottime").print_stats(lines)


# --- Main --------------------------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument(
        "--deliver", default="10000", help="emails per delivery run: a number, or 'all'"
    )
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1], help="worker processes, per run"
    )
    parser.add_argument("--batch", type=int, default=planning.BATCH_SIZE, help="tick batch")
    parser.add_argument(
        "--lanes", type=int, default=planning.LANES, help="tick lanes (planning.LANES)"
    )
    parser.add_argument(
        "--deliver-batch",
        type=int,
        default=settings.NUDGE_DELIVERY_BATCH,
        help="delivery batch size (rows per claim and SMTP connection)",
    )
    parser.add_argument(
        "--answered",
        type=float,
        default=0.1,
        help="fraction of couples where one partner already answered (default 0.1)",
    )
    parser.add_argument(
        "--history-days",
        type=int,
        default=1,
        help="days of sent nudges per person before today (default 1)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the tick and delivery")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the tick and delivery")
    parser.add_argument("--reuse", action="store_true", help="keep the last run's people")
    # What the tick's JIT switch buys, measured by turning it off.
    parser.add_argument(
        "--jit", action="store_true", help="leave PostgreSQL's JIT on for the tick's statements"
    )
    return parser.parse_args()


def untune(args: argparse.Namespace) -> None:
    """Turn off the tuning the flags name, for a side-by-side run."""
    if args.jit:
        planning._without_jit = nullcontext  # type: ignore[assignment]


def prepare(args: argparse.Namespace, people: int) -> tuple[datetime, int]:
    """Seeds (or reuses) the people; returns the due time and how many are eligible."""
    now = timezone.now().replace(microsecond=0)
    slot = now - timedelta(seconds=5)
    eligible = reuse(people, slot) if args.reuse else None
    if eligible is not None:
        print(f"reused {people:,} people")
        return slot, eligible
    reset()
    zones = pick_zones(now)
    seeded, eligible = seed(args, zones, slot)
    print(f"zones:  {', '.join(zones)}")
    print(f"seeded {people:,} people ({people // 2:,} couples) in {seeded:.1f} s")
    if SEEDING:
        print("        " + ", ".join(f"{name} {sec:.1f} s" for name, sec in SEEDING.items()))
    return slot, eligible


def explain_names(args: argparse.Namespace) -> Callable[[int], str]:
    """Names of the groups --explain picks in one lane (see `lane_groups`)."""
    last = lane_batches(args)
    names = {0: "before the first batch", 1: "batch 1", last: f"batch {last}"}
    return lambda group: names.get(group, "the empty claim")


def lane_batches(args: argparse.Namespace) -> int:
    lane_people = math.ceil(args.people / args.lanes)  # ids are consecutive: even lanes
    return math.ceil(lane_people / args.batch)


def lane_groups(args: argparse.Namespace) -> set[int]:
    """Before the first claim (lease recovery), the first batch, the last, the empty claim."""
    return {0, 1, lane_batches(args), lane_batches(args) + 1}


def explain_checks(batch: int) -> None:
    """--explain: every registered eligibility check, asked about one batch of people."""
    now = timezone.now()
    people = User.objects.order_by("pk").values_list("pk", "timezone")[:batch]
    recipients = [Recipient(pk, local_date(zone, now)) for pk, zone in people]
    for kind in Kind:
        explainer = Explainer(lambda sql: False, {0})
        with connection.execute_wrapper(explainer):
            eligible = kinds.eligible(kind.value, recipients, now)
        print(f"\n=== eligibility check {kind.value}: {len(eligible):,} of {len(recipients):,}")
        explainer.print(f"check {kind.value}", lambda group: "one batch")


def tick_phase(args: argparse.Namespace, slot: datetime, eligible: int) -> list[TickRun]:
    """The tick, the tick again, the replay: checked, printed, returned."""
    profile = cProfile.Profile() if args.profile else None
    explain = None
    if args.explain and POSTGRESQL:
        explain = lambda: Explainer(is_tick_claim, lane_groups(args))  # noqa: E731
    history = sum(outbox_counts().values())
    tick = run_tick(timezone.now(), args, profile, explain)
    counts = outbox_counts()
    counts[Nudge.Status.SENT] -= history  # this tick's rows only
    rows = sum(counts.values())
    result, per_batch = tick.result, tick.per_batch
    lanes = 1 if profile is not None else args.lanes
    print(
        f"tick:   {tick.usage}  {result.people:,} people  "
        f"{result.people / tick.usage.wall:,.0f} people/s  {tick.queries:,} queries  "
        f"{rows:,} outbox rows ({dict(+counts)}; {history:,} before)"
    )
    print(
        f"        {result.batches} batches in {lanes} lane(s); queries per batch of "
        f"{args.batch:,}: min {min(per_batch)}, max {max(per_batch)}; "
        f"{tick.queries - sum(per_batch)} outside batches"
    )
    assert result.people == args.people, result
    assert result.planned == eligible == counts[Nudge.Status.PENDING], (result, eligible)
    assert len(per_batch) == result.batches, (per_batch, result)
    assert min(per_batch) == max(per_batch)
    if profile is not None:
        print_profile(profile, "tick (one lane)", 30)

    again = run_tick(timezone.now(), args)
    print(f"again:  {again.usage}  {again.queries:,} queries  ({again.result})")
    assert again.result.planned == 0
    assert sum(outbox_counts().values()) == history + rows

    # A second beat that read the same due rows: rewind them and tick once more.
    NudgeSchedule.objects.filter(kind=Kind.QUESTION_READY).update(next_due_at=slot)
    replay = run_tick(timezone.now(), args)
    print(
        f"replay: {replay.usage}  {replay.queries:,} queries  "
        f"{replay.result.people:,} people, planned {replay.result.planned} "
        f"(rows rewound; the unique key and history keep it at zero)"
    )
    assert replay.result.planned == 0
    assert sum(outbox_counts().values()) == history + rows
    return [tick, again, replay]


def delivery_phase(args: argparse.Namespace, sink: Sink) -> list[DeliveryRun]:
    limit = None if args.deliver == "all" else int(args.deliver)
    sink.use()
    profile = cProfile.Profile() if args.profile else None
    runs: list[DeliveryRun] = []
    for workers in args.workers:
        first = not runs and workers == 1
        explain = None
        if args.explain and POSTGRESQL and first:
            explain = Explainer(is_delivery_claim, {1})
        runs.append(
            deliver(sink, workers, limit, args.deliver_batch, profile if first else None, explain)
        )
        if explain is not None:
            explain.print("delivery", lambda group: "batch 1")
    if profile is not None and args.workers[0] == 1:
        print_profile(profile, "delivery (one worker)", 30)
    return runs


def summary(args: argparse.Namespace, ticks: list[TickRun], runs: list[DeliveryRun]) -> None:
    tick, again, replay = ticks
    people, rows = tick.result.people, tick.result.planned + tick.result.skipped
    print()
    print(
        "| people | lanes | tick | people/s | queries | per batch | outbox rows | again | replay |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {people:,} | {1 if args.profile else args.lanes} | {tick.usage.wall:.1f} s "
        f"| {people / tick.usage.wall:,.0f} | {tick.queries:,} | {max(tick.per_batch)} "
        f"| {rows:,} | {again.usage.wall:.2f} s, {again.queries} queries "
        f"| {replay.usage.wall:.1f} s, 0 planned |"
    )
    print()
    print("| workers | emails | delivery | emails/s | SMTP connections | queries per email |")
    print("|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        print(
            f"| {run.workers} | {run.sent:,} | {run.wall:.1f} s "
            f"| {run.sent / max(run.wall, 1e-9):,.0f} | {run.connections} "
            f"| {run.queries / max(run.sent, 1):.2f} |"
        )


def main() -> None:
    args = arguments()
    args.people -= args.people % 2
    if not POSTGRESQL:
        args.lanes = 1  # the tick runs one lane on SQLite (planning.nudges_tick)
    guard()
    untune(args)
    sink = Sink().start()  # forked before any database connection exists
    try:
        print(f"database: {connection.vendor} ({settings.DATABASES['default']['NAME']})")
        slot, eligible = prepare(args, args.people)
        if args.explain and POSTGRESQL:
            explain_checks(args.batch)
        ticks = tick_phase(args, slot, eligible)
        runs = delivery_phase(args, sink)
        summary(args, ticks, runs)
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
