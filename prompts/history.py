"""A couple's question history, as selection needs it, read in bounded time.

The sweep keeps a summary of each couple's *settled* questions on its
QuestionSchedule row (`HistorySummary`): how many were answered by both, which prompts
were asked (a bitmap over prompt ids) and the last few prompts. Reading a couple's
history is then its summary plus the few questions after it (`unfolded_questions`),
whatever the length of the history; each sweep folds what has settled since
(`history_fold`) into the schedule row it rewrites anyway.

Why this is exact, without locks or hooks into answering and passing:
- a question is folded only once it is settled, i.e. closed for a while
  (assignment.SETTLE_GRACE): its prompt and date never change, and it can no longer be
  revealed; its status (passed, closed) is not something selection reads;
- history rows are never deleted while their couple exists (prompts are protected,
  couples end rather than disappear), and new rows are only written for a couple's
  today, never on or before a folded date (assignment.SETTLE_LAG_DAYS);
- a summary is always written whole, computed from the summary read plus rows that
  exist for good, so whichever of two racing writers wins leaves an exact summary,
  and reading the summary before the rows after it is consistent in any order of
  commits (a fold never removes a row).
A missing summary (a new couple, a deleted schedule row) costs one full read.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from django.db.models import BooleanField, ExpressionWrapper, Q

from nuzzle.lib import sql
from prompts.models import DailyQuestion

RECENT_DIMENSIONS = 4


class HistorySummary(NamedTuple):  # a tuple: a million are made per sweep
    """A couple's settled questions (couple-dates up to `through`), folded."""

    through: date | None = None  # None: nothing folded yet
    answered: int = 0  # questions both partners answered
    asked: int = 0  # selection.prompt_bits of every prompt asked (passed ones too)
    recent: tuple[int, ...] = ()  # the last RECENT_DIMENSIONS prompts, newest first

    @classmethod
    def from_db(
        cls, through: date | None, answered: int | None, asked: Any, recent: Any
    ) -> HistorySummary:
        """From the schedule's columns (all NULL when a LEFT JOIN found no row)."""
        if through is None:
            return EMPTY_HISTORY
        recent = recent or b""
        return cls(
            through,
            answered or 0,
            int.from_bytes(asked or b"", "little"),
            _UINT32S[len(recent) // 4].unpack(recent),
        )

    def asked_bytes(self) -> bytes:
        return self.asked.to_bytes((self.asked.bit_length() + 7) // 8, "little")

    def recent_bytes(self) -> bytes:
        return _UINT32S[len(self.recent)].pack(*self.recent)


_UINT32S = [struct.Struct(f"<{n}I") for n in range(RECENT_DIMENSIONS + 1)]


EMPTY_HISTORY = HistorySummary()


class Asked(NamedTuple):
    """One question of a couple's history that its summary does not hold yet."""

    couple_id: int
    id: int
    prompt_id: int
    dimension: str
    couple_date: date
    revealed: bool
    settled: bool  # closed long enough ago to be folded


ONE_DAY = timedelta(days=1)


def unfolded_questions(
    summaries: dict[int, HistorySummary], *, settled_before: datetime
) -> dict[int, list[Asked]]:
    """Each couple's questions after its summary's `through` (all of them without a
    summary), newest first as selection counts recency (one query). The couples of a
    batch share one date bound, the earliest `through`; rows before a couple's own
    are dropped here."""
    rows = DailyQuestion.objects.filter(sql.ids_in("couple_id", list(summaries)))
    folded = [summary.through for summary in summaries.values() if summary.through]
    if folded:
        since = Q(couple_date__gt=min(folded))
        unsummarized = [couple_id for couple_id, s in summaries.items() if s.through is None]
        rows = rows.filter(since | sql.ids_in("couple_id", unsummarized) if unsummarized else since)
    values = (
        rows.annotate(
            revealed=ExpressionWrapper(Q(revealed_at__isnull=False), output_field=BooleanField()),
            settled=ExpressionWrapper(
                Q(closes_at__lte=settled_before), output_field=BooleanField()
            ),
        )
        .order_by("couple_id", "-couple_date", "-id")
        .values_list(*Asked._fields[:3], "prompt__dimension", *Asked._fields[4:])
    )
    found: dict[int, list[Asked]] = {}
    questions: list[Asked] = []
    through: date | None = None
    for row in map(Asked._make, values):
        if not questions or questions[0].couple_id != row.couple_id:
            questions = found.setdefault(row.couple_id, [])
            through = summaries[row.couple_id].through
        if through is None or row.couple_date > through:
            questions.append(row)
    return found


def history_fold(
    summary: HistorySummary, rows: Sequence[Asked], *, day: date, lag_days: int
) -> HistorySummary:
    """The summary moved forward over the settled rows (newest first, all after
    `through`): up to the day before the earliest unsettled one, and at most to
    `lag_days` before `day` (the couple's today). Unchanged if nothing settled."""
    through = day - timedelta(days=lag_days)
    for row in rows:
        if not row.settled and row.couple_date <= through:
            through = row.couple_date - ONE_DAY
    if summary.through is not None and through <= summary.through:
        return summary
    answered, asked, recent = summary.answered, summary.asked, []
    for row in rows:
        if row.couple_date <= through:
            answered += row.revealed
            asked |= 1 << row.prompt_id
            recent.append(row.prompt_id)
    return HistorySummary(through, answered, asked, (*recent, *summary.recent)[:RECENT_DIMENSIONS])
