"""Writes for the daily question: assignment (by the sweep and on first view),
answers with mutual reveal, passing, reactions and quiet closing.

Assignment is set-based: for a batch of couples the history needed to choose comes
from a fixed number of queries and a bounded number of rows per couple (the summary
on the schedule row, prompts.history, plus the last few days), the choices are made
in Python over a bank indexed once per sweep (prompts.selection), and rows go in with
one insert that skips conflicts: the partial unique index (one live question per
couple-day) makes a second sweep, a second beat or a concurrent first view assign
nothing twice. On PostgreSQL the insert and the schedule upsert are single
`INSERT ... SELECT FROM unnest(...)` statements; elsewhere (SQLite) the ORM's
`bulk_create`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, FilteredRelation, Max, OuterRef, Q, Subquery
from django.utils import timezone

from nuzzle.couples.models import Couple, Membership, User
from nuzzle.couples.scoping import couple_context
from nuzzle.couples.selectors import couple_day_today
from nuzzle.lib import sql
from nuzzle.lib.choices import Reaction
from nuzzle.lib.errors import Conflict, NotFound
from nuzzle.lib.timezones import local_date, local_midnight
from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.services import activity_note, nudge_enqueue
from prompts import selection
from prompts.history import (
    EMPTY_HISTORY,
    RECENT_DIMENSIONS,
    Asked,
    HistorySummary,
    history_fold,
    unfolded_questions,
)
from prompts.models import (
    DailyQuestion,
    Prompt,
    QuestionAnswer,
    QuestionReaction,
    QuestionSchedule,
)

logger = logging.getLogger(__name__)

OPEN_DAYS = 3
BATCH_SIZE = 5000
# A question is *settled*, and may be folded into its couple's history summary
# (prompts.history), once it closed at least this long ago: by then no transaction
# that could still reveal it (question_answer checks closes_at when it starts) is open.
SETTLE_GRACE = timedelta(days=1)
# The summary never reaches a couple's last few days: new rows are only ever written
# for couple days from the day before the zone's today (a partner ahead of the zone)
# to the day after it (the sweep's LEAD), and a change of zone moves today back by at
# most two days (UTC-12 to UTC+14), so no row can appear on or before a folded date
# later.
SETTLE_LAG_DAYS = OPEN_DAYS + 2
# Couples without a schedule row (new ones) are looked for among this many of the
# newest couples each minute (far more than pair in a minute), among all once an hour.
NEW_COUPLES_WINDOW = 10_000

# Love maps (a higher layer) register a function here that returns, for couple ids,
# the domain where each couple's knowledge is stalest. Prompts never import lovemaps.
stalest_domain_providers: list[Callable[[Sequence[int]], dict[int, str]]] = []


def closes_at_for(day: date, tz_name: str) -> datetime:
    """Open on its own day and the next two; closed from the fourth local midnight."""
    return local_midnight(day + timedelta(days=OPEN_DAYS), tz_name)


# A partner's local day may belong to a couple day up to twelve hours before that day
# begins in the couple's zone (docs/days.md: a day belongs to the couple day it overlaps
# most). The sweep assigns each couple day's question this long before its midnight,
# so it is there, and nudged about, from the first moment either partner lives it.
LEAD = timedelta(hours=12)


class ZoneDay(NamedTuple):
    day: date  # the couple day the sweep assigns at the instant
    closes_at: datetime  # when that day's question closes
    next_due: datetime  # when the next couple day is due (LEAD before its midnight)


@lru_cache(maxsize=4096)
def zone_day(tz_name: str, now: datetime) -> ZoneDay:
    """The couple day due in a zone at an instant (the one that begins within LEAD):
    computed once per zone per sweep (every couple of a sweep shares its instant), not
    once per couple."""
    day = local_date(tz_name, now + LEAD)
    return ZoneDay(
        day,
        closes_at_for(day, tz_name),
        local_midnight(day + timedelta(days=1), tz_name) - LEAD,
    )


def question_candidates(locale: str = "en") -> list[selection.Candidate]:
    """Every published daily question in a locale, as plain data (one query)."""
    rows = Prompt.objects.filter(
        kind=Prompt.Kind.QUESTION, status=Prompt.Status.PUBLISHED, locale=locale
    ).values_list("id", "dimension", "depth", "domain", "sensitive")
    return [selection.Candidate(*row) for row in rows]


def _sensitive_allowed(couple_ids: Sequence[int]) -> set[int]:
    """The couples whose two members both opted in to sensitive questions (one
    grouped query; only those couples come back)."""
    # Each member's flag by primary key (a correlated subquery): with a join, the
    # planner hashes the whole user table for every batch, O(people) per batch.
    allows = Subquery(
        User.objects.filter(pk=OuterRef("user_id")).values("allow_sensitive_questions")[:1]
    )
    return set(
        Membership.objects.filter(sql.ids_in("couple_id", couple_ids), ended_at__isnull=True)
        .alias(allows=allows)
        .values("couple_id")
        .annotate(members=Count("id"), allowing=Count("id", filter=Q(allows=True)))
        .filter(members=2, allowing=2)
        .values_list("couple_id", flat=True)
    )


def _histories(
    summaries: dict[int, HistorySummary], now: datetime, known: dict[int, selection.Candidate]
) -> tuple[dict[int, selection.CoupleHistory], dict[int, list[Asked]]]:
    """Selection's input per couple: its summary plus its unfolded questions, its
    members' opt-ins and its love-map lean (four queries for the batch, five when a
    summary's recent prompt is no longer in the bank)."""
    unfolded = unfolded_questions(summaries, settled_before=now - SETTLE_GRACE)
    allowed = _sensitive_allowed(list(summaries))
    histories = {}
    unknown: dict[int, tuple[int, ...]] = {}
    for couple_id, summary in summaries.items():
        asked, answered = summary.asked, summary.answered
        recent: list[str] = []
        for row in unfolded.get(couple_id, ()):
            asked |= 1 << row.prompt_id
            answered += row.revealed
            if len(recent) < RECENT_DIMENSIONS:
                recent.append(row.dimension)
        # The last few dimensions: unfolded rows first, then the summary's prompts,
        # whose dimension is looked up now (a curator may have changed it).
        more = summary.recent[: RECENT_DIMENSIONS - len(recent)]
        if all(prompt_id in known for prompt_id in more):
            recent += [known[prompt_id].dimension for prompt_id in more]
        else:
            unknown[couple_id] = more
        histories[couple_id] = selection.CoupleHistory(
            asked_bits=asked,
            recent_dimensions=recent,
            answered=answered,
            allow_sensitive=couple_id in allowed,
        )
    if unknown:  # prompts retired or unpublished since: one query
        ids = {prompt_id for more in unknown.values() for prompt_id in more}
        lookup = dict(Prompt.objects.filter(id__in=ids).values_list("id", "dimension"))
        for couple_id, more in unknown.items():
            histories[couple_id].recent_dimensions += [lookup[p] for p in more if p in lookup]
    for provider in stalest_domain_providers:
        for couple_id, domain in provider(list(summaries)).items():
            histories[couple_id].stalest_domain = domain
    return histories, unfolded


def couple_histories(
    couple_ids: Sequence[int], *, now: datetime | None = None
) -> dict[int, selection.CoupleHistory]:
    """What `selection.choose` needs for each couple, read from its whole history (a
    pass or a first view reads one couple's; the sweep reads summaries instead), in
    three queries."""
    summaries = dict.fromkeys(couple_ids, EMPTY_HISTORY)
    return _histories(summaries, now or timezone.now(), {})[0]


class CoupleRef(NamedTuple):
    id: int
    timezone: str
    # As read with the couple by the sweep; None: not read (the whole history is).
    history: HistorySummary | None = None
    # The couple day to assign; None: the one due in the couple's zone (the sweep's).
    day: date | None = None


class _Assignment(NamedTuple):
    couple_id: int
    prompt_id: int
    couple_date: date
    closes_at: datetime


class _Schedule(NamedTuple):
    couple_id: int
    due_at: datetime
    history: HistorySummary


class _Plan(NamedTuple):
    assignments: list[_Assignment]
    schedules: list[_Schedule]


def questions_assign(
    *,
    couples: Sequence[CoupleRef],
    now: datetime,
    index: selection.CandidateIndex | None = None,
) -> int:
    """Give each couple its question for its current couple-day (if it has none yet),
    move its schedule to its next local midnight and fold its settled history into
    the schedule's summary. Returns rows inserted (on backends other than PostgreSQL:
    rows offered, some of which the unique index may have refused)."""
    if not couples:
        return 0
    if index is None:
        index = selection.CandidateIndex(question_candidates())
    return _plan_write(_questions_plan(couples, now, index))


def _questions_plan(
    couples: Sequence[CoupleRef], now: datetime, index: selection.CandidateIndex
) -> _Plan:
    """The reads and the choices for a batch: what to insert and what to upsert."""
    summaries = {couple.id: couple.history or EMPTY_HISTORY for couple in couples}
    histories, unfolded = _histories(summaries, now, index.by_id)
    plan = _Plan([], [])
    for couple in couples:
        zone = zone_day(couple.timezone, now)
        day = couple.day or zone.day
        chosen = index.choose(histories[couple.id], couple_id=couple.id, day=day)
        if chosen is not None:
            closes_at = zone.closes_at if day == zone.day else closes_at_for(day, couple.timezone)
            plan.assignments.append(_Assignment(couple.id, chosen.id, day, closes_at))
        if day != zone.day:
            # A first view of another couple day than the one due (a partner whose day
            # begins before or ends after the zone's): the schedule stays as it is.
            continue
        history = history_fold(
            summaries[couple.id],
            unfolded.get(couple.id, []),
            day=zone.day,
            lag_days=SETTLE_LAG_DAYS,
        )
        plan.schedules.append(_Schedule(couple.id, zone.next_due, history))
    return plan


def _plan_write(plan: _Plan) -> int:
    """Both statements of a batch in one transaction; returns rows inserted."""
    with transaction.atomic():
        inserted = _questions_insert(plan.assignments)
        if sql.postgresql():
            _schedules_upsert_pg(plan.schedules)
        else:
            _schedules_upsert_orm(plan.schedules)
    return inserted


class _Writer:
    """Writes each batch's plan while the next batch is read and chosen.

    On PostgreSQL, outside a transaction, the writes run in a thread with its own
    connection: the server inserts one batch on one core while Python chooses the
    next on the other (the driver releases the GIL while it waits). One write is in
    flight at a time, and an error in it stops the sweep at the next batch. Batches
    are disjoint (slices of one sorted list of couple ids), so a batch read while the
    previous one is being written sees nothing of it that matters. Inside a
    transaction (a caller's atomic block, tests) every write must belong to it: it
    writes in place."""

    def __init__(self) -> None:
        self.threaded = sql.postgresql() and not connection.in_atomic_block
        self.pool: ThreadPoolExecutor | None = None
        self.pending: Future[int] | None = None
        self.inserted = 0

    def write(self, plan: _Plan) -> None:
        if not self.threaded:
            self.inserted += _plan_write(plan)
            return
        self.wait()
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="question-sweep")
        self.pending = self.pool.submit(_plan_write, plan)

    def wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            self.inserted += pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            if self.pool is not None:
                self.pool.submit(_close_connection).result()
                self.pool.shutdown()


def _close_connection() -> None:
    # Looked up in the calling thread: the writer thread's own connection.
    connection.close()


def _table(model: Any, *fields: str) -> tuple[str, list[str]]:
    meta = model._meta
    quote = connection.ops.quote_name
    return quote(meta.db_table), [quote(meta.get_field(name).column) for name in fields]


def _questions_insert(assignments: Sequence[_Assignment]) -> int:
    """One set-based insert (`sql.insert_rows`: an array per column on PostgreSQL, no
    model instances). A conflict is skipped: the partial unique index (one live
    question per couple-day) makes a rerun, a second beat or a first view that got
    there first insert nothing."""
    return sql.insert_rows(
        DailyQuestion,
        {
            "couple": [row.couple_id for row in assignments],
            "prompt": [row.prompt_id for row in assignments],
            "couple_date": [row.couple_date for row in assignments],
            "closes_at": [row.closes_at for row in assignments],
        },
        same={"status": DailyQuestion.Status.OPEN, "created_at": timezone.now()},
    )


SCHEDULE_FIELDS = (
    "due_at",
    "history_through",
    "history_answered",
    "history_asked",
    "history_recent",
)


def _schedules_upsert_pg(schedules: Sequence[_Schedule]) -> None:
    """One INSERT ... SELECT FROM unnest(arrays) ... ON CONFLICT (couple) DO UPDATE."""
    table, columns = _table(QuestionSchedule, "couple", *SCHEDULE_FIELDS)
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in columns[1:])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (names from _meta)
            "SELECT c, d, t, a, decode(b, 'hex'), decode(r, 'hex') FROM unnest(%s::bigint[], "
            "%s::timestamptz[], %s::date[], %s::integer[], %s::text[], %s::text[]) "
            f"AS u(c, d, t, a, b, r) ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}",
            [
                sql.pg_array([row.couple_id for row in schedules]),
                sql.pg_array([row.due_at for row in schedules]),
                sql.pg_array([row.history.through for row in schedules]),
                sql.pg_array([row.history.answered for row in schedules]),
                sql.pg_array([row.history.asked_bytes().hex() for row in schedules]),
                sql.pg_array([row.history.recent_bytes().hex() for row in schedules]),
            ],
        )


def _schedules_upsert_orm(schedules: Sequence[_Schedule]) -> None:
    QuestionSchedule.objects.bulk_create(
        [
            QuestionSchedule(
                couple_id=row.couple_id,
                due_at=row.due_at,
                history_through=row.history.through,
                history_answered=row.history.answered,
                history_asked=row.history.asked_bytes(),
                history_recent=row.history.recent_bytes(),
            )
            for row in schedules
        ],
        update_conflicts=True,
        unique_fields=["couple"],
        update_fields=list(SCHEDULE_FIELDS),
    )


@dataclass(frozen=True)
class SweepResult:
    couples: int
    batches: int
    closed: int
    assigned: int = 0  # questions inserted (see questions_assign)


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
    writer = _Writer()
    try:
        for batch in _due_batches(now, batch_size):
            if index is None:  # the bank, indexed once for the whole sweep
                index = selection.CandidateIndex(question_candidates())
            writer.write(_questions_plan(batch, now, index))
            couples += len(batch)
            batches += 1
    finally:
        writer.close()
    assigned = writer.inserted
    logger.info(
        "daily question sweep: couples=%s batches=%s closed=%s assigned=%s",
        couples,
        batches,
        closed,
        assigned,
    )
    return SweepResult(couples=couples, batches=batches, closed=closed, assigned=assigned)


def daily_question_ensure(*, user: User) -> DailyQuestion | None:
    """Today's question for the requester's couple, assigned now if the sweep has not
    reached it yet (first view). None when unpaired or the bank is empty."""
    context = couple_context(user)
    if context is None:
        return None
    couple = context.couple
    day = couple_day_today(user=user)
    live = DailyQuestion.objects.exclude(status=DailyQuestion.Status.PASSED)
    found = live.filter(couple=couple, couple_date=day).select_related("prompt").first()
    if found is None:
        questions_assign(
            couples=[CoupleRef(couple.pk, couple.timezone, day=day)], now=timezone.now()
        )
        found = live.filter(couple=couple, couple_date=day).select_related("prompt").first()
    return found


def _locked_question(user: User, question_id: int) -> DailyQuestion:
    context = couple_context(user)
    if context is None:
        raise NotFound("No such question.")
    question = (
        DailyQuestion.objects.select_for_update()
        .filter(pk=question_id, couple=context.couple)
        .exclude(status=DailyQuestion.Status.PASSED)
        .first()
    )
    if question is None:
        raise NotFound("No such question.")
    return question


def question_answer(*, user: User, question_id: int, text: str) -> tuple[QuestionAnswer, bool]:
    """Answer (or, before the reveal, edit my answer to) one of our open questions.

    The question row is locked, so when both partners answer at the same moment the
    second one sees the first answer and the reveal happens exactly once. A first
    answer (not an edit) queues a `partner_answered` nudge for my partner.
    Returns (answer, created).
    """
    text = text.strip()
    QuestionAnswer(text=text).full_clean(exclude=["question", "author"], validate_unique=False)
    with transaction.atomic():
        question = _locked_question(user, question_id)
        now = timezone.now()
        if question.revealed_at is not None:
            raise Conflict("You have both answered; answers stay as they were at the reveal.")
        if question.status == DailyQuestion.Status.CLOSED or now >= question.closes_at:
            raise Conflict("This question has closed.")
        answer, created = QuestionAnswer.objects.update_or_create(
            question=question, author=user, defaults={"text": text}
        )
        if created:
            if question.answers.count() == 2:
                question.revealed_at = now
                question.save(update_fields=["revealed_at"])
            context = couple_context(user)  # cached by _locked_question: no query
            if context is not None:
                # My partner hears that I answered (or that it is revealed), batched by
                # nudges. In this transaction: a rollback tells no one. An edit is not news.
                nudge_enqueue(user_id=context.partner.pk, kind=Kind.PARTNER_ANSWERED, now=now)
    # Outside the transaction: the question's row lock is not held while the activity
    # mark (one conditional UPDATE, at most hourly) is written.
    activity_note(user_id=user.pk)
    logger.info("question answered: question=%s user=%s", question.pk, user.pk)
    return answer, created


def question_pass(*, user: User, question_id: int) -> DailyQuestion:
    """Pass on today's question (once per couple-day, before anyone answered) and get
    another one."""
    with transaction.atomic():
        question = _locked_question(user, question_id)
        couple = question.couple
        today = couple_day_today(user=user)
        if question.couple_date != today or question.status != DailyQuestion.Status.OPEN:
            raise Conflict("Only today's open question can be passed.")
        if question.answers.exists():
            raise Conflict("One of you has already answered this question.")
        passed_today = DailyQuestion.objects.filter(
            couple=couple, couple_date=today, status=DailyQuestion.Status.PASSED
        )
        if passed_today.exists():
            raise Conflict("You have already passed once today.")
        history = couple_histories([couple.pk])[couple.pk]
        chosen = selection.choose(
            question_candidates(),
            history,
            couple_id=couple.pk,
            day=today,
            exclude=frozenset({question.prompt_id}),
        )
        if chosen is None:
            raise Conflict("There is no other question to offer today.")
        question.status = DailyQuestion.Status.PASSED
        question.save(update_fields=["status"])
        replacement = DailyQuestion.objects.create(
            couple=couple,
            prompt_id=chosen.id,
            couple_date=today,
            closes_at=closes_at_for(today, couple.timezone),
        )
    activity_note(user_id=user.pk)
    logger.info("question passed: question=%s new=%s", question.pk, replacement.pk)
    return replacement


def question_react(*, user: User, question_id: int, reaction: str) -> QuestionReaction:
    """React to my partner's revealed answer (one reaction each, updated in place)."""
    if reaction not in Reaction.values:
        raise ValidationError({"reaction": [f"Choose one of: {', '.join(Reaction.values)}."]})
    with transaction.atomic():
        question = _locked_question(user, question_id)
        if question.revealed_at is None:
            raise Conflict("Reactions open once you have both answered.")
        result, _ = QuestionReaction.objects.update_or_create(
            question=question, author=user, defaults={"reaction": reaction}
        )
    activity_note(user_id=user.pk)
    return result
