"""Check-in hot paths as one prepared statement each (nuzzle.lib.prepared), building
the API's JSON in PostgreSQL from the who-sees-what views (`checkins_visiblecheckin`,
`checkins_visibleresponse`). Each says what the ORM path says (`selectors` rendered by
`apis`' outputs), which a PostgreSQL test compares; on SQLite the API takes that path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from nuzzle.couples.models import User
from nuzzle.couples.scoping import (
    CONTEXT_FROM,
    CoupleContext,
    context_of,
    context_select,
    remember_couple_context,
)
from nuzzle.lib.prepared import Statement, day, iso
from nuzzle.nudges.models import NudgePreferences
from nuzzle.nudges.services import ACTIVITY_GRANULARITY
from prompts.selectors import checkin_pool_sql


def checkin_json(row: str, answers: str = "checkins_checkinanswer a", of_row: bool = True) -> str:
    """One check-in as CHECKIN_OUTPUT writes it, for viewer $1, from the row `row` with
    the check-in's columns: its answers (`answers`, rows named `a`, with `of_row` those
    of this check-in only) with their questions' text, and the responses the viewer may
    see, in the ORM path's orders."""
    mine = f"WHERE a.checkin_id = {row}.id" if of_row else ""
    return f"""json_build_object(
    'id', {row}.id,
    'date', {day(f"{row}.local_date")},
    'couple_date', {day(f"{row}.couple_date")},
    'author', CASE WHEN {row}.author_id = $1 THEN 'me' ELSE 'partner' END,
    'mood', {row}.mood,
    'energy', {row}.energy,
    'answers', coalesce((
        SELECT json_agg(json_build_object(
            'question_id', a.prompt_id, 'question', q.text, 'text', a.text
        ) ORDER BY a.position, a.id)
        FROM {answers} JOIN prompts_prompt q ON q.id = a.prompt_id
        {mine}), '[]'::json),
    'visibility', {row}.visibility,
    'responses', coalesce((
        SELECT json_agg(json_build_object(
            'id', r.id,
            'author', CASE WHEN r.author_id = $1 THEN 'me' ELSE 'partner' END,
            'reaction', nullif(r.reaction, ''),
            'text', r.text,
            'created_at', {iso("r.created_at")},
            'updated_at', {iso("r.updated_at")}
        ) ORDER BY r.created_at, r.id)
        FROM checkins_visibleresponse r
        WHERE r.viewer_id = $1 AND r.checkin_id = {row}.id), '[]'::json),
    'updated_at', {iso(f"{row}.updated_at")}
)"""  # noqa: S608 (built from constants)


CHECKIN_JSON = checkin_json("c")

# The order of `selectors._visible_between`: newest couple day first.
NEWEST_FIRST = "c.couple_date DESC, c.local_date DESC, c.created_at DESC, c.id DESC"

# $1 viewer, $2 and $3 the first and last local date (NULL: open), $4 a page's size,
# $5 its offset → how many there are in all, and the page as a JSON array.
CHECKIN_PAGE = Statement(
    name="nuzzle_checkin_page",
    types=("bigint", "date", "date", "integer", "integer"),
    sql=f"""
    WITH seen AS (
        SELECT v.id, v.author_id, v.local_date, v.couple_date, v.mood, v.energy,
               v.visibility, v.created_at, v.updated_at
        FROM checkins_visiblecheckin v
        WHERE v.viewer_id = $1
          AND v.local_date >= coalesce($2, '-infinity'::date)
          AND v.local_date <= coalesce($3, 'infinity'::date)
    ), page AS (
        SELECT * FROM seen c ORDER BY {NEWEST_FIRST} LIMIT $4 OFFSET $5
    )
    SELECT (SELECT count(*) FROM seen),
           coalesce((SELECT json_agg({CHECKIN_JSON} ORDER BY {NEWEST_FIRST}) FROM page c),
                    '[]'::json)::text
    """,  # noqa: S608 (built once from constants; every value is a parameter)
)


_INT_MAX = 2**31 - 1


@dataclass(frozen=True)
class CheckinPage:
    count: int  # how many check-ins the filters match, in all
    results: str  # the page, as the API's JSON array


def checkin_page_json(
    *, user: User, date_from: date | None, date_to: date | None, size: int, offset: int
) -> CheckinPage:
    """A page of `selectors.checkin_list` as the API's JSON, with the total count
    (PostgreSQL; one statement)."""
    # A page past 2**31 rows is past the end whatever the count: the page comes back
    # empty and the API's pagination says 404, as for any page past the end.
    offset = min(offset, _INT_MAX)
    count, results = CHECKIN_PAGE.one([user.pk, date_from, date_to, size, offset])
    return CheckinPage(count=int(count), results=str(results))


@dataclass(slots=True)
class RenderedCheckin:
    """A check-in the database has rendered as the API shows it (`payload`, what
    `apis.checkin_payload` would make), with the columns the day rules read
    (`selectors.SeenCheckin`): the dashboard's statement returns these."""

    pk: int
    author_id: int
    couple_id: int | None
    local_date: date
    couple_date: date
    mood: int
    created_at: datetime
    payload: dict[str, Any] | None  # None: not rendered (only read for the day rules)


def rendered_checkin_json(payload: str) -> str:
    """The columns `RenderedCheckin` needs and `payload` (SQL: `CHECKIN_JSON`, or NULL
    for a check-in read only for the day rules), for a row `c` of the
    checkins_visiblecheckin view, as one JSON array in `RenderedCheckin`'s order."""
    return f"""json_build_array(
    c.id, c.author_id, c.couple_id, {day("c.local_date")}, {day("c.couple_date")},
    c.mood, {iso("c.created_at")}, {payload}
)"""


def rendered_checkin(row: list[Any]) -> RenderedCheckin:
    """One `rendered_checkin_json` array, parsed."""
    pk, author_id, couple_id, local, shared, mood, created_at, payload = row
    return RenderedCheckin(
        pk,
        author_id,
        couple_id,
        date.fromisoformat(local),
        date.fromisoformat(shared),
        mood,
        datetime.fromisoformat(created_at),
        payload,
    )


# --- Check-in PUT: what it needs to know, then the write and its read-back ---------------


@cache
def _put_context() -> Statement:
    """$1 me, $2 a locale → the check-in questions' pool, and my couple and partner
    (`scoping.context_select`, NULLs when unpaired): what a PUT validates against, in
    one round trip."""
    return Statement(
        name="nuzzle_checkin_context",
        types=("bigint", "varchar"),
        sql=f"""
        SELECT ARRAY({checkin_pool_sql("$2")}), c.*
        FROM (SELECT 1) AS one
        LEFT JOIN (SELECT {context_select()} {CONTEXT_FROM}) AS c ON true
        """,  # noqa: S608 (built once from constants; every value is a parameter)
    )


def checkin_context(*, user: User, locale: str = "en") -> tuple[CoupleContext | None, list[int]]:
    """My couple context (remembered for the rest of the request, as `couple_context`
    would read it) and the check-in questions' pool (PostgreSQL; one statement)."""
    rows = _put_context().rows([user.pk, locale])
    pool = list(rows[0][0])
    context = context_of(user, [row[1:] for row in rows])
    remember_couple_context(user, context)
    return context, pool


# $1 author, $2 their local today, $3 the couple (NULL unpaired), $4 its couple day,
# $5 mood, $6 energy, $7 visibility, $8 now, $9 and $10 the answers' question ids and
# texts (in order), $11 the oldest activity mark left as it is
# (now - nudges.services.ACTIVITY_GRANULARITY).
#
# What `services.checkin_submit` does with the ORM, in one statement: refuse when I
# have already checked in for a later date (nothing is written; the date is returned);
# otherwise insert today's row or update it (a check-in written unpaired joins the
# couple formed later that day; one written in a couple never moves), make its answers
# exactly the given ones, note my activity (at most hourly), and return the check-in
# as the API shows it. The unique (author, local_date) key makes a double submit an
# update, as the ORM path's get_or_create does.
CHECKIN_WRITE = Statement(
    name="nuzzle_checkin_write",
    types=(
        "bigint",
        "date",
        "bigint",
        "date",
        "smallint",
        "smallint",
        "varchar",
        "timestamptz",
        "bigint[]",
        "text[]",
        "timestamptz",
    ),
    sql=f"""
    WITH later AS (
        SELECT local_date FROM checkins_checkin
        WHERE author_id = $1 AND local_date > $2
        ORDER BY local_date LIMIT 1
    ), written AS (
        INSERT INTO checkins_checkin AS c (
            author_id, couple_id, local_date, couple_date, mood, energy, visibility,
            created_at, updated_at)
        SELECT $1, $3, $2, $4, $5, $6, $7, $8, $8
        WHERE NOT EXISTS (SELECT 1 FROM later)
        ON CONFLICT (author_id, local_date) DO UPDATE SET
            mood = EXCLUDED.mood,
            energy = EXCLUDED.energy,
            visibility = EXCLUDED.visibility,
            updated_at = EXCLUDED.updated_at,
            couple_id = coalesce(c.couple_id, EXCLUDED.couple_id),
            couple_date = CASE WHEN c.couple_id IS NULL AND EXCLUDED.couple_id IS NOT NULL
                               THEN EXCLUDED.couple_date ELSE c.couple_date END
        RETURNING c.id, c.author_id, c.couple_id, c.local_date, c.couple_date, c.mood,
                  c.energy, c.visibility, c.created_at, c.updated_at, (c.xmax = 0) AS created
    ), given AS (
        SELECT a.prompt_id, a.text, (a.n - 1)::smallint AS position
        FROM unnest($9::bigint[], $10::text[]) WITH ORDINALITY AS a(prompt_id, text, n)
    ), dropped AS (
        DELETE FROM checkins_checkinanswer d USING written w
        WHERE d.checkin_id = w.id AND NOT (d.prompt_id = ANY ($9::bigint[]))
    ), kept AS (
        INSERT INTO checkins_checkinanswer AS k (checkin_id, prompt_id, text, position)
        SELECT w.id, g.prompt_id, g.text, g.position FROM written w CROSS JOIN given g
        ON CONFLICT (checkin_id, prompt_id) DO UPDATE SET
            text = EXCLUDED.text, position = EXCLUDED.position
        RETURNING k.id, k.prompt_id, k.text, k.position
    ), noted AS (
        UPDATE {NudgePreferences._meta.db_table} SET last_active_at = $8
        WHERE user_id = $1 AND last_active_at < $11 AND EXISTS (SELECT 1 FROM written)
    )
    SELECT (SELECT local_date FROM later), w.created,
           CASE WHEN w.id IS NULL THEN NULL
                ELSE {checkin_json("w", answers="kept a", of_row=False)}::text END
    FROM (SELECT 1) AS one LEFT JOIN written w ON true
    """,  # noqa: S608 (built once from constants; every value is a parameter)
)


@dataclass(frozen=True)
class Written:
    later: date | None  # a later date I have checked in for: nothing was written
    created: bool
    payload: str | None  # the check-in as the API shows it, when written


def checkin_write(
    *,
    user: User,
    today: date,
    couple_id: int | None,
    couple_date: date,
    mood: int,
    energy: int | None,
    visibility: str,
    answers: list[tuple[int, str]],
    now: datetime,
) -> Written:
    """`CHECKIN_WRITE` for validated input (PostgreSQL; one statement)."""
    later, created, payload = CHECKIN_WRITE.one(
        [
            user.pk,
            today,
            couple_id,
            couple_date,
            mood,
            energy,
            visibility,
            now,
            [question_id for question_id, _ in answers],
            [text for _, text in answers],
            now - ACTIVITY_GRANULARITY,
        ]
    )
    return Written(later=later, created=bool(created), payload=payload)
