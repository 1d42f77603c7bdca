"""The answer POST as prepared statements (nuzzle.lib.prepared), on PostgreSQL:
lock the question, write, read it back as the viewer may see it (from the
`prompts_visiblequestion` view, which seals the partner's words). What is decided
(missing, revealed, closed) stays in `services`, in Python, for both paths. A
PostgreSQL test holds this path to the ORM path's rows and replies, and two partners
answering at once still reveal exactly once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from nuzzle.couples.models import User
from nuzzle.lib.prepared import Statement, day, iso
from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.models import NudgePreferences, NudgeSchedule
from nuzzle.nudges.schedule import Rules
from nuzzle.nudges.services import ACTIVITY_GRANULARITY
from prompts.models import DailyQuestion, Prompt, VisibleQuestion

_PASSED = DailyQuestion.Status.PASSED

# One row `q` of prompts_visiblequestion with its prompt `pr`, as one JSON object (the
# dashboard's statement reads questions this way too); `visible_question` parses it.
QUESTION_JSON = f"""json_build_object(
    'id', q.id, 'couple_id', q.couple_id, 'couple_date', {day("q.couple_date")},
    'status', q.status, 'closes_at', {iso("q.closes_at")},
    'revealed_at', {iso("q.revealed_at")},
    'current', q.current,
    'my_answer', q.my_answer, 'partner_answered', q.partner_answered,
    'partner_answer', q.partner_answer, 'my_reaction', q.my_reaction,
    'partner_reaction', q.partner_reaction,
    'prompt', json_build_object(
        'id', pr.id, 'text', pr.text, 'dimension', pr.dimension, 'depth', pr.depth))"""


def visible_question(viewer: User, row: dict[str, Any]) -> VisibleQuestion:
    """One `QUESTION_JSON` object as the view's row (unsaved: what
    `selectors.question_view_of` reads)."""
    prompt = row["prompt"]
    return VisibleQuestion(
        viewer_id=viewer.pk,
        question_id=row["id"],
        couple_id=row["couple_id"],
        couple_date=date.fromisoformat(row["couple_date"]),
        status=row["status"],
        closes_at=datetime.fromisoformat(row["closes_at"]),
        revealed_at=datetime.fromisoformat(row["revealed_at"]) if row["revealed_at"] else None,
        current=row["current"],
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


# $1 viewer, $2 question → the question of my current couple (not a passed one),
# locked until the transaction ends, with my partner's enabled "partner answered"
# schedule row (its id and due time) and the preferences that decide when it may go
# (NULLs when they have turned it off): what `nudge_enqueue` reads. No row: not ours.
QUESTION_LOCK = Statement(
    name="nuzzle_question_lock",
    types=("bigint", "bigint"),
    sql=f"""
    SELECT dq.status, dq.closes_at, dq.revealed_at, s.id, s.next_due_at, u.timezone,
           np.nudge_time, np.days, np.quiet_start, np.quiet_end, np.paused_until
    FROM prompts_dailyquestion dq
    JOIN couples_partnership p ON p.couple_id = dq.couple_id AND p.user_id = $1
    LEFT JOIN {NudgeSchedule._meta.db_table} s
      ON s.user_id = p.partner_id AND s.kind = '{Kind.PARTNER_ANSWERED}' AND s.enabled
    LEFT JOIN {NudgePreferences._meta.db_table} np ON np.user_id = s.user_id
    LEFT JOIN couples_user u ON u.id = s.user_id
    WHERE dq.id = $2 AND dq.status <> '{_PASSED}'
    FOR UPDATE OF dq
    """,  # noqa: S608 (built once from constants; every value is a parameter)
)

# $1 viewer, $2 question (locked by QUESTION_LOCK in this transaction), $3 text, $4 now,
# $5 the oldest activity mark left as it is, $6 and $7 my partner's schedule row to move
# and its new due time (NULL: none) → whether the answer is new. A new answer when my
# partner's is there reveals the question (this statement runs after the lock was
# granted, so it sees an answer my partner committed while I waited), and moves my
# partner's "partner answered" nudge (an edit is not news).
QUESTION_WRITE = Statement(
    name="nuzzle_question_write",
    types=("bigint", "bigint", "text", "timestamptz", "timestamptz", "bigint", "timestamptz"),
    sql=f"""
    WITH written AS (
        INSERT INTO prompts_questionanswer AS a
            (question_id, author_id, text, created_at, updated_at)
        VALUES ($2, $1, $3, $4, $4)
        ON CONFLICT (question_id, author_id) DO UPDATE SET
            text = EXCLUDED.text, updated_at = EXCLUDED.updated_at
        RETURNING (a.xmax = 0) AS created
    ), revealed AS (
        UPDATE prompts_dailyquestion SET revealed_at = $4
        WHERE id = $2
          AND (SELECT created FROM written)
          AND EXISTS (
              SELECT 1 FROM prompts_questionanswer o WHERE o.question_id = $2 AND o.author_id <> $1
          )
    ), noted AS (
        UPDATE {NudgePreferences._meta.db_table} SET last_active_at = $4
        WHERE user_id = $1 AND last_active_at < $5
    ), nudged AS (
        UPDATE {NudgeSchedule._meta.db_table} SET next_due_at = $7
        WHERE id = $6 AND (SELECT created FROM written)
    )
    SELECT created FROM written
    """,  # noqa: S608 (built once from constants; every value is a parameter)
)

# $1 viewer, $2 question → the question as the viewer may see it (the view's row),
# and our couple's zone (where its couple day sits in my calendar).
QUESTION_SEEN = Statement(
    name="nuzzle_question_seen",
    types=("bigint", "bigint"),
    sql=f"""
    SELECT {QUESTION_JSON}::text, k.timezone
    FROM prompts_visiblequestion q
    JOIN prompts_prompt pr ON pr.id = q.prompt_id
    JOIN couples_couple k ON k.id = q.couple_id
    WHERE q.viewer_id = $1 AND q.id = $2 AND q.current AND q.status <> '{_PASSED}'
    """,  # noqa: S608 (built once from constants; every value is a parameter)
)


@dataclass(frozen=True)
class PartnerNudge:
    """My partner's "partner answered" schedule row, as `nudge_enqueue` reads it."""

    schedule_id: int
    next_due_at: datetime | None
    rules: Rules


@dataclass(frozen=True)
class Locked:
    status: str
    closes_at: datetime
    revealed_at: datetime | None
    partner_nudge: PartnerNudge | None  # None: they have turned it off


def question_lock(*, user: User, question_id: int) -> Locked | None:
    """Lock one of our questions for this transaction (None: not ours, or passed)."""
    rows = QUESTION_LOCK.rows([user.pk, question_id])
    if not rows:
        return None
    status, closes_at, revealed_at, schedule_id, due, zone, *prefs = rows[0]
    nudge = None
    if schedule_id is not None:
        nudge_time, days, quiet_start, quiet_end, paused_until = prefs
        rules = Rules(zone, nudge_time, days, quiet_start, quiet_end, paused_until)
        nudge = PartnerNudge(schedule_id, due, rules)
    return Locked(status, closes_at, revealed_at, nudge)


def question_write(
    *,
    user: User,
    question_id: int,
    text: str,
    now: datetime,
    partner_nudge: tuple[int, datetime] | None = None,
) -> bool:
    """Write my answer to the locked question; True when it is new. A new answer moves
    `partner_nudge` (my partner's schedule row, to its new due time)."""
    schedule_id, due = partner_nudge or (None, None)
    params = [user.pk, question_id, text, now, now - ACTIVITY_GRANULARITY, schedule_id, due]
    [created] = QUESTION_WRITE.one(params)
    return bool(created)


def question_seen(*, user: User, question_id: int) -> tuple[VisibleQuestion, str] | None:
    """The question as I may see it, from the view, with our couple's zone (None: not
    one of ours)."""
    rows = QUESTION_SEEN.rows([user.pk, question_id])
    if not rows:
        return None
    row, couple_timezone = rows[0]
    return visible_question(user, json.loads(row)), couple_timezone
