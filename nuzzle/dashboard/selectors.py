"""Reads for the dashboard: one call gathers everything the page and the API show,
with a fixed number of queries whatever the length of the couple's history."""

from __future__ import annotations

from dataclasses import dataclass

from checkins.selectors import CheckinOverview, checkin_overview
from lovemaps.selectors import Freshness, freshness
from nuzzle.couples.models import Invite, User
from nuzzle.couples.scoping import CoupleContext, couple_context
from nuzzle.couples.selectors import invite_pending_for
from prompts import daily
from prompts import selectors as questions
from prompts.selectors import QuestionView


@dataclass(frozen=True)
class Dashboard:
    couple: CoupleContext | None
    checkins: CheckinOverview
    pending_invite: Invite | None  # only looked up when unpaired
    question: QuestionView | None  # today's, assigned on first view if the sweep hasn't
    freshness: Freshness  # love maps: what is stale, what changed


def dashboard_get(*, user: User) -> Dashboard:
    context = couple_context(user)
    return Dashboard(
        couple=context,
        checkins=checkin_overview(user=user),
        pending_invite=invite_pending_for(user=user) if context is None else None,
        question=_todays_question(user) if context is not None else None,
        freshness=freshness(user=user),
    )


def _todays_question(user: User) -> QuestionView | None:
    found = questions.question_for_today(user=user)
    if found is None:  # the sweep hasn't reached this couple yet: assign on first view
        daily.daily_question_ensure(user=user)
        found = questions.question_for_today(user=user)
    return questions.question_views(user=user, questions=[found])[0] if found else None
