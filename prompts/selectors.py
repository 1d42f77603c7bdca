"""Reads from the prompt bank."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import QuerySet
from django.utils import timezone

from nuzzle.couples.models import User
from nuzzle.couples.scoping import couple_context
from nuzzle.lib.timezones import local_date
from prompts.models import DailyQuestion, Prompt

CHECKIN_QUESTIONS_PER_DAY = 3


def checkin_questions_for(*, day: date, locale: str = "en") -> list[Prompt]:
    """The check-in questions offered on a given local date: three published `checkin`
    prompts, rotating daily through the set (the same for everyone on that date, so
    partners in one zone answer the same questions side by side)."""
    pool = list(
        Prompt.objects.filter(
            kind=Prompt.Kind.CHECKIN, status=Prompt.Status.PUBLISHED, locale=locale
        ).order_by("id")
    )
    if not pool:
        return []
    count = min(CHECKIN_QUESTIONS_PER_DAY, len(pool))
    start = (day.toordinal() * CHECKIN_QUESTIONS_PER_DAY) % len(pool)
    return [pool[(start + offset) % len(pool)] for offset in range(count)]


# --- The daily question ---------------------------------------------------------


@dataclass(frozen=True)
class QuestionView:
    """A daily question as one partner may see it. This is the only place that decides
    what of the partner's answer leaves the server: `partner_answer` is filled only
    after both have answered. Pages, the API and emails format QuestionViews, never
    raw answers."""

    id: int
    date: date
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


def question_view(question: DailyQuestion, user: User, now: datetime) -> QuestionView:
    answers = {answer.author_id: answer.text for answer in question.answers.all()}
    reactions = {r.author_id: r.reaction for r in question.reactions.all()}
    mine = answers.pop(user.pk, None)
    partner_text = next(iter(answers.values()), None)
    revealed = question.revealed_at is not None
    partner_reaction = next((r for a, r in reactions.items() if a != user.pk), None)
    if revealed:
        state = "revealed"
    elif mine is not None:
        state = "waiting"
    else:
        state = "unanswered"
    return QuestionView(
        id=question.pk,
        date=question.couple_date,
        prompt=question.prompt,
        state=state,
        closed=not revealed
        and (question.status == DailyQuestion.Status.CLOSED or now >= question.closes_at),
        closes_at=question.closes_at,
        revealed_at=question.revealed_at,
        my_answer=mine,
        partner_answered=partner_text is not None,
        # Sealed until both have answered: the text never leaves this function before.
        partner_answer=partner_text if revealed else None,
        my_reaction=reactions.get(user.pk),
        partner_reaction=partner_reaction if revealed else None,
    )


def _couple_questions(user: User) -> QuerySet[DailyQuestion]:
    context = couple_context(user)
    if context is None:
        return DailyQuestion.objects.none()
    return (
        DailyQuestion.objects.filter(couple=context.couple)
        .exclude(status=DailyQuestion.Status.PASSED)
        .select_related("prompt")
        .prefetch_related("answers", "reactions")
    )


def question_list(*, user: User) -> QuerySet[DailyQuestion]:
    """Our questions (not the passed ones), newest first; format with question_view."""
    return _couple_questions(user).order_by("-couple_date", "-id")


def question_get(*, user: User, question_id: int) -> DailyQuestion | None:
    """One of our questions, or None (another couple's is indistinguishable: 404)."""
    return _couple_questions(user).filter(pk=question_id).first()


def question_for_today(*, user: User) -> DailyQuestion | None:
    """Our live question for the couple's current local date (3 queries), or None."""
    context = couple_context(user)
    if context is None:
        return None
    day = local_date(context.couple.timezone)
    return _couple_questions(user).filter(couple_date=day).first()


def question_passed_today(*, user: User) -> bool:
    """Whether our couple already used today's one pass."""
    context = couple_context(user)
    if context is None:
        return False
    return DailyQuestion.objects.filter(
        couple=context.couple,
        couple_date=local_date(context.couple.timezone),
        status=DailyQuestion.Status.PASSED,
    ).exists()


@dataclass(frozen=True)
class QuestionPage:
    today: QuestionView | None
    earlier: list[QuestionView]  # still open: neither closed nor revealed
    can_pass: bool  # today's one pass is still unused


EARLIER_SHOWN = 3


def question_page(*, user: User) -> QuestionPage:
    """Today's question and the earlier ones still open, from one read of our newest
    questions (3 queries), plus whether today's pass is still available (1)."""
    context = couple_context(user)
    if context is None:
        return QuestionPage(today=None, earlier=[], can_pass=False)
    day = local_date(context.couple.timezone)
    views = question_views(user=user, questions=list(question_list(user=user)[: EARLIER_SHOWN + 1]))
    today = next((view for view in views if view.date == day), None)
    earlier = [
        view for view in views if view is not today and not view.closed and view.state != "revealed"
    ]
    return QuestionPage(today=today, earlier=earlier, can_pass=not question_passed_today(user=user))


def question_views(*, user: User, questions: list[DailyQuestion]) -> list[QuestionView]:
    now = timezone.now()
    return [question_view(question, user, now) for question in questions]
