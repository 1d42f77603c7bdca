"""Per-prompt usage statistics for the prompt admin: times asked, answer rate and skip
rate, as annotations on the changelist's queryset, and the hook check-ins and love maps
use to say what "times asked" counts for their kinds of prompt.

The statistics are correlated subqueries over indexes (daily questions by (prompt,
status); check-in answers and love-map entries by prompt), so the changelist runs a
fixed number of queries however many questions were asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, FloatField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce

from prompts.models import DailyQuestion, Prompt

NEVER = "—"  # shown for a prompt that was never asked
NOT_DAILY = "n/a"  # answer and skip rates of prompts that are not daily questions


# What "times asked" counts depends on the kind of prompt, because each kind is asked
# somewhere else: a daily question is asked of a couple (a DailyQuestion row, here); a
# check-in question is asked in the check-in form and counted in the check-ins that
# answered it; a love-map topic counts the people who have answered it. Check-ins and
# love maps sit above prompts in the layering, so they register their count here
# (`usage_register`, from their admin modules) rather than prompts importing them.
# Answer and skip rates are about daily questions only.


@dataclass(frozen=True)
class UsageCounter:
    """Rows that each count one use of a prompt, and the field naming the prompt."""

    rows: QuerySet[Any]
    prompt_field: str


_usage_counters: dict[str, UsageCounter] = {}


def usage_register(*, kind: str, rows: QuerySet[Any], prompt_field: str) -> None:
    """Count `rows` (one per use) as the "times asked" of prompts of `kind`. Called
    once per kind by the app that asks it (check-ins, love maps), from its admin
    module."""
    _usage_counters[kind] = UsageCounter(rows=rows, prompt_field=prompt_field)


def usage_counters() -> dict[str, UsageCounter]:
    """The registered counters, by prompt kind."""
    return dict(_usage_counters)


def _count_per_prompt(counter: UsageCounter) -> Subquery:
    """A correlated subquery: how many of `counter.rows` name one prompt (an index
    lookup on the prompt's foreign key)."""
    field = counter.prompt_field
    return Subquery(
        counter.rows.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(value=Count(field))
        .values("value")
    )


def _per_prompt(value: Any) -> Subquery:
    """A correlated subquery: `value` aggregated over one prompt's daily questions."""
    return Subquery(
        DailyQuestion.objects.filter(prompt=OuterRef("pk"))
        .order_by()
        .values("prompt")
        .annotate(value=value)
        .values("value")
    )


def _rate(count: Count) -> Any:
    """`count` as a share (0..1) of the prompt's questions."""
    return Cast(count, FloatField()) / Cast(Count("prompt"), FloatField())


def with_statistics(queryset: QuerySet[Prompt]) -> QuerySet[Prompt]:
    """Times asked (for daily questions: every daily question, passed ones included;
    for other kinds: their registered count), answer rate (share revealed: both
    partners answered) and skip rate (share passed), per prompt.

    Only the columns prompt, status and revealed_at of daily questions are read (never
    `id`): times asked and skip rate come from the (prompt, status) index alone on
    PostgreSQL; the answer rate needs revealed_at, from the table until that index also
    covers it. Each prompt evaluates only the count of its own kind."""
    other_kinds = [
        When(kind=kind, then=_count_per_prompt(counter))
        for kind, counter in usage_counters().items()
        if kind != Prompt.Kind.QUESTION
    ]
    times_asked = Case(*other_kinds, default=_per_prompt(Count("prompt")))
    return queryset.annotate(
        stat_times_asked=Coalesce(times_asked, Value(0)),
        stat_answer_rate=_per_prompt(_rate(Count("revealed_at"))),
        stat_skip_rate=_per_prompt(
            _rate(Count("prompt", filter=Q(status=DailyQuestion.Status.PASSED)))
        ),
    )


def percent(rate: float | None) -> str:
    """A rate (0..1) as a whole percentage; NEVER for a prompt never asked."""
    return NEVER if rate is None else f"{round(rate * 100)}%"
