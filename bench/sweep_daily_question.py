"""Benchmark: the daily-question sweep for many couples (set-based, batched).

Seeds N couples (bulk inserts), runs one sweep, and prints the time and the number
of queries; then runs it again (idempotent: nothing to do). The query count must not
grow with the number of couples beyond batching (a constant per batch of 1,000).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nuzzle_bench \\
        .venv/bin/python bench/sweep_daily_question.py --couples 100000

Without DATABASE_URL it uses var/bench.sqlite3. The database is reset first (never
point this at real data).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nuzzle.settings")

import django

django.setup()

from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from nuzzle.couples.models import Couple, Membership, User
from prompts.daily import daily_question_sweep
from prompts.models import DailyQuestion, QuestionSchedule
from prompts.services import prompt_bank_load

ZONES = ["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC"]


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.count += 1
        return execute(sql, params, many, context)


def reset() -> None:
    call_command("migrate", verbosity=0)
    with transaction.atomic():
        DailyQuestion.objects.all().delete()
        QuestionSchedule.objects.all().delete()
        Membership.objects.all().delete()
        Couple.objects.all().delete()
        User.objects.filter(email__endswith="@bench.invalid").delete()
    prompt_bank_load()


def seed(couples: int) -> float:
    started = time.perf_counter()
    now = timezone.now()
    chunk = 10_000
    for start in range(0, couples, chunk):
        size = min(chunk, couples - start)
        with transaction.atomic():
            users = User.objects.bulk_create(
                [
                    User(
                        email=f"p{start * 2 + i}@bench.invalid",
                        display_name="Bench",
                        timezone=ZONES[i % len(ZONES)],
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
            if made[0].pk is None:  # backends without RETURNING ids
                made = list(Couple.objects.order_by("-id")[:size])[::-1]
                users = list(
                    User.objects.filter(email__endswith="@bench.invalid").order_by("-id")[
                        : size * 2
                    ]
                )[::-1]
            Membership.objects.bulk_create(
                [
                    Membership(couple=couple, user=users[2 * i + side], joined_at=now)
                    for i, couple in enumerate(made)
                    for side in (0, 1)
                ]
            )
    return time.perf_counter() - started


def run_sweep(batch_size: int) -> tuple[float, int, object]:
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        result = daily_question_sweep(batch_size=batch_size)
        elapsed = time.perf_counter() - started
    return elapsed, counter.count, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--couples", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()

    print(f"database: {connection.vendor}")
    reset()
    seeded = seed(args.couples)
    print(f"seeded {args.couples:,} couples in {seeded:.1f} s")
    elapsed, queries, result = run_sweep(args.batch_size)
    assigned = DailyQuestion.objects.count()
    print(
        f"sweep:  {elapsed:6.1f} s  {queries:6,} queries  {assigned:,} questions assigned  "
        f"({assigned / elapsed:,.0f} couples/s; {result})"
    )
    per_batch = queries / max(getattr(result, "batches", 1), 1)
    print(f"        {per_batch:.1f} queries per batch of {args.batch_size:,} couples")
    again, queries_again, result_again = run_sweep(args.batch_size)
    print(f"again:  {again:6.2f} s  {queries_again:6,} queries  ({result_again})")
    assert DailyQuestion.objects.count() == assigned, "a second sweep must assign nothing"


if __name__ == "__main__":
    main()
