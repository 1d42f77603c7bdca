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

from checkins.selectors import ShowedUp, overview_of, overview_window
from checkins.statements import NEWEST_FIRST, RENDERED_CHECKIN_JSON, rendered_checkin
from lovemaps.selectors.freshness import freshness_of
from nuzzle.couples.models import Couple, User
from nuzzle.couples.scoping import CoupleContext, remember_couple_context
from nuzzle.couples.selectors import couple_day_today
from nuzzle.dashboard.selectors import Dashboard
from nuzzle.lib.prepared import Statement, day, iso
from nuzzle.lib.timezones import local_date
from prompts.models import DailyQuestion, Prompt, VisibleQuestion
from prompts.selectors import question_view_of

# $1 viewer, $2 and $3 the check-ins' local dates, $4 and $5 the questions' couple
# days, $6 now (for my answers' staleness).
DASHBOARD = Statement(
    name="nuzzle_dashboard",
    types=("bigint", "date", "date", "date", "date", "timestamptz"),
    sql=f"""
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
            SELECT json_agg({RENDERED_CHECKIN_JSON} ORDER BY {NEWEST_FIRST})
            FROM checkins_visiblecheckin c
            WHERE c.viewer_id = $1 AND c.local_date >= $2 AND c.local_date <= $3
        ), '[]'::json),
        'months', coalesce((
            SELECT json_agg(json_build_array({day("t.month")}, t.days))
            FROM checkins_showedupmonth t
            WHERE t.couple_id = (SELECT couple_id FROM partnership)
        ), '[]'::json),
        'questions', coalesce((
            SELECT json_agg(json_build_object(
                'id', q.id, 'couple_id', q.couple_id, 'couple_date', {day("q.couple_date")},
                'status', q.status, 'closes_at', {iso("q.closes_at")},
                'revealed_at', {iso("q.revealed_at")},
                'my_answer', q.my_answer, 'partner_answered', q.partner_answered,
                'partner_answer', q.partner_answer, 'my_reaction', q.my_reaction,
                'partner_reaction', q.partner_reaction,
                'prompt', json_build_object(
                    'id', pr.id, 'text', pr.text, 'dimension', pr.dimension,
                    'depth', pr.depth)))
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
    """,  # noqa: S608 (built once from constants; every value is a parameter)
)

# Zones are at most 26 hours apart: the couple day I am living is within a day or two
# of my local date.
_QUESTION_MARGIN = timedelta(days=2)


def _context(user: User, found: dict[str, Any] | None) -> CoupleContext | None:
    if found is None:
        return None
    couple = Couple(
        id=found["id"],
        timezone=found["timezone"],
        created_at=datetime.fromisoformat(found["created_at"]),
    )
    partner = found["partner"]
    return CoupleContext(
        couple=couple,
        me=user,
        partner=User(
            id=partner["id"], display_name=partner["display_name"], timezone=partner["timezone"]
        ),
    )


def _question(user: User, row: dict[str, Any]) -> VisibleQuestion:
    prompt = row["prompt"]
    return VisibleQuestion(
        viewer_id=user.pk,
        question_id=row["id"],
        couple_id=row["couple_id"],
        couple_date=date.fromisoformat(row["couple_date"]),
        status=row["status"],
        closes_at=datetime.fromisoformat(row["closes_at"]),
        revealed_at=datetime.fromisoformat(row["revealed_at"]) if row["revealed_at"] else None,
        current=True,
        my_answer=row["my_answer"],
        partner_answered=row["partner_answered"],
        partner_answer=row["partner_answer"],
        my_reaction=row["my_reaction"],
        partner_reaction=row["partner_reaction"],
        prompt=Prompt(
            id=prompt["id"],
            text=prompt["text"],
            dimension=prompt["dimension"],
            depth=prompt["depth"],
        ),
    )


def dashboard_read(*, user: User) -> Dashboard:
    """ "Us today" for the API (PostgreSQL): one statement, then the day rules.

    The pending invite of an unpaired person is not read: the API does not show it
    (the page reads it, through `selectors.dashboard_get`)."""
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
    overview = overview_of(user, window, None)
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
            question = question_view_of(_question(user, rows[0]), user, now)
    return Dashboard(
        couple=context,
        checkins=replace(overview, showed_up=showed_up),
        pending_invite=None,
        question=question,
        freshness=freshness_of(tuple(row) for row in found["freshness"]),
    )
