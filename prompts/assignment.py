"""Assigning couples their daily question, a batch at a time: what choosing needs
(history, opt-ins, the love-map lean), the choices, and the writes. The sweep
(prompts.sweep) and a first view (prompts.services.daily_question_ensure) both assign
through `questions_assign` or its two halves.

For a batch of couples the history needed to choose comes from a fixed number of
queries and a bounded number of rows per couple (the summary on the schedule row,
prompts.history, plus the last few days), the choices are made in Python over a bank
indexed once per sweep (prompts.selection), and rows go in with one insert that skips
conflicts: the partial unique index (one live question per couple-day) makes a second
sweep, a second beat or a concurrent first view assign nothing twice. The question
insert and the schedule upsert are `nuzzle.lib.sql` statements: on PostgreSQL each a
single `INSERT ... SELECT FROM unnest(...)`, elsewhere (SQLite) the ORM's `bulk_create`.

Love maps sit above prompts in the layering, so the love-map lean is a registered hook
(`register_stalest_domain_provider`), called from love maps' `AppConfig.ready()`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from nuzzle.couples.models import Membership, User
from nuzzle.lib import sql
from nuzzle.lib.timezones import local_date, local_midnight
from prompts import selection
from prompts.history import (
    EMPTY_HISTORY,
    RECENT_DIMENSIONS,
    Asked,
    HistorySummary,
    history_fold,
    unfolded_questions,
)
from prompts.models import DailyQuestion, Prompt, QuestionSchedule

OPEN_DAYS = 3
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

# --- The love-map lean: a hook love maps register -----------------------------------

# For couple ids, the love-map domain where each couple's knowledge is stalest (couples
# with none left out).
StalestDomainProvider = Callable[[Sequence[int]], dict[int, str]]
_stalest_domain_providers: list[StalestDomainProvider] = []


def register_stalest_domain_provider(provider: StalestDomainProvider) -> None:
    """Called by love maps, once, from `AppConfig.ready()`: the daily question leans
    toward the domain `provider` names for a couple. Registering one twice keeps one."""
    if provider not in _stalest_domain_providers:
        _stalest_domain_providers.append(provider)


def stalest_domain_providers() -> tuple[StalestDomainProvider, ...]:
    """The registered providers, in the order they were registered (a later one's
    domain wins for a couple both name)."""
    return tuple(_stalest_domain_providers)


# --- Couple days --------------------------------------------------------------------


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


# --- What choosing needs --------------------------------------------------------------


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
    for provider in stalest_domain_providers():
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


# --- Assigning a batch ------------------------------------------------------------------


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


class Plan(NamedTuple):
    """What a batch writes: the questions to insert, the schedule rows to upsert."""

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
    return plan_write(questions_plan(couples, now, index))


def questions_plan(
    couples: Sequence[CoupleRef], now: datetime, index: selection.CandidateIndex
) -> Plan:
    """The reads and the choices for a batch: what to insert and what to upsert (no
    writes: the sweep writes one batch's plan while it makes the next)."""
    summaries = {couple.id: couple.history or EMPTY_HISTORY for couple in couples}
    histories, unfolded = _histories(summaries, now, index.by_id)
    plan = Plan([], [])
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


def plan_write(plan: Plan) -> int:
    """Both statements of a batch in one transaction; returns rows inserted (see
    `questions_assign`)."""
    with transaction.atomic():
        inserted = _questions_insert(plan.assignments)
        _schedules_upsert(plan.schedules)
    return inserted


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


def _schedules_upsert(schedules: Sequence[_Schedule]) -> None:
    """One set-based upsert (`sql.upsert_rows`): each couple's schedule row is
    inserted, or rewritten whole if it exists (a summary is always written whole: see
    prompts.history)."""
    sql.upsert_rows(
        QuestionSchedule,
        {
            "couple": [row.couple_id for row in schedules],
            "due_at": [row.due_at for row in schedules],
            "history_through": [row.history.through for row in schedules],
            "history_answered": [row.history.answered for row in schedules],
            "history_asked": [row.history.asked_bytes() for row in schedules],
            "history_recent": [row.history.recent_bytes() for row in schedules],
        },
        unique=["couple"],
    )
