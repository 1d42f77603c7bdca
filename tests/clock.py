"""Run the suite, or part of it, with the clock pinned to a given instant.

    NUZZLE_TEST_NOW=03:00 make test PYTEST_ARGS="tests/dashboard tests/checkins"
    NUZZLE_TEST_NOW=2026-12-07T03:00:00Z make test

A time of day (HH:MM, UTC) means that time on today's UTC date; a full ISO instant is
taken as it is (UTC unless it carries an offset). The clock then runs on from there
(time-machine with ticking), in every process the tests start: the offset from the real
clock is handed to child processes (Celery workers, the honcho run) through
NUZZLE_TEST_CLOCK_OFFSET, and `python -m tests.clock CMD ...` starts a command on the
same shifted clock. Tests that freeze time themselves still do (time-machine nests).

`make test-clock` runs the whole suite at 00:30, 03:00, 09:30,
11:59 and 23:30 UTC, as CI does: the hours at which partners a day apart live different
dates.
"""

from __future__ import annotations

import os
import runpy
import sys
import time
from datetime import UTC, datetime

import time_machine

NOW_ENV = "NUZZLE_TEST_NOW"
OFFSET_ENV = "NUZZLE_TEST_CLOCK_OFFSET"

_traveller: time_machine.travel | None = None


def parse_instant(value: str, *, today: datetime | None = None) -> datetime:
    """ "HH:MM" (UTC, today's date) or an ISO 8601 instant (UTC unless it has an offset)."""
    value = value.strip()
    if len(value) <= 5 and ":" in value:
        hours, minutes = (int(part) for part in value.split(":"))
        base = today or datetime.now(UTC)
        return base.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def pinned_offset() -> float | None:
    """Seconds to add to the real clock, or None when the clock is not pinned. The
    first process to ask turns NUZZLE_TEST_NOW into an offset and exports it, so that
    every process started from it (xdist workers, servers, Celery) agrees."""
    offset = os.environ.get(OFFSET_ENV)
    if offset:
        return float(offset)
    at = os.environ.get(NOW_ENV)
    if not at:
        return None
    seconds = parse_instant(at).timestamp() - time.time()
    os.environ[OFFSET_ENV] = repr(seconds)
    return seconds


def pin() -> datetime | None:
    """Shift this process's clock by the pinned offset (idempotent). Returns the
    instant it now reads, or None when the clock is not pinned."""
    global _traveller
    offset = pinned_offset()
    if offset is None:
        return None
    if _traveller is None:
        _traveller = time_machine.travel(time.time() + offset, tick=True)
        _traveller.start()
    return datetime.now(UTC)


def unpin() -> None:
    global _traveller
    if _traveller is not None:
        _traveller.stop()
        _traveller = None


if __name__ == "__main__":
    # python -m tests.clock CMD ARGS...: run a Python console script (e.g. celery) on
    # the pinned clock.
    pin()
    command, *arguments = sys.argv[1:]
    sys.argv = [command, *arguments]
    runpy.run_path(command, run_name="__main__")
