"""The dashboard API's read as one prepared statement (nuzzle.lib.prepared).

One round trip brings everything "Us today" shows, read from the who-sees-what views
(docs/architecture.md, rule 2): my couple and partner, the check-ins of the chart's
window (each already rendered as the API shows it), the couple's showed-up tallies, the
questions of the couple days around my today (the partner's words sealed by the view),
and my love-map freshness counted by area. The day rules (which check-ins pair up
today, where each sits in my calendar, which question is today's) stay the pure Python
functions the ORM path uses (`checkins.selectors.overview_of`,
`prompts.selectors.question_view_of`, `lovemaps.selectors.freshness.freshness_of`), so
there is one rule for each and one place that decides who sees what. A PostgreSQL test
compares the result with the ORM path's at every hour of a day, for both partners.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from checkins.apis import checkin_payload
from checkins.cards import CheckinCard, checkin_card
from checkins.selectors import (
    CheckinOverview,
    ShowedUp,
    checkins_with_details,
    overview_of,
    overview_window,
)
from checkins.statements import (
    CHECKIN_JSON,
    NEWEST_FIRST,
    RenderedCheckin,
    rendered_checkin,
    rendered_checkin_json,
)
from lovemaps.selectors.freshness import freshness_of
from nuzzle.couples.models import Couple, User
from nuzzle.couples.scoping import CoupleContext, remember_couple_context
from nuzzle.couples.selectors import couple_day_today, invite_pending_for
from nuzzle.dashboard.selectors import Dashboard
from nuzzle.lib.prepared import Statement, day, iso
from nuzzle.lib.timezones import local_date
from prompts.models import DailyQuestion
from prompts.selectors import question_view_of
from prompts.statements import QUESTION_JSON, visible_question

# Of the chart window's check-ins, only the newest are rendered with their answers
# and responses: the dashboard shows today's two and the six before them, and a
# partner's check-in for a couple day after mine can come first (the day rules place
# them; check-ins of an earlier couple are always rendered). A shown one past this
# rank is rendered by the ORM path (`_render_missing`), so it is never wrong, only
# slower; rendering all sixty cost more than the rest of the statement.
RENDERED_NEWEST = 12


# $1 viewer, $2 and $3 the check-ins' local dates, $4 and $5 the questions' couple
# days, $6 now (for my answers' staleness).
def _dashboard_sql(rendered_newest: int) -> str:
    """The statement, rendering the newest `rendered_newest` check-ins of the current
    couple and every check-in of an earlier couple."""
    others = "c.couple_id IS DISTINCT FROM (SELECT couple_id FROM partnership)"
    return f"""
    WITH partnership AS (
        SELECT p.couple_id, p.partner_id, k.timezone AS couple_timezone,
               k.created_at AS couple_created_at,
               u.display_name AS partner_name, u.timezone AS partner_timezone
        FROM couples_partnership p
        JOIN couples_couple k ON k.id = p.couple_id
        JOIN couples_user u ON u.id = p.partner_id
        WHERE p.user_id = $1
    )
    SELECT json_build_object(
        'couple', (
            SELECT json_build_object(
                'id', couple_id, 'timezone', couple_timezone,
                'created_at', {iso("couple_created_at")},
                'partner', json_build_object(
                    'id', partner_id, 'display_name', partner_name,
                    'timezone', partner_timezone))
            FROM partnership),
        'checkins', coalesce((
            SELECT json_agg(CASE
                WHEN c.n <= {rendered_newest} OR {others}
                THEN {rendered_checkin_json(CHECKIN_JSON)}
                ELSE {rendered_checkin_json("NULL")} END ORDER BY {NEWEST_FIRST})
            FROM (
                SELECT c.*, row_number() OVER (ORDER BY {NEWEST_FIRST}) AS n
                FROM checkins_visiblecheckin c
                WHERE c.viewer_id = $1 AND c.local_date >= $2 AND c.local_date <= $3
            ) AS c
        ), '[]'::json),
        'months', coalesce((
            SELECT json_agg(json_build_array({day("t.month")}, t.days))
            FROM checkins_showedupmonth t
            WHERE t.couple_id = (SELECT couple_id FROM partnership)
        ), '[]'::json),
        'questions', coalesce((
            SELECT json_agg({QUESTION_JSON})
            FROM prompts_visiblequestion q
            JOIN prompts_prompt pr ON pr.id = q.prompt_id
            WHERE q.viewer_id = $1 AND q.current AND q.status <> '{DailyQuestion.Status.PASSED}'
              AND q.couple_date >= $4 AND q.couple_date <= $5
        ), '[]'::json),
        'freshness', coalesce((
            SELECT json_agg(json_build_array(f.whose, f.domain, f.state, f.n))
            FROM (
                SELECT 'mine' AS whose, t.domain AS domain,
                       CASE WHEN e.stale_at <= $6 THEN 'stale' ELSE 'fresh' END AS state,
                       count(*) AS n
                FROM lovemaps_lovemapentry e JOIN prompts_prompt t ON t.id = e.topic_id
                WHERE e.author_id = $1 AND e.is_current
                GROUP BY 2, 3
                UNION ALL
                SELECT 'partner', t.domain, pe.status, count(*)
                FROM lovemaps_partnerentry pe JOIN prompts_prompt t ON t.id = pe.topic_id
                WHERE pe.viewer_id = $1
                GROUP BY 2, 3
            ) AS f
        ), '[]'::json)
    )::text
    """  # noqa: S608 (built once from constants; every value is a parameter)


DASHBOARD = Statement(
    name="nuzzle_dashboard",
    types=("bigint", "date", "date", "date", "date", "timestamptz"),
    sql=_dashboard_sql(RENDERED_NEWEST),
)

# Zones are at most 26 hours apart: the couple day I am living is within a day or two
# of my local date.
_QUESTION_MARGIN = timedelta(days=2)


def _partial(model: Any, values: dict[str, Any]) -> Any:
    """An instance with only `values` loaded: the other fields are deferred (read from
    the database if anything asks), never left at a default that could be taken for
    the truth. `from_db` wants the values in the model's field order."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db("default", names, [values[name] for name in names])


def _context(user: User, found: dict[str, Any] | None) -> CoupleContext | None:
    """My couple and partner from the statement, with the fields it read (`_partial`)."""
    if found is None:
        return None
    partner = found["partner"]
    return CoupleContext(
        couple=_partial(
            Couple,
            {
                "id": found["id"],
                "timezone": found["timezone"],
                "created_at": datetime.fromisoformat(found["created_at"]),
            },
        ),
        me=user,
        partner=_partial(
            User,
            {
                "id": partner["id"],
                "display_name": partner["display_name"],
                "timezone": partner["timezone"],
            },
        ),
    )


def _render_missing(user: User, shown: list[RenderedCheckin]) -> None:
    """Render, by the ORM path, any shown check-in the statement did not (past
    `RENDERED_NEWEST`): three more queries, in the rare dashboard that needs them."""
    missing = {checkin.pk: checkin for checkin in shown if checkin.payload is None}
    for found in checkins_with_details(user=user, ids=list(missing)) if missing else []:
        missing[found.pk].payload = checkin_payload(found, user)


def _as_cards(
    user: User, context: CoupleContext | None, overview: CheckinOverview[Any]
) -> CheckinOverview[Any]:
    """The overview with its shown check-ins (today's two and the recent ones) as the
    page's cards, from the payloads the statement rendered: no query."""
    partner = context.partner if context is not None else None
    cards: dict[int, CheckinCard] = {}

    def card(checkin: RenderedCheckin) -> CheckinCard:
        if checkin.pk not in cards:
            cards[checkin.pk] = checkin_card(checkin, me=user, partner=partner)
        return cards[checkin.pk]

    today = overview.today
    return replace(
        overview,
        today=replace(
            today,
            mine=card(today.mine) if today.mine else None,
            partner=card(today.partner) if today.partner else None,
        ),
        recent=[card(c) for c in overview.recent],
        recent_days=[
            replace(group, checkins=[card(c) for c in group.checkins])
            for group in overview.recent_days
        ],
    )


def dashboard_read(*, user: User, page: bool = False) -> Dashboard:
    """ "Us today" (PostgreSQL): one statement, then the day rules.

    The shown check-ins come rendered as the API's JSON; for the `page`, they become
    its cards (`checkins.cards`), and an unpaired person's pending invite is read too
    (the API does not show it)."""
    now = timezone.now()
    first, last = overview_window(user)
    my_date = local_date(user.timezone)
    [text] = DASHBOARD.one(
        [user.pk, first, last, my_date - _QUESTION_MARGIN, my_date + _QUESTION_MARGIN, now]
    )
    found = json.loads(text)
    context = _context(user, found["couple"])
    remember_couple_context(user, context)
    window = [rendered_checkin(row) for row in found["checkins"]]
    overview: CheckinOverview[Any] = overview_of(user, window, None)
    shown = [c for c in (overview.today.mine, overview.today.partner) if c is not None]
    _render_missing(user, [*shown, *overview.recent])
    if page:
        overview = _as_cards(user, context, overview)
    showed_up = None
    if context is not None:
        months = {date.fromisoformat(month): days for month, days in found["months"]}
        this_month = overview.today.couple_date.replace(day=1)
        showed_up = ShowedUp(this_month=months.get(this_month, 0), all_time=sum(months.values()))
    question = None
    if context is not None:
        today = couple_day_today(user=user)
        rows = [row for row in found["questions"] if row["couple_date"] == today.isoformat()]
        if rows:
            question = question_view_of(visible_question(user, rows[0]), user, now)
    return Dashboard(
        couple=context,
        checkins=replace(overview, showed_up=showed_up),
        pending_invite=invite_pending_for(user=user) if page and context is None else None,
        question=question,
        freshness=freshness_of(tuple(row) for row in found["freshness"]),
    )
