"""Writes for prompts: loading the bundled prompt bank, and a person's actions on the
daily question (first-view assignment, answers with mutual reveal, passing and
reactions). Assigning questions in batches is prompts.assignment; the minute's sweep,
prompts.sweep."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from nuzzle.couples.models import User
from nuzzle.couples.scoping import couple_context
from nuzzle.couples.selectors import couple_day_today
from nuzzle.lib.choices import Reaction
from nuzzle.lib.errors import Conflict, Invalid, NotFound, as_invalid
from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.policy import event_delay
from nuzzle.nudges.schedule import event_moves
from nuzzle.nudges.services import activity_note, nudge_enqueue
from prompts import selection, statements
from prompts.assignment import (
    CoupleRef,
    closes_at_for,
    couple_histories,
    question_candidates,
    questions_assign,
)
from prompts.models import DailyQuestion, Prompt, QuestionAnswer, QuestionReaction
from prompts.selectors import QuestionView, question_view_of

logger = logging.getLogger(__name__)

# --- The prompt bank ----------------------------------------------------------------

BANK_DIR = Path(__file__).resolve().parent / "bank"
# Which file holds which kind; a file's entries inherit its kind.
BANK_FILES = {
    "checkin.toml": Prompt.Kind.CHECKIN,
    "questions.toml": Prompt.Kind.QUESTION,
    "lovemap.toml": Prompt.Kind.LOVEMAP,
}


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    unchanged: int


def _entry_values(entry: dict[str, Any], kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "text": entry["text"].strip(),
        "dimension": entry["dimension"],
        "depth": entry.get("depth", 1),
        "domain": entry.get("domain", ""),
        "half_life_days": entry.get("half_life_days"),
        "locale": entry.get("locale", "en"),
        "tags": entry.get("tags", []),
        "pack": entry.get("pack", "core"),
        "sensitive": entry.get("sensitive", False),
    }


@transaction.atomic
def prompt_bank_load(*, bank_dir: Path = BANK_DIR) -> LoadResult:
    """Load the bundled bank. Idempotent: prompts are matched by `key`; re-running
    updates changed text and metadata and never duplicates. New prompts are
    published; a curator's status changes (retire, draft) are left alone."""
    updated = unchanged = 0
    new: list[Prompt] = []
    existing = {prompt.key: prompt for prompt in Prompt.objects.all()}
    for filename, kind in BANK_FILES.items():
        with (bank_dir / filename).open("rb") as handle:
            entries = tomllib.load(handle).get("prompt", [])
        for entry in entries:
            values = _entry_values(entry, kind)
            prompt = existing.get(entry["key"])
            if prompt is None:
                prompt = Prompt(key=entry["key"], status=Prompt.Status.PUBLISHED, **values)
                # Field validation only: the database enforces the unique key, and a
                # per-row uniqueness query would make loading hundreds of prompts slow.
                with as_invalid():
                    prompt.full_clean(validate_unique=False, validate_constraints=False)
                new.append(prompt)
                existing[prompt.key] = prompt
                continue
            changed = [name for name, value in values.items() if getattr(prompt, name) != value]
            if changed:
                for name in changed:
                    setattr(prompt, name, values[name])
                with as_invalid():
                    prompt.full_clean(validate_unique=False)
                prompt.save(update_fields=[*changed, "updated_at"])
                updated += 1
            else:
                unchanged += 1
    # One insert for all new prompts, with their first history records.
    bulk_create_with_history(new, Prompt, batch_size=500)
    return LoadResult(created=len(new), updated=updated, unchanged=unchanged)


# --- The daily question ---------------------------------------------------------


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


def _refuse_unless_answerable(
    revealed_at: datetime | None, status: str, closes_at: datetime, now: datetime
) -> None:
    """An answer is written, or edited, only while the question is open and unrevealed."""
    if revealed_at is not None:
        raise Conflict("You have both answered; answers stay as they were at the reveal.")
    if status == DailyQuestion.Status.CLOSED or now >= closes_at:
        raise Conflict("This question has closed.")


def question_answer(*, user: User, question_id: int, text: str) -> tuple[QuestionAnswer, bool]:
    """Answer (or, before the reveal, edit my answer to) one of our open questions.

    The question row is locked, so when both partners answer at the same moment the
    second one sees the first answer and the reveal happens exactly once. A first
    answer (not an edit) queues a `partner_answered` nudge for my partner.
    Returns (answer, created).
    """
    text = text.strip()
    with as_invalid():
        QuestionAnswer(text=text).full_clean(exclude=["question", "author"], validate_unique=False)
    with transaction.atomic():
        question = _locked_question(user, question_id)
        now = timezone.now()
        _refuse_unless_answerable(question.revealed_at, question.status, question.closes_at, now)
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


def question_answer_seen(*, user: User, question_id: int, text: str) -> tuple[QuestionView, bool]:
    """`question_answer` for the API on PostgreSQL, with its read-back: the same
    validation and the same decisions, with the question locked, the answer written
    (and the question revealed, my activity noted and the partner's nudge queued) and
    the question read back as I may see it by three prepared statements
    (`statements`). Returns (view, created)."""
    text = text.strip()
    with as_invalid():
        QuestionAnswer(text=text).full_clean(exclude=["question", "author"], validate_unique=False)
    with transaction.atomic():
        locked = statements.question_lock(user=user, question_id=question_id)
        if locked is None:
            raise NotFound("No such question.")
        now = timezone.now()
        _refuse_unless_answerable(locked.revealed_at, locked.status, locked.closes_at, now)
        # The partner's nudge moves as `nudge_enqueue` would move it (the same pure
        # decision), in the write itself and only for a new answer: an edit is not news.
        nudge, moved = locked.partner_nudge, None
        if nudge is not None:
            moved = event_moves(nudge.rules, nudge.next_due_at, now, event_delay())
        created = statements.question_write(
            user=user,
            question_id=question_id,
            text=text,
            now=now,
            partner_nudge=(nudge.schedule_id, moved) if nudge and moved else None,
        )
    seen = statements.question_seen(user=user, question_id=question_id)
    if seen is None:  # unpaired or passed since the commit: as the ORM path's read would
        raise NotFound("No such question.")
    row, couple_timezone = seen
    logger.info("question answered: question=%s user=%s", question_id, user.pk)
    return question_view_of(row, user, now, couple_timezone=couple_timezone), created


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
        raise Invalid.from_fields({"reaction": [f"Choose one of: {', '.join(Reaction.values)}."]})
    with transaction.atomic():
        question = _locked_question(user, question_id)
        if question.revealed_at is None:
            raise Conflict("Reactions open once you have both answered.")
        result, _ = QuestionReaction.objects.update_or_create(
            question=question, author=user, defaults={"reaction": reaction}
        )
    activity_note(user_id=user.pk)
    return result
