"""Shared helpers for nudge tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from nuzzle.nudges import kinds
from nuzzle.nudges.kinds import Recipient


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
