"""Reads for the dashboard: one call gathers everything the page and the API show,
with a fixed number of queries whatever the length of the couple's history. Reads only:
when today's question is not assigned yet, the page and the API assign it
(`prompts.services.daily_question_ensure`) and read it again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from checkins.selectors import CheckinOverview, checkin_overview, days_both_showed_up_between
from lovemaps.selectors.batch import answers_updated_since
from lovemaps.selectors.freshness import Freshness, freshness
from nuzzle.couples.models import Invite, User
from nuzzle.couples.scoping import CoupleContext, couple_context
from nuzzle.couples.selectors import active_pairs, invite_pending_for
from nuzzle.lib.timezones import couple_day, local_midnight
from nuzzle.nudges.kinds import Context, Recipient
from prompts import selectors as questions
from prompts.selectors import QuestionView, reveal_times


@dataclass(frozen=True)
class Dashboard:
    couple: CoupleContext | None
    checkins: CheckinOverview[Any]  # check-ins, or rendered ones (statements.py)
    pending_invite: Invite | None  # only looked up when unpaired
    question: QuestionView | None  # today's; None until assigned (by the sweep or ensure)
    freshness: Freshness  # love maps: what is stale, what changed


def dashboard_get(*, user: User) -> Dashboard:
    context = couple_context(user)
    return Dashboard(
        couple=context,
        checkins=checkin_overview(user=user),
        pending_invite=invite_pending_for(user=user) if context is None else None,
        question=questions.question_view_today(user=user) if context is not None else None,
        freshness=freshness(user=user),
    )


# --- The weekly recap nudge ---------------------------------------------------------------

RECAP_DAYS = 7


def nudge_weekly_recap(recipients: Sequence[Recipient], now: datetime) -> dict[int, Context]:
    """The week behind each paired recipient (the seven local days ending on their
    today): days both shared a check-in, questions revealed, and the partner's love-map
    updates. Counts only, never words; nobody with nothing to show gets an empty recap.

    Registered in DashboardConfig.ready(). Four queries for the whole batch (couples,
    then one per feature app, each reading the widest window of the batch and counted
    per person here), whatever the batch size.
    """
    people = active_pairs(user_ids={recipient.user_id for recipient in recipients})
    asked = [recipient for recipient in recipients if recipient.user_id in people]
    if not asked:
        return {}
    span = timedelta(days=RECAP_DAYS - 1)
    since = {
        r.user_id: local_midnight(r.local_date - span, people[r.user_id].timezone) for r in asked
    }
    # "Days we both showed up" are couple days (docs/days.md): the seven ending on the
    # one each recipient is living.
    shared_today = {
        r.user_id: couple_day(
            r.local_date, people[r.user_id].timezone, people[r.user_id].couple_timezone
        )
        for r in asked
    }
    couple_ids = {person.couple_id for person in people.values()}
    together = days_both_showed_up_between(
        couple_ids=couple_ids,
        date_from=min(shared_today.values()) - span,
        date_to=max(shared_today.values()),
    )
    earliest = min(since.values())
    revealed = reveal_times(couple_ids=couple_ids, since=earliest, until=now)
    updated = answers_updated_since(couple_ids=couple_ids, since=earliest)
    eligible: dict[int, Context] = {}
    for recipient in asked:
        person, start = people[recipient.user_id], since[recipient.user_id]
        last_day = shared_today[recipient.user_id]
        context: Context = {
            "days_together": sum(
                last_day - span <= day <= last_day for day in together.get(person.couple_id, ())
            ),
            "questions_revealed": sum(at >= start for at in revealed.get(person.couple_id, ())),
            "lovemap_updates": sum(
                at >= start for at in updated.get((person.couple_id, person.partner_id), ())
            ),
        }
        if any(context.values()):
            eligible[recipient.user_id] = context
    return eligible
