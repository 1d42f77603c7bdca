"""Reads for prompts: the check-in questions offered each day, the daily question as
each partner may see it (`QuestionView`, read from the database's `VisibleQuestion`
view, the one place that decides what of a partner's answer leaves the server), when
questions were revealed (the weekly recap) and the export of what I wrote. Who gets
the daily question's nudges is prompts.eligibility."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from nuzzle.couples.models import User
from nuzzle.couples.scoping import couple_context
from nuzzle.couples.selectors import couple_day_today
from nuzzle.lib.prepared import Statement
from nuzzle.lib.timezones import local_day_for
from prompts.models import (
    DailyQuestion,
    Prompt,
    QuestionAnswer,
    QuestionReaction,
    VisibleQuestion,
)

CHECKIN_QUESTIONS_PER_DAY = 3


def _checkin_pool(locale: str) -> QuerySet[Prompt]:
    return Prompt.objects.filter(
        kind=Prompt.Kind.CHECKIN, status=Prompt.Status.PUBLISHED, locale=locale
    ).order_by("id")


def _rotation(day: date, size: int) -> list[int]:
    """Which of `size` pooled questions are offered on `day` (indexes, in order)."""
    if not size:
        return []
    start = (day.toordinal() * CHECKIN_QUESTIONS_PER_DAY) % size
    return [(start + offset) % size for offset in range(min(CHECKIN_QUESTIONS_PER_DAY, size))]


def checkin_questions_for(*, day: date, locale: str = "en") -> list[Prompt]:
    """The check-in questions offered on a given local date: three published `checkin`
    prompts, rotating daily through the set (the same for everyone on that date, so
    partners in one zone answer the same questions side by side)."""
    pool = list(_checkin_pool(locale))
    return [pool[index] for index in _rotation(day, len(pool))]


def checkin_pool_sql(locale: str) -> str:
    """The ids of the published check-in questions of a locale, in order, as SQL, the
    locale being the parameter `locale` (e.g. "$1"): the pool `_rotation` picks from."""
    return f"""
    SELECT id FROM prompts_prompt
    WHERE kind = '{Prompt.Kind.CHECKIN}' AND status = '{Prompt.Status.PUBLISHED}'
      AND locale = {locale}
    ORDER BY id
    """  # noqa: S608 (built once from constants; the locale is a parameter)


# A check-in PUT reads the pool: prepared on PostgreSQL, a hot path.
_CHECKIN_POOL = Statement(
    name="nuzzle_checkin_pool", types=("varchar",), sql=checkin_pool_sql("$1")
)


def checkin_question_ids_for(*, day: date, locale: str = "en") -> list[int]:
    """The ids of `checkin_questions_for(day=day)`, without building the prompts."""
    if _CHECKIN_POOL.available():
        pool = [row[0] for row in _CHECKIN_POOL.rows([locale])]
    else:
        pool = list(_checkin_pool(locale).values_list("id", flat=True))
    return checkin_question_ids_of(pool, day)


def checkin_question_ids_of(pool: Sequence[int], day: date) -> list[int]:
    """The ids of the questions offered on `day` from a pool read already (its ids in
    order, `checkin_pool_sql`)."""
    return [pool[index] for index in _rotation(day, len(pool))]


# --- The daily question ---------------------------------------------------------


@dataclass(frozen=True)
class QuestionView:
    """A daily question as one partner may see it, made from a `VisibleQuestion` row:
    the database view is the one place that decides what of the partner's answer
    leaves the server (`partner_answer` is filled only after both have answered).
    Pages, the API and emails format QuestionViews, never raw answers."""

    id: int
    date: dt.date  # the couple day the question belongs to
    day: dt.date  # that couple day in the viewer's own calendar (docs/days.md)
    prompt: Prompt
    state: str  # "unanswered" (by me), "waiting" (for my partner) or "revealed"
    closed: bool
    closes_at: datetime
    revealed_at: datetime | None
    my_answer: str | None
    partner_answered: bool
    partner_answer: str | None
    my_reaction: str | None
    partner_reaction: str | None
    # A question of a couple I am no longer in, kept for my own answer (question_history).
    earlier_couple: bool = False


def question_view_of(
    row: VisibleQuestion, user: User, now: datetime, *, couple_timezone: str | None = None
) -> QuestionView:
    """One row of the `VisibleQuestion` view (read with its prompt) as a QuestionView:
    no query (given `couple_timezone`, the zone of the row's couple, not even the
    cached couple context). The view has already sealed the partner's answer and
    reaction; what is decided here is only the state, whether it is closed, and which
    day of my own calendar it sits on."""
    revealed = row.revealed_at is not None
    if row.current:
        closed = not revealed and (
            row.status == DailyQuestion.Status.CLOSED or now >= row.closes_at
        )
    else:
        # A couple I am no longer in: the view carries my words only. A question left
        # unrevealed there will never be answered now.
        closed = not revealed
    if revealed:
        state = "revealed"
    elif row.my_answer is not None:
        state = "waiting"
    else:
        state = "unanswered"
    day = row.couple_date
    if row.current:
        if couple_timezone is None:
            context = couple_context(user)  # cached for the request: no query
            if context is not None and context.couple.pk == row.couple_id:
                couple_timezone = context.couple.timezone
        if couple_timezone is not None:
            day = local_day_for(day, user.timezone, couple_timezone)
    return QuestionView(
        id=row.question_id,
        date=row.couple_date,
        day=day,
        prompt=row.prompt,
        state=state,
        closed=closed,
        closes_at=row.closes_at,
        revealed_at=row.revealed_at,
        my_answer=row.my_answer,
        partner_answered=row.partner_answered,
        partner_answer=row.partner_answer,
        my_reaction=row.my_reaction,
        partner_reaction=row.partner_reaction,
        earlier_couple=not row.current,
    )


def _visible_questions(user: User, **filters: Any) -> QuerySet[VisibleQuestion]:
    """The questions the view gives me (not the passed ones), with their prompts,
    narrowed by `filters` on the view's columns."""
    return (
        VisibleQuestion.objects.filter(viewer=user, **filters)
        .exclude(status=DailyQuestion.Status.PASSED)
        .select_related("prompt")
    )


def question_list(*, user: User) -> QuerySet[VisibleQuestion]:
    """Our current couple's questions (not the passed ones), newest first, each as I may
    see it (one query); format with question_views."""
    return _visible_questions(user, current=True).order_by("-couple_date", "-question_id")


def question_history(*, user: User) -> QuerySet[VisibleQuestion]:
    """Every question I may look back on, newest first (one query, and one more for a
    page's count, whatever the history's length); format with question_views.

    Our current couple's questions (not the passed ones), and from the couples I was
    in before, the ones I answered: what I wrote stays mine, in my history, after
    unpairing and in a later couple (docs/product.md: Unpair). The view carries
    nothing else of an earlier couple: an ex-partner's words are never even read."""
    return _visible_questions(user).order_by("-couple_date", "-question_id")


def _one_view(user: User, **filters: Any) -> QuestionView | None:
    """One of our (live) questions as `user` may see it, in one query."""
    if couple_context(user) is None:
        return None
    rows = list(_visible_questions(user, current=True, **filters)[:2])
    if not rows:
        return None
    if len(rows) > 1:
        raise ValueError("the filters matched more than one question")
    return question_view_of(rows[0], user, timezone.now())


def question_view_by_id(*, user: User, question_id: int) -> QuestionView | None:
    """One of our questions, by its id, as I may see it (one query), or None: another
    couple's is indistinguishable from none (404)."""
    return _one_view(user, question_id=question_id)


def question_view_today(*, user: User) -> QuestionView | None:
    """Our live question for the couple day I am living (`couple_day_today`) as I may
    see it (one query), or None: not assigned yet, or I am unpaired."""
    context = couple_context(user)
    if context is None:
        return None
    return _one_view(user, couple_date=couple_day_today(user=user))


def question_passed_today(*, user: User) -> bool:
    """Whether our couple already used today's one pass."""
    context = couple_context(user)
    if context is None:
        return False
    return DailyQuestion.objects.filter(
        couple=context.couple,
        couple_date=couple_day_today(user=user),
        status=DailyQuestion.Status.PASSED,
    ).exists()


@dataclass(frozen=True)
class QuestionPage:
    today: QuestionView | None
    earlier: list[QuestionView]  # still open: neither closed nor revealed
    can_pass: bool  # today's one pass is still unused


EARLIER_SHOWN = 3


def question_page_today_and_earlier(*, user: User) -> QuestionPage:
    """What the question page shows: today's question and the earlier ones still open,
    from one read of our newest questions (1 query), plus whether today's pass is
    still available (1)."""
    context = couple_context(user)
    if context is None:
        return QuestionPage(today=None, earlier=[], can_pass=False)
    day = couple_day_today(user=user)
    newest = list(question_list(user=user)[: EARLIER_SHOWN + 1])
    views = question_views(user=user, rows=newest)
    today = next((view for view in views if view.date == day), None)
    earlier = [
        view for view in views if view is not today and not view.closed and view.state != "revealed"
    ]
    return QuestionPage(today=today, earlier=earlier, can_pass=not question_passed_today(user=user))


def question_views(*, user: User, rows: list[VisibleQuestion]) -> list[QuestionView]:
    """Rows of `question_list` or `question_history` (a page of them), each as I may
    see it, at one instant: no query."""
    now = timezone.now()
    return [question_view_of(row, user, now) for row in rows]


# A question is revealed while it is open: by the end of the third couple-day after its
# own (prompts.assignment.OPEN_DAYS), plus a day for the widest gap between zones.
_REVEAL_LAG = timedelta(days=4)


def reveal_times(
    *, couple_ids: Collection[int], since: datetime, until: datetime
) -> dict[int, list[datetime]]:
    """When each couple's questions were revealed between two instants (one query;
    bounded by `couple_date` so it reads only recent questions, not the history)."""
    rows = DailyQuestion.objects.filter(
        couple_id__in=couple_ids,
        couple_date__gte=since.date() - _REVEAL_LAG,
        revealed_at__gte=since,
        revealed_at__lte=until,
    ).values_list("couple_id", "revealed_at")
    times: dict[int, list[datetime]] = defaultdict(list)
    for couple_id, revealed_at in rows:
        if revealed_at is not None:  # always, by the filter; for the type checker
            times[couple_id].append(revealed_at)
    return times


# --- Export: everything I wrote (docs/product.md: Your data) -----------------------------


def export_question_answers(*, user: User) -> list[dict[str, Any]]:
    """My answers to daily questions in every couple I have been in, oldest first, with
    the question's text and day (one query). My partner's answers are never included,
    revealed or not: they are theirs to export."""
    answers = (
        QuestionAnswer.objects.mine(user)
        .select_related("question__prompt")
        .order_by("question__couple_date", "id")
    )
    return [
        {
            "question_id": answer.question_id,
            "date": answer.question.couple_date,
            "couple_id": answer.question.couple_id,
            "question": answer.question.prompt.text,
            "text": answer.text,
            "revealed": answer.question.revealed_at is not None,
            "created_at": answer.created_at,
            "updated_at": answer.updated_at,
        }
        for answer in answers
    ]


def export_question_reactions(*, user: User) -> list[dict[str, Any]]:
    """The reactions I gave to revealed answers, oldest first (one query)."""
    reactions = (
        QuestionReaction.objects.mine(user)
        .select_related("question__prompt")
        .order_by("question__couple_date", "id")
    )
    return [
        {
            "question_id": reaction.question_id,
            "date": reaction.question.couple_date,
            "question": reaction.question.prompt.text,
            "reaction": reaction.reaction,
            "created_at": reaction.created_at,
        }
        for reaction in reactions
    ]


def export_question_passes(*, user: User) -> list[dict[str, Any]]:
    """Questions passed on in the couples I have been in, oldest first (one query). A
    pass belongs to the couple (either partner may use the day's one pass)."""
    passed = (
        DailyQuestion.objects.filter(
            couple__memberships__user=user, status=DailyQuestion.Status.PASSED
        )
        .select_related("prompt")
        .order_by("couple_date", "id")
    )
    return [
        {
            "question_id": question.pk,
            "date": question.couple_date,
            "couple_id": question.couple_id,
            "question": question.prompt.text,
        }
        for question in passed
    ]
