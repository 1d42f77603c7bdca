"""Who should get the daily question's nudges: the set-based eligibility checks that
prompts registers with `nuzzle.nudges.kinds` in `PromptsConfig.ready()` (nudges sit
below prompts and never import it).

Each check takes a batch of recipients (up to the tick's batch size) and costs one
query whatever its size: each recipient's active membership joined to their partner's
and to their couple's open questions, with who answered them. Read only: a question is
assigned by the sweep or on first view, never by asking whether to nudge about it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import F, FilteredRelation, Q

from nuzzle.couples.models import Membership
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


@dataclass
class _Asked:
    """One recipient in an active couple that has open questions: their zone, the
    couple's, their partner and the couple's questions still taking answers."""

    timezone: str
    couple_timezone: str
    partner_id: int
    questions: dict[int, _OpenQuestion] = field(default_factory=dict)
    paired: bool = True  # exactly one other active member: a pair


def _asked(user_ids: Collection[int], now: datetime) -> dict[int, _Asked]:
    """Of `user_ids`, those in an active pair whose couple has questions still taking
    answers (open, not passed, not past `closes_at`: at most three each), with the ids
    of who answered each (one query). The unpaired, and a couple that is not exactly
    two active members, are absent; so is a couple with no open question."""
    partner = Q(couple__memberships__ended_at__isnull=True) & ~Q(
        couple__memberships__user_id=F("user_id")
    )
    open_question = Q(
        couple__daily_questions__status=DailyQuestion.Status.OPEN,
        couple__daily_questions__closes_at__gt=now,
    )
    rows = (
        Membership.objects.filter(IdIn("user_id", user_ids), ended_at__isnull=True)
        .annotate(
            partner=FilteredRelation("couple__memberships", condition=partner),
            question=FilteredRelation("couple__daily_questions", condition=open_question),
        )
        .filter(partner__isnull=False, question__isnull=False)
        .values_list(
            "user_id",
            "user__timezone",
            "couple__timezone",
            "partner__user_id",
            "question__id",
            "question__couple_date",
            "question__revealed_at",
            "question__answers__author_id",
        )
    )
    asked: dict[int, _Asked] = {}
    for user_id, zone, couple_zone, partner_id, question_id, couple_date, revealed, author in rows:
        person = asked.get(user_id)
        if person is None:
            person = asked[user_id] = _Asked(zone, couple_zone, partner_id)
        elif partner_id != person.partner_id:
            person.paired = False  # a third active member: not a pair
        question = person.questions.get(question_id)
        if question is None:
            question = _OpenQuestion(question_id, couple_date, revealed is not None)
            person.questions[question_id] = question
        if author is not None:
            question.answered_by.add(author)
    return {user_id: person for user_id, person in asked.items() if person.paired}


def nudge_question_ready(recipients: Sequence[Recipient], now: datetime) -> dict[int, Context]:
    """Who has today's question waiting: paired, the couple's question for its current
    couple-day is open and not passed, and they have not answered it yet. Context:
    whether the partner already has (1 query for the batch)."""
    local_days = {recipient.user_id: recipient.local_date for recipient in recipients}
    asked = _asked(local_days.keys(), now)
    eligible: dict[int, Context] = {}
    for user_id, person in asked.items():
        # The couple day the recipient is living (docs/days.md; couple_day is cached
        # per date and pair of zones: a batch has far fewer of those than people).
        today = couple_day(local_days[user_id], person.timezone, person.couple_timezone)
        # One live question per couple-day (a passed one is not OPEN), so at most one.
        question = next((q for q in person.questions.values() if q.couple_date == today), None)
        if question is None or user_id in question.answered_by:
            continue
        eligible[user_id] = {"partner_answered": person.partner_id in question.answered_by}
    return eligible


def nudge_partner_answered(recipients: Sequence[Recipient], now: datetime) -> dict[int, Context]:
    """Who has something to hear about their partner's answer: the partner answered one
    of the couple's questions still open (the newest such one counts). Context:
    `revealed` when both have now answered it, i.e. I had answered first (1 query)."""
    asked = _asked({recipient.user_id for recipient in recipients}, now)
    eligible: dict[int, Context] = {}
    for user_id, person in asked.items():
        answered = [q for q in person.questions.values() if person.partner_id in q.answered_by]
        if not answered:
            continue
        newest = max(answered, key=lambda q: (q.couple_date, q.id))
        eligible[user_id] = {"revealed": newest.revealed}
    return eligible
