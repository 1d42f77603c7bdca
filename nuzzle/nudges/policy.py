"""The pipeline's knobs, read from settings in one place and handed on as plain values.

The rules themselves are in `decisions.py` (pure); this module only says how wide the
windows are and how hard delivery tries, as configured (`NUDGE_*` in settings.py,
documented in .env.example). Both retries live here:

- **a nudge's own retries** (a temporary failure of its channel: SMTP 4xx, a dropped
  connection before the message went): `retry_policy()`, from
  `NUDGE_RETRY_BACKOFF_SECONDS`;
- **the delivery task's retries** (the database dropped mid-run): `DELIVER_TASK_RETRY`,
  Celery's own options. Rows that run had claimed come back when their lease expires
  (`lease()`), so the task retrying never sends twice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError

from nuzzle.nudges.decisions import RetryPolicy

# Delivery sends only while at least this many send timeouts of its lease remain, so a
# slow channel cannot keep a row past its lease (see `delivery`; checked in checks.py).
LEASE_TIMEOUTS = 3

DELIVER_TASK_RETRY: dict[str, Any] = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "max_retries": 3,
}


def retry_policy() -> RetryPolicy:
    """Waits after each failed try (by default 1, 5, 15 and 60 minutes). Together they
    stay well inside the default send window (120 min), so a row still failing then is
    skipped as too late by delivery's re-check rather than sent at night."""
    return RetryPolicy(tuple(timedelta(seconds=s) for s in settings.NUDGE_RETRY_BACKOFF_SECONDS))


def send_window() -> timedelta:
    """How late a nudge may still go out; later than this it is skipped, not sent."""
    return timedelta(minutes=settings.NUDGE_SEND_WINDOW_MINUTES)


def event_delay() -> timedelta:
    """Events within this long of each other share one nudge."""
    return timedelta(minutes=settings.NUDGE_EVENT_DELAY_MINUTES)


def lease() -> timedelta:
    """How long a delivery run may hold the outbox rows it claimed."""
    return timedelta(seconds=settings.NUDGE_LEASE_SECONDS)
