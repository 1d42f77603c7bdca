"""Who should get the daily question's nudges: the set-based eligibility checks that
prompts registers with `nuzzle.nudges.kinds` in `PromptsConfig.ready()` (nudges sit
below prompts and never import it).

Each check takes a batch of recipients (up to the tick's batch size) and costs two
queries whatever its size: the recipients' couples, then those couples' open questions
with who answered them. Read only: a question is assigned by the sweep or on first
view, never by asking whether to nudge about it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from nuzzle.couples.selectors import active_pairs
from nuzzle.lib.sql import IdIn
from nuzzle.lib.timezones import couple_day
from nuzzle.nudges.kinds import Context, Recipient
from prompts.models import DailyQuestion


@dataclass
class _OpenQuestion:
    id: int
    couple_date: date
    revealed: bool
    answered_by: set[int] = field(default_factory=set)  # author ids only, never the text


def _open_questions(couple_ids: Collection[int], now: datetime) -> dict[int, list[_OpenQuestion]]:
    """Per couple, its questions still taking answers (open, not passed, not past
    `closes_at`: at most three each), with the ids of who answered (one query)."""
    rows = DailyQuestion.objects.filter(
        IdIn("couple_id", couple_ids), status=DailyQuestion.Status.OPEN, closes_at__gt=now
    ).values_list("id", "couple_id", "couple_date", "revealed_at", "answers__author_id")
    questions: dict[int, _OpenQuestion] = {}
    by_couple: dict[int, list[_OpenQuestion]] = defaultdict(list)
    for question_id, couple_id, couple_date, revealed_at, author_id in rows:
        question = questions.get(question_id)
        if question is None:
            question = _OpenQuestion(question_id, couple_date, revealed_at is not None)
            questions[question_id] = question
            by_couple[couple_id].append(question)
        if author_id is not None:
            question.answered_by.add(author_id)
    return by_couple


def nudge_question_ready(recipients: Sequence[Recipient], now: datetime) -> dict[int, Context]:
    """Who has today's question waiting: paired, the couple's question for its current
    couple-day is open and not passed, and they have not answered it yet. Context:
    whether the partner already has (2 queries for the batch)."""
    ids = {recipient.user_id for recipient in recipients}
    pairs = active_pairs(user_ids=ids)
    questions = _open_questions({pair.couple_id for pair in pairs.values()}, now)
    eligible: dict[int, Context] = {}
    local_days = {recipient.user_id: recipient.local_date for recipient in recipients}
    for user_id, pair in pairs.items():
        # The couple day the recipient is living (docs/days.md; couple_day is cached
        # per date and pair of zones: a batch has far fewer of those than people).
        today = couple_day(local_days[user_id], pair.timezone, pair.couple_timezone)
        # One live question per couple-day (a passed one is not OPEN), so at most one.
        question = next(
            (q for q in questions.get(pair.couple_id, []) if q.couple_date == today), None
        )
        if question is None or user_id in question.answered_by:
            continue
        eligible[user_id] = {"partner_answered": pair.partner_id in question.answered_by}
    return eligible


def nudge_partner_answered(recipients: Sequence[Recipient], now: datetime) -> dict[int, Context]:
    """Who has something to hear about their partner's answer: the partner answered one
    of the couple's questions still open (the newest such one counts). Context:
    `revealed` when both have now answered it, i.e. I had answered first (2 queries)."""
    ids = {recipient.user_id for recipient in recipients}
    pairs = active_pairs(user_ids=ids)
    questions = _open_questions({pair.couple_id for pair in pairs.values()}, now)
    eligible: dict[int, Context] = {}
    for user_id, pair in pairs.items():
        answered = [
            q for q in questions.get(pair.couple_id, []) if pair.partner_id in q.answered_by
        ]
        if not answered:
            continue
        newest = max(answered, key=lambda q: (q.couple_date, q.id))
        eligible[user_id] = {"revealed": newest.revealed}
    return eligible
