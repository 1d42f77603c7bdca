"""Reads about nudges: a person's preferences (as plain data) and their own nudges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import QuerySet

from nuzzle.couples.models import User
from nuzzle.nudges.kinds import CATALOGUE
from nuzzle.nudges.models import Nudge, NudgeSchedule
from nuzzle.nudges.schedule import mask_to_days
from nuzzle.nudges.services import preferences_for


@dataclass(frozen=True)
class PreferencesView:
    nudge_time: time
    days: list[int]
    quiet_start: time
    quiet_end: time
    paused_until: date | None
    daily_cap: int
    kinds: dict[str, bool]  # every kind, in priority order
    timezone: str
    suppressed_at: datetime | None


def preferences_get(*, user: User) -> PreferencesView:
    """A person's nudge preferences with every kind's on/off state (two queries)."""
    prefs = preferences_for(user)
    enabled = dict(NudgeSchedule.objects.filter(user=user).values_list("kind", "enabled"))
    return PreferencesView(
        nudge_time=prefs.nudge_time,
        days=mask_to_days(prefs.days),
        quiet_start=prefs.quiet_start,
        quiet_end=prefs.quiet_end,
        paused_until=prefs.paused_until,
        daily_cap=prefs.daily_cap,
        kinds={
            spec.kind.value: enabled.get(spec.kind.value, spec.default_on) for spec in CATALOGUE
        },
        timezone=user.timezone,
        suppressed_at=prefs.suppressed_at,
    )


def nudge_list(*, user: User) -> QuerySet[Nudge]:
    """My own nudges, newest first. Nobody else's, ever (not even my partner's)."""
    return Nudge.objects.filter(user=user).order_by("-scheduled_for", "-id")
