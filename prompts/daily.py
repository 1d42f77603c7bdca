"""Writes for the daily question: assignment (by the sweep and on first view),
answers with mutual reveal, passing, reactions and quiet closing.

Assignment is set-based: for a batch of couples the history needed to choose comes
from a fixed number of queries, the choices are made in Python (prompts.selection),
and rows go in with one `bulk_create(ignore_conflicts=True)`: the partial unique index
(one live question per couple-day) makes a second sweep, a second beat or a
concurrent first view assign nothing twice.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from nuzzle.couples.models import Couple, Membership, User
from nuzzle.couples.scoping import couple_context
from nuzzle.lib.choices import Reaction
from nuzzle.lib.errors import Conflict, NotFound
from nuzzle.lib.timezones import local_date
from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.services import activity_note, nudge_enqueue
from prompts import selection
from prompts.models import (
    DailyQuestion,
    Prompt,
    QuestionAnswer,
    QuestionReaction,
    QuestionSchedule,
)

logger = logging.getLogger(__name__)

OPEN_DAYS = 3
BATCH_SIZE = 1000
RECENT_DIMENSIONS = 4

# Love maps (a higher layer) register a function here that returns, for couple ids,
# the domain where each couple's knowledge is stalest. Prompts never import lovemaps.
stalest_domain_providers: list[Callable[[Sequence[int]], dict[int, str]]] = []


def local_midnight(day: date, tz_name: str) -> datetime:
    """The instant a local day starts. A midnight that does not exist (a DST jump at
    00:00) resolves forward with zoneinfo's fold rule: the day starts at the first
    instant that exists."""
    zone = zoneinfo.ZoneInfo(tz_name)
    naive = datetime.combine(day, time.min)
    aware = naive.replace(tzinfo=zone)
    # Round-trip through UTC: a non-existent local time maps to a real instant.
    return aware.astimezone(zoneinfo.ZoneInfo("UTC"))


def closes_at_for(day: date, tz_name: str) -> datetime:
    """Open on its own day and the next two; closed from the fourth local midnight."""
    return local_midnight(day + timedelta(days=OPEN_DAYS), tz_name)


def next_due_for(tz_name: str, now: datetime) -> datetime:
    """The next local midnight after `now` in the couple's zone."""
    return local_midnight(local_date(tz_name, now) + timedelta(days=1), tz_name)


def question_candidates(locale: str = "en") -> list[selection.Candidate]:
    """Every published daily question in a locale, as plain data (one query)."""
    rows = Prompt.objects.filter(
        kind=Prompt.Kind.QUESTION, status=Prompt.Status.PUBLISHED, locale=locale
    ).values_list("id", "dimension", "depth", "domain", "sensitive")
    return [selection.Candidate(*row) for row in rows]


def couple_histories(couple_ids: Sequence[int]) -> dict[int, selection.CoupleHistory]:
    """What `selection.choose` needs for each couple, in three queries for the batch."""
    histories = {couple_id: selection.CoupleHistory() for couple_id in couple_ids}
    asked = (
        DailyQuestion.objects.filter(couple_id__in=couple_ids)
        .order_by("couple_id", "-couple_date", "-id")
        .values_list("couple_id", "prompt_id", "prompt__dimension", "revealed_at")
    )
    for couple_id, prompt_id, dimension, revealed_at in asked:
        history = histories[couple_id]
        history.asked.add(prompt_id)
        if len(history.recent_dimensions) < RECENT_DIMENSIONS:
            history.recent_dimensions.append(dimension)
        if revealed_at is not None:
            history.answered += 1
    opted_in: dict[int, list[bool]] = defaultdict(list)
    members = Membership.objects.filter(
        couple_id__in=couple_ids, ended_at__isnull=True
    ).values_list("couple_id", "user__allow_sensitive_questions")
    for couple_id, allowed in members:
        opted_in[couple_id].append(allowed)
    for couple_id, flags in opted_in.items():
        histories[couple_id].allow_sensitive = len(flags) == 2 and all(flags)
    for provider in stalest_domain_providers:
        for couple_id, domain in provider(couple_ids).items():
            histories[couple_id].stalest_domain = domain
    return histories


@dataclass(frozen=True)
class CoupleRef:
    id: int
    timezone: str


def questions_assign(*, couples: Sequence[CoupleRef], now: datetime) -> int:
    """Give each couple its question for its current couple-day (if it has none yet)
    and move its schedule to its next local midnight. Returns rows inserted."""
    if not couples:
        return 0
    candidates = question_candidates()
    histories = couple_histories([couple.id for couple in couples])
    rows = []
    for couple in couples:
        day = local_date(couple.timezone, now)
        chosen = selection.choose(candidates, histories[couple.id], couple_id=couple.id, day=day)
        if chosen is not None:
            rows.append(
                DailyQuestion(
                    couple_id=couple.id,
                    prompt_id=chosen.id,
                    couple_date=day,
                    closes_at=closes_at_for(day, couple.timezone),
                )
            )
    with transaction.atomic():
        created = DailyQuestion.objects.bulk_create(rows, ignore_conflicts=True)
        QuestionSchedule.objects.bulk_create(
            [
                QuestionSchedule(couple_id=couple.id, due_at=next_due_for(couple.timezone, now))
                for couple in couples
            ],
            update_conflicts=True,
            unique_fields=["couple"],
            update_fields=["due_at"],
        )
    return len(created)


@dataclass(frozen=True)
class SweepResult:
    couples: int
    batches: int
    closed: int


def daily_question_sweep(
    *, now: datetime | None = None, batch_size: int = BATCH_SIZE
) -> SweepResult:
    """Assign today's question to every couple whose local day has begun, and quietly
    close questions left unanswered for three days. Set-based and idempotent."""
    now = now or timezone.now()
    closed = DailyQuestion.objects.filter(
        status=DailyQuestion.Status.OPEN, closes_at__lte=now, revealed_at__isnull=True
    ).update(status=DailyQuestion.Status.CLOSED)
    due = Couple.objects.active().filter(
        Q(question_schedule__isnull=True) | Q(question_schedule__due_at__lte=now)
    )
    last_id, couples, batches = 0, 0, 0
    while True:
        batch = [
            CoupleRef(*row)
            for row in due.filter(id__gt=last_id)
            .order_by("id")
            .values_list("id", "timezone")[:batch_size]
        ]
        if not batch:
            break
        questions_assign(couples=batch, now=now)
        last_id = batch[-1].id
        couples += len(batch)
        batches += 1
    logger.info("daily question sweep: couples=%s batches=%s closed=%s", couples, batches, closed)
    return SweepResult(couples=couples, batches=batches, closed=closed)


def daily_question_ensure(*, user: User) -> DailyQuestion | None:
    """Today's question for the requester's couple, assigned now if the sweep has not
    reached it yet (first view). None when unpaired or the bank is empty."""
    context = couple_context(user)
    if context is None:
        return None
    couple = context.couple
    day = local_date(couple.timezone)
    live = DailyQuestion.objects.exclude(status=DailyQuestion.Status.PASSED)
    found = live.filter(couple=couple, couple_date=day).select_related("prompt").first()
    if found is None:
        questions_assign(couples=[CoupleRef(couple.pk, couple.timezone)], now=timezone.now())
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
        today = local_date(couple.timezone)
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
