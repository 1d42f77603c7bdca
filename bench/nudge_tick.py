"""Benchmark: plan nudges for 100,000 people in one tick, then deliver them to a local
SMTP sink. Prints people/s for planning and emails/s for delivery.

Seeds N people in N/2 couples (bulk inserts: no per-row saves, no signals), each
couple with today's open daily question, and every person with nudge preferences and
one schedule row per kind: `question_ready` due a few seconds ago for everyone, the
other kinds off or due later. Zones are picked at start so that it is mid-day locally
everywhere (never quiet hours, never a day boundary), and a fraction of couples has
one partner who already answered, so the real eligibility check has people to drop.

Then:
1. one `nudges_tick` (time, people/s, queries, queries per batch: a constant);
2. the tick again (nothing due: plans nothing), and a *replay* with every
   `question_ready` row rewound to its old due time, as a second beat that read the
   same rows would see them: the outbox unique key and history make it plan nothing;
3. `nudges_deliver` until the chosen number of emails has gone to an aiosmtpd sink
   on 127.0.0.1 (its own process; it only counts): emails/s, SMTP connections,
   queries per email, and a check that the sink received exactly the rows marked sent.

    psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE nuzzle_bench"   # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nuzzle_bench \\
        .venv/bin/python bench/nudge_tick.py --people 100000

Options: --people N (default 100,000), --deliver N|all (default 10,000; rows past N
wait a day), --batch (tick batch, 1,000), --deliver-batch (rows per claim and SMTP
connection; NUDGE_DELIVERY_BATCH), --answered (share of couples where one partner
already answered; 0.1), --profile (cProfile of the tick and of delivery).

Without DATABASE_URL it uses var/bench.sqlite3. The database is flushed first, so it
refuses any database whose name does not contain "bench". LOG_LEVEL defaults to
WARNING here (delivery logs a line per email at INFO).
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import os
import pstats
import sys
import time
import zoneinfo
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nuzzle.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from nuzzle.couples.models import Couple, Membership, User
from nuzzle.nudges.delivery import DeliveryResult, nudges_deliver, pending_due_count
from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.models import Nudge, NudgePreferences, NudgeSchedule
from nuzzle.nudges.planning import nudges_tick
from nuzzle.nudges.schedule import ALL_DAYS, Rules, next_recap_slot, next_slot
from prompts.daily import closes_at_for
from prompts.models import DailyQuestion, Prompt, QuestionAnswer
from prompts.services import prompt_bank_load
from tests.nudges.smtp import HOST, free_port

CHUNK = 5_000  # couples per seeding transaction
INSERT_BATCH = 5_000  # rows per INSERT statement
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


class QueryCounter:
    """Counts queries; `mark` (a predicate on the SQL) starts a new group, so the
    counts per batch can be read back from `groups`."""

    def __init__(self, mark=None) -> None:  # type: ignore[no-untyped-def]
        self.count = 0
        self.mark = mark
        self.groups: list[int] = []

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.count += 1
        if self.mark is not None and self.mark(sql):
            self.groups.append(0)
        if self.groups:
            self.groups[-1] += 1
        return execute(sql, params, many, context)


# --- The SMTP sink (its own process, so it does not share the GIL with Django) -------


def _sink_main(port: int, received, connections, parent: int) -> None:  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_EHLO(self, server, session, envelope, hostname, responses):  # type: ignore[no-untyped-def]
            with connections.get_lock():
                connections.value += 1
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


def guard() -> None:
    name = str(settings.DATABASES["default"]["NAME"])
    if "bench" not in name:
        sys.exit(f"refusing to flush {name!r}: the benchmark database's name contains 'bench'")


def reset() -> None:
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)  # its own database: all of it
    prompt_bank_load()


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


def is_answered(index: int, fraction: float) -> bool:
    """Spread `fraction` of couples evenly (deterministic)."""
    return int((index + 1) * fraction) > int(index * fraction)


def seed(people: int, zones: list[str], slot: datetime, answered: float) -> tuple[float, int]:
    """Returns the seeding time and the number of people eligible for question_ready."""
    started = time.perf_counter()
    couples = people // 2
    prompts = list(
        Prompt.objects.filter(kind=Prompt.Kind.QUESTION, status=Prompt.Status.PUBLISHED)
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert prompts, "the prompt bank has no published questions"
    # Per zone: the person's rules (nudge time = the slot's local wall time), today's
    # couple date and when it closes, and each kind's next due time.
    plan = {}
    for name in zones:
        local = slot.astimezone(zoneinfo.ZoneInfo(name))
        rules = Rules(timezone=name, nudge_time=local.time())
        plan[name] = {
            "rules": rules,
            "day": local.date(),
            "closes_at": closes_at_for(local.date(), name),
            "tomorrow": next_slot(rules, slot),
            "recap": next_recap_slot(rules, slot),
        }
    last_active = slot - timedelta(days=1)
    event_due = slot + timedelta(minutes=15)
    eligible = 0
    for start in range(0, couples, CHUNK):
        size = min(CHUNK, couples - start)
        with transaction.atomic():
            zone_of = [zones[(start + i) % len(zones)] for i in range(size)]
            users = User.objects.bulk_create(
                [
                    User(
                        email=f"p{(start + i) * 2 + side}@bench.invalid",
                        display_name=("Sam", "Alex")[side],
                        timezone=zone_of[i],
                        password="!",  # unusable
                        date_joined=last_active,
                    )
                    for i in range(size)
                    for side in (0, 1)
                ],
                batch_size=INSERT_BATCH,
            )
            made = Couple.objects.bulk_create(
                [Couple(timezone=zone_of[i], created_at=last_active) for i in range(size)],
                batch_size=INSERT_BATCH,
            )
            if made[0].pk is None:  # backends without RETURNING ids
                made = list(Couple.objects.order_by("-id")[:size])[::-1]
                users = list(
                    User.objects.filter(email__endswith="@bench.invalid").order_by("-id")[
                        : size * 2
                    ]
                )[::-1]
            Membership.objects.bulk_create(
                [
                    Membership(couple=couple, user=users[2 * i + side], joined_at=last_active)
                    for i, couple in enumerate(made)
                    for side in (0, 1)
                ],
                batch_size=INSERT_BATCH,
            )
            questions = DailyQuestion.objects.bulk_create(
                [
                    DailyQuestion(
                        couple=couple,
                        prompt_id=prompts[(start + i) % len(prompts)],
                        couple_date=plan[zone_of[i]]["day"],
                        status=DailyQuestion.Status.OPEN,
                        closes_at=plan[zone_of[i]]["closes_at"],
                    )
                    for i, couple in enumerate(made)
                ],
                batch_size=INSERT_BATCH,
            )
            if questions[0].pk is None:
                questions = list(DailyQuestion.objects.order_by("-id")[:size])[::-1]
            answered_couples = [i for i in range(size) if is_answered(start + i, answered)]
            # Side 0 answered: side 1 still gets question_ready (with partner_answered)
            # and has a partner_answered event waiting for later today.
            QuestionAnswer.objects.bulk_create(
                [
                    QuestionAnswer(question=questions[i], author=users[2 * i], text="(bench)")
                    for i in answered_couples
                ],
                batch_size=INSERT_BATCH,
            )
            eligible += size * 2 - len(answered_couples)
            waiting_event = {users[2 * i + 1].pk for i in answered_couples}
            NudgePreferences.objects.bulk_create(
                [
                    NudgePreferences(
                        user=user,
                        nudge_time=plan[zone_of[n // 2]]["rules"].nudge_time,
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
                zone = plan[zone_of[n // 2]]
                due = {
                    Kind.QUESTION_READY: (True, slot),
                    Kind.PARTNER_ANSWERED: (
                        True,
                        event_due if user.pk in waiting_event else None,
                    ),
                    Kind.WEEKLY_RECAP: (True, zone["recap"]),
                    Kind.LOVEMAP_STALE: (True, zone["tomorrow"]),
                    Kind.LOVEMAP_CATCHUP: (True, zone["tomorrow"]),
                    Kind.CHECKIN_REMINDER: (False, zone["tomorrow"]),
                }
                rows.extend(
                    NudgeSchedule(user=user, kind=kind, enabled=on, next_due_at=at)
                    for kind, (on, at) in due.items()
                )
            NudgeSchedule.objects.bulk_create(rows, batch_size=INSERT_BATCH)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would have by now
    return time.perf_counter() - started, eligible


# --- Planning --------------------------------------------------------------------


def _claim_query(sql: str) -> bool:
    """The tick's per-batch claim (the preferences rows of due people)."""
    return sql.lstrip().startswith("SELECT") and (
        'FROM "nudges_nudgepreferences"' in sql and '"nudges_nudgeschedule"' in sql
    )


def run_tick(now: datetime, batch: int, profile: cProfile.Profile | None = None):  # type: ignore[no-untyped-def]
    counter = QueryCounter(mark=_claim_query)
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        if profile is not None:
            profile.enable()
        result = nudges_tick(now=now, batch_size=batch)
        if profile is not None:
            profile.disable()
        elapsed = time.perf_counter() - started
    # The last group is the claim that found nobody left.
    per_batch = counter.groups[:-1] if len(counter.groups) > result.batches else counter.groups
    return elapsed, counter.count, per_batch, result


def outbox_counts() -> Counter[str]:
    return Counter(dict(Nudge.objects.values_list("status").annotate(n=Count("id"))))


# --- Delivery --------------------------------------------------------------------


def _delivery_claim(sql: str) -> bool:
    """Delivery's per-batch claim: pending rows turned over to one claim token."""
    return sql.startswith('UPDATE "nudges_nudge" SET "status" = %s, "claim_token" = %s, "lease')


def deliver(limit: int | None, batch: int, profile: cProfile.Profile | None = None):  # type: ignore[no-untyped-def]
    """Hand `limit` pending rows (or all) to delivery; the rest wait a day."""
    pending = Nudge.objects.filter(status=Nudge.Status.PENDING)
    if limit is not None and limit < pending.count():
        cutoff = pending.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[limit]
        pending.filter(pk__gte=cutoff).update(next_attempt_at=timezone.now() + timedelta(days=1))
    total = DeliveryResult()
    runs = 0
    counter = QueryCounter(mark=_delivery_claim)
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        if profile is not None:
            profile.enable()
        # As the deliver task would: runs of at most 50 s each, until nothing is due.
        while pending_due_count(now=timezone.now(), limit=1):
            result = nudges_deliver(batch_size=batch)
            runs += 1
            for name in ("sent", "retried", "suppressed", "skipped", "failed"):
                setattr(total, name, getattr(total, name) + getattr(result, name))
        if profile is not None:
            profile.disable()
        elapsed = time.perf_counter() - started
    return elapsed, counter.count, counter.groups, runs, total


def print_profile(profile: cProfile.Profile, title: str, lines: int) -> None:
    print(f"\n--- profile: {title} (top {lines} by cumulative time) ---")
    stats = pstats.Stats(profile, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(lines)
    stats.sort_stats("tottime").print_stats(lines)


# --- Main --------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument(
        "--deliver", default="10000", help="emails to deliver: a number, or 'all' (default 10000)"
    )
    parser.add_argument("--batch", type=int, default=1000, help="tick batch size (people)")
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
    parser.add_argument("--profile", action="store_true", help="cProfile the tick and delivery")
    args = parser.parse_args()
    limit = None if args.deliver == "all" else int(args.deliver)
    people = args.people - args.people % 2

    guard()
    sink = Sink().start()  # forked before any database connection exists
    try:
        print(f"database: {connection.vendor} ({settings.DATABASES['default']['NAME']})")
        reset()
        seed_now = timezone.now().replace(microsecond=0)
        zones = pick_zones(seed_now)
        slot = seed_now - timedelta(seconds=5)
        seeded, eligible = seed(people, zones, slot, args.answered)
        print(f"zones:  {', '.join(zones)}")
        print(f"seeded {people:,} people ({people // 2:,} couples) in {seeded:.1f} s")

        tick_profile = cProfile.Profile() if args.profile else None
        deliver_profile = cProfile.Profile() if args.profile else None
        now = timezone.now()
        elapsed, queries, per_batch, result = run_tick(now, args.batch, tick_profile)
        counts = outbox_counts()
        rows = sum(counts.values())
        print(
            f"tick:   {elapsed:6.1f} s  {result.people:,} people  "
            f"{result.people / elapsed:,.0f} people/s  {queries:,} queries  "
            f"{rows:,} outbox rows ({dict(counts)})"
        )
        print(
            f"        {result.batches} batches; queries per batch of {args.batch:,}: "
            f"min {min(per_batch)}, max {max(per_batch)}; "
            f"{queries - sum(per_batch)} outside batches"
        )
        assert result.people == people, result
        assert result.planned == eligible == counts[Nudge.Status.PENDING], (result, eligible)
        assert min(per_batch) == max(per_batch) or len(per_batch) == 1

        again, queries_again, _, result_again = run_tick(timezone.now(), args.batch)
        print(f"again:  {again:6.2f} s  {queries_again:,} queries  ({result_again})")
        assert result_again.planned == 0
        assert sum(outbox_counts().values()) == rows

        # A second beat that read the same due rows: rewind them and tick once more.
        NudgeSchedule.objects.filter(kind=Kind.QUESTION_READY).update(next_due_at=slot)
        replay, queries_replay, _, result_replay = run_tick(timezone.now(), args.batch)
        print(
            f"replay: {replay:6.1f} s  {queries_replay:,} queries  "
            f"{result_replay.people:,} people, planned {result_replay.planned} "
            f"(rows rewound; the unique key and history keep it at zero)"
        )
        assert result_replay.planned == 0
        assert sum(outbox_counts().values()) == rows

        sink.use()
        d_elapsed, d_queries, d_groups, runs, delivered = deliver(
            limit, args.deliver_batch, deliver_profile
        )
        sent_rows = Nudge.objects.filter(status=Nudge.Status.SENT).count()
        print(
            f"deliver: {d_elapsed:6.1f} s  {delivered.sent:,} emails  "
            f"{delivered.sent / max(d_elapsed, 1e-9):,.0f} emails/s  {runs} deliver runs  "
            f"{len(d_groups)} batches of {args.deliver_batch}  "
            f"{sink.connections.value} SMTP connections  {d_queries:,} queries "
            f"({d_queries / max(delivered.sent, 1):.2f} per email)  {delivered}"
        )
        print(f"         sink received {sink.received.value:,}; outbox rows sent {sent_rows:,}")
        assert sink.received.value == sent_rows == delivered.sent
        if limit is not None:
            assert delivered.sent == min(limit, rows)

        per_person = result.people / elapsed
        per_email = d_queries / max(delivered.sent, 1)
        email_rate = delivered.sent / max(d_elapsed, 1e-9)
        print()
        print("| people | tick | people/s | queries | per batch | outbox rows | again | replay |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        print(
            f"| {people:,} | {elapsed:.1f} s | {per_person:,.0f} | {queries:,} "
            f"| {max(per_batch)} | {rows:,} | {again:.2f} s, {queries_again} queries "
            f"| {replay:.1f} s, 0 planned |"
        )
        print()
        print("| emails | delivery | emails/s | SMTP connections | queries per email | sink |")
        print("|---:|---:|---:|---:|---:|---:|")
        print(
            f"| {delivered.sent:,} | {d_elapsed:.1f} s | {email_rate:,.0f} "
            f"| {sink.connections.value} | {per_email:.2f} | {sink.received.value:,} |"
        )
    finally:
        sink.stop()

    if tick_profile is not None and deliver_profile is not None:
        print_profile(tick_profile, "tick", 30)
        print_profile(deliver_profile, "delivery", 30)


if __name__ == "__main__":
    main()
