"""The catalogue of nudge kinds, and the hook feature apps use to say who needs one.

`nudges` sits below the feature apps (docs/architecture.md: Layering), so it never imports
them. Each kind's *eligibility* ("has this person not answered today's question?") is
answered by a function the owning feature app registers in its `AppConfig.ready()`.
A check takes a batch of recipients and returns, for the eligible ones only, a small
JSON-able context of counts and flags — never anyone's words — that the email renders.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import models


class Kind(models.TextChoices):
    QUESTION_READY = "question_ready", "Today's question is waiting"
    CHECKIN_REMINDER = "checkin_reminder", "Check-in reminder"
    PARTNER_ANSWERED = "partner_answered", "Your partner answered"
    LOVEMAP_STALE = "lovemap_stale", "Love map answers to refresh"
    LOVEMAP_CATCHUP = "lovemap_catchup", "Your partner's love map updates"
    WEEKLY_RECAP = "weekly_recap", "Weekly recap"


class Cadence(enum.Enum):
    DAILY = "daily"  # at the nudge time on each chosen day; key: local date
    WEEKLY = "weekly"  # at most once in any 7 days; key: ISO week
    RECAP = "recap"  # once a week, from Sunday's nudge time; key: ISO week of that Sunday
    EVENT = "event"  # due when something happens (batched, once a day); key: local date


@dataclass(frozen=True)
class KindSpec:
    """Everything about one kind, in one place. Adding a kind: see CONTRIBUTING.md."""

    kind: Kind
    cadence: Cadence
    default_on: bool
    description: str  # shown on the preferences page
    # Where the nudge takes the person (a URL name; made absolute with SITE_URL).
    deep_link: str
    # The only values a nudge of this kind may show, with their types: what its
    # eligibility check returns for an eligible person (flags and counts, never anyone's
    # words). Anything else a check returns is dropped before rendering.
    context: dict[str, type] = field(default_factory=dict, hash=False)


# Order is priority: when more nudges are due than the daily cap allows, the earlier
# kind goes and the later ones wait (weekly kinds) or are dropped for the day.
CATALOGUE: tuple[KindSpec, ...] = (
    KindSpec(
        Kind.PARTNER_ANSWERED,
        Cadence.EVENT,
        True,
        "When your partner answers the day's question (at most one a day).",
        deep_link="question",
        context={"revealed": bool},  # true when I had answered first
    ),
    KindSpec(
        Kind.WEEKLY_RECAP,
        Cadence.RECAP,
        True,
        "A short look back at your week, on Sunday.",
        deep_link="home",
        # The last seven days.
        context={"days_together": int, "questions_revealed": int, "lovemap_updates": int},
    ),
    KindSpec(
        Kind.LOVEMAP_CATCHUP,
        Cadence.WEEKLY,
        True,
        "When your partner has updated their love map (at most weekly).",
        deep_link="lovemap-partner",
        context={"updates": int},  # partner answers new or changed since I looked
    ),
    KindSpec(
        Kind.LOVEMAP_STALE,
        Cadence.WEEKLY,
        True,
        "When some of your love map answers may be out of date (at most weekly).",
        deep_link="lovemap-mine",
        context={"stale": int},  # my current answers past their half-life
    ),
    KindSpec(
        Kind.QUESTION_READY,
        Cadence.DAILY,
        True,
        "When the day's question is waiting and you haven't answered yet.",
        deep_link="question",
        context={"partner_answered": bool},
    ),
    KindSpec(
        Kind.CHECKIN_REMINDER,
        Cadence.DAILY,
        False,
        "A gentle reminder to check in, on days you haven't yet.",
        deep_link="checkin",
    ),
)
SPECS: dict[str, KindSpec] = {spec.kind.value: spec for spec in CATALOGUE}
PRIORITY: dict[str, int] = {spec.kind.value: rank for rank, spec in enumerate(CATALOGUE)}


@dataclass(frozen=True)
class Recipient:
    """Who an eligibility check is asked about: a person and their current local day."""

    user_id: int
    local_date: date


# What a kind's check returns for an eligible person: its `KindSpec.context` fields.
Context = dict[str, Any]
EligibilityCheck = Callable[[Sequence[Recipient], datetime], dict[int, Context]]
_checks: dict[str, EligibilityCheck] = {}


def register(kind: Kind, check: EligibilityCheck) -> None:
    """Called by the feature app that owns a kind, once, from `AppConfig.ready()`."""
    _checks[kind.value] = check


def eligible(kind: str, recipients: Sequence[Recipient], now: datetime) -> dict[int, Context]:
    """Of `recipients`, those who should get `kind` now, each with its email context.
    A kind whose owning app registered no check is never sent."""
    check = _checks.get(kind)
    if check is None or not recipients:
        return {}
    return check(recipients, now)
