"""The daily-question sweep, run every minute by beat (prompts.tasks): it quietly closes
questions left unanswered for three days, then assigns each couple whose next couple
day begins within twelve hours its question (prompts.assignment), a batch at a time.

Set-based and idempotent: the couples due are read from the `due_at` index, a batch
per query, and each batch's writes skip conflicts on (couple, couple day), so a sweep
run twice, or two beats at once, assigns nothing twice. On PostgreSQL one batch is
written while the next is read and chosen (`nuzzle.lib.sql.PipelinedWriter`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import FilteredRelation, Max, Q
from django.utils import timezone

from nuzzle.couples.models import Couple
from nuzzle.lib import sql
from prompts import assignment, selection
from prompts.assignment import CoupleRef
from prompts.history import HistorySummary
from prompts.models import DailyQuestion, QuestionSchedule

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
# Couples without a schedule row (new ones) are looked for among this many of the
# newest couples each minute (far more than pair in a minute), among all once an hour.
NEW_COUPLES_WINDOW = 10_000


@dataclass(frozen=True)
class SweepResult:
    couples: int
    batches: int
    closed: int
    assigned: int = 0  # questions inserted (see assignment.questions_assign)


def _due_couple_ids(now: datetime) -> list[int]:
    """Ids of the couples whose question may be due, in order (two queries): those whose
    schedule is due, read from the due_at index (in most minutes, nothing), and those
    without a schedule yet. New couples are looked for among the newest
    NEW_COUPLES_WINDOW couples every minute, and among all of them at the top of each
    hour (for one whose pairing committed late, or whose schedule row was deleted):
    a minute's sweep never reads every couple. Ended couples drop out batch by batch."""
    since = 0
    if now.minute != 0:
        # Read first (one index probe): as a constant, the planner sees how few couples
        # lie past it; as a subquery it would hash every schedule row each minute.
        newest = Couple.objects.aggregate(newest=Max("id"))["newest"] or 0
        since = newest - NEW_COUPLES_WINDOW
    schedule = FilteredRelation(
        "question_schedule", condition=Q(question_schedule__couple_id__gt=since)
    )
    unscheduled = (
        Couple.objects.active().alias(schedule=schedule).filter(schedule__isnull=True, id__gt=since)
    )
    due = QuestionSchedule.objects.filter(due_at__lte=now).values_list("couple_id", flat=True)
    return sorted(due.union(unscheduled.values_list("id", flat=True)))


def _due_batches(now: datetime, batch_size: int) -> Iterable[list[CoupleRef]]:
    """The due couples in batches by id, each read with its zone and history summary
    (one query per batch), still active and still due (another sweep may have been
    quicker). Schedules of couples found ended are deleted: they are never due again."""
    ids = _due_couple_ids(now)
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        # The join is bounded by the batch's id range on the schedule's side too: a hash
        # join would otherwise read the whole schedule table for every batch.
        schedule = FilteredRelation(
            "question_schedule",
            condition=Q(
                question_schedule__couple_id__gte=chunk[0],
                question_schedule__couple_id__lte=chunk[-1],
            ),
        )
        rows = (
            Couple.objects.active()
            .filter(sql.ids_in("id", chunk))
            .alias(schedule=schedule)
            .filter(Q(schedule__isnull=True) | Q(schedule__due_at__lte=now))
            .values_list(
                "id",
                "timezone",
                "schedule__history_through",
                "schedule__history_answered",
                "schedule__history_asked",
                "schedule__history_recent",
            )
        )
        batch = [CoupleRef(row[0], row[1], HistorySummary.from_db(*row[2:])) for row in rows]
        if len(batch) < len(chunk):
            found = {couple.id for couple in batch}
            QuestionSchedule.objects.filter(
                couple_id__in=[i for i in chunk if i not in found], couple__ended_at__isnull=False
            ).delete()
        if batch:
            yield batch


def daily_question_sweep(
    *, now: datetime | None = None, batch_size: int = BATCH_SIZE
) -> SweepResult:
    """Assign today's question to every couple whose local day has begun, and quietly
    close questions left unanswered for three days. Set-based and idempotent."""
    now = now or timezone.now()
    closed = DailyQuestion.objects.filter(
        status=DailyQuestion.Status.OPEN, closes_at__lte=now, revealed_at__isnull=True
    ).update(status=DailyQuestion.Status.CLOSED)
    index: selection.CandidateIndex | None = None
    couples = batches = 0
    # Batches are disjoint slices of one sorted list of couple ids: a batch read while
    # the previous one is being written sees nothing of it that matters.
    with sql.PipelinedWriter(assignment.plan_write, thread_name="question-sweep") as writer:
        for batch in _due_batches(now, batch_size):
            if index is None:  # the bank, indexed once for the whole sweep
                index = selection.CandidateIndex(assignment.question_candidates())
            writer.submit(assignment.questions_plan(batch, now, index))
            couples += len(batch)
            batches += 1
    assigned = writer.written
    logger.info(
        "daily question sweep: couples=%s batches=%s closed=%s assigned=%s",
        couples,
        batches,
        closed,
        assigned,
    )
    return SweepResult(couples=couples, batches=batches, closed=closed, assigned=assigned)
