"""Shared helpers for nudge tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from nuzzle.couples.models import User
from nuzzle.nudges import kinds
from nuzzle.nudges.kinds import Kind, Recipient
from nuzzle.nudges.models import Nudge, NudgePreferences
from nuzzle.nudges.schedule import local_day
from tests.factories import new_nudge


def everyone(recipients: Sequence[Recipient], now: datetime) -> dict[int, kinds.Context]:
    """An eligibility check that says yes to everyone."""
    return {recipient.user_id: {} for recipient in recipients}


@contextmanager
def only_checks(**checks: kinds.EligibilityCheck) -> Iterator[None]:
    """Replace every registered eligibility check with these (by kind name) for a test,
    so planning is tested apart from the feature apps' rules."""
    saved = dict(kinds._checks)
    kinds._checks.clear()
    kinds._checks.update(checks)
    try:
        yield
    finally:
        kinds._checks.clear()
        kinds._checks.update(saved)


def outbox(
    user: User, kind: Kind = Kind.QUESTION_READY, *, at: datetime, **fields: object
) -> Nudge:
    """A planned nudge, due at `at`, as the tick would have written it (delivery tests
    bind `at` to their own instant with functools.partial)."""
    rules = NudgePreferences.objects.get(user=user).rules(user.timezone)
    day = local_day(rules, at)
    values: dict[str, object] = {
        "status": Nudge.Status.PENDING,
        "next_attempt_at": at,
        "created_at": at,
        **fields,
    }
    return new_nudge(
        user=user,
        kind=kind,
        period=day.isoformat(),
        local_date=day,
        scheduled_for=at,
        **values,
    )


def fresh(nudge: Nudge) -> Nudge:
    nudge.refresh_from_db()
    return nudge
