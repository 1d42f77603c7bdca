"""When nudges are due: pure functions of a person's rules and an instant.

Everything here works on local dates and wall-clock times in the person's IANA zone
and returns aware UTC instants, which is what schedule rows store (`next_due_at`).

The written rule for wall-clock times that a DST change skips or repeats:
- a time that does not exist that day (e.g. 02:30 on a spring-forward night) moves
  forward by the size of the gap (02:30 → 03:30);
- a time that occurs twice (e.g. 01:30 on a fall-back night) means its first
  occurrence.
Both are what `zoneinfo` does with `fold=0`, made explicit and tested.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from nuzzle.nudges.kinds import Cadence

ALL_DAYS = 0b1111111  # bit n set = weekday n (Monday = 0) is a nudge day
RECAP_WEEKDAY = 6  # Sunday
LOOKAHEAD_DAYS = 8  # any allowed weekday recurs within a week


@dataclass(frozen=True)
class Rules:
    """The parts of a person's preferences that decide when a nudge may go."""

    timezone: str
    nudge_time: time
    days: int = ALL_DAYS
    quiet_start: time = time(22, 0)
    quiet_end: time = time(8, 0)
    paused_until: date | None = None

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


def days_to_mask(days: list[int] | set[int]) -> int:
    return sum(1 << day for day in set(days))


def mask_to_days(mask: int) -> list[int]:
    return [day for day in range(7) if mask & (1 << day)]


def local_day(rules: Rules, instant: datetime) -> date:
    return instant.astimezone(rules.zone).date()


def at_local(rules: Rules, day: date, wall: time) -> datetime:
    """The UTC instant of `wall` o'clock on `day` in the person's zone (DST rule above)."""
    return datetime.combine(day, wall, tzinfo=rules.zone).astimezone(UTC)


def in_quiet_hours(rules: Rules, instant: datetime) -> bool:
    """Quiet hours may cross midnight (22:00–08:00); equal start and end means none."""
    start, end = rules.quiet_start, rules.quiet_end
    if start == end:
        return False
    wall = instant.astimezone(rules.zone).time()
    if start < end:
        return start <= wall < end
    return wall >= start or wall < end


def time_in_quiet_hours(rules: Rules, wall: time) -> bool:
    """Whether a wall-clock time (e.g. the chosen nudge time) falls in quiet hours."""
    start, end = rules.quiet_start, rules.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= wall < end
    return wall >= start or wall < end


def is_send_day(rules: Rules, day: date) -> bool:
    if not rules.days & (1 << day.weekday()):
        return False
    return rules.paused_until is None or day > rules.paused_until


def first_slot_from(rules: Rules, day: date) -> datetime | None:
    """The nudge time on the first send day on or after `day` (None: no send days)."""
    if rules.paused_until is not None and day <= rules.paused_until:
        if rules.paused_until >= date.max - timedelta(days=LOOKAHEAD_DAYS):
            return None  # paused until the end of the calendar: never
        day = rules.paused_until + timedelta(days=1)
    for offset in range(LOOKAHEAD_DAYS):
        candidate = day + timedelta(days=offset)
        if is_send_day(rules, candidate):
            return at_local(rules, candidate, rules.nudge_time)
    return None


def next_slot(rules: Rules, after: datetime) -> datetime | None:
    """The first nudge time strictly after `after`."""
    today = local_day(rules, after)
    slot = first_slot_from(rules, today)
    if slot is not None and slot <= after:
        slot = first_slot_from(rules, today + timedelta(days=1))
    return slot


def next_recap_slot(rules: Rules, after: datetime) -> datetime | None:
    """From the next Sunday's nudge time strictly after `after` (or the first send day
    after that Sunday when Sunday is not one)."""
    day = local_day(rules, after)
    while True:
        sunday = day + timedelta(days=(RECAP_WEEKDAY - day.weekday()) % 7)
        slot = first_slot_from(rules, sunday)
        if slot is None or slot > after:
            return slot
        day = sunday + timedelta(days=1)


def event_slot(rules: Rules, now: datetime, delay: timedelta) -> datetime | None:
    """When to tell someone about an event (their partner answered): not before their
    nudge time today, at least `delay` from now so events in a burst share one email,
    and never inside quiet hours. Too late today → tomorrow's nudge time."""
    today = local_day(rules, now)
    if is_send_day(rules, today):
        slot = max(now + delay, at_local(rules, today, rules.nudge_time))
        if in_quiet_hours(rules, slot):
            slot = _quiet_end_after(rules, slot)
        if local_day(rules, slot) == today:
            return slot
    return next_slot(rules, now)


def event_moves(
    rules: Rules, next_due_at: datetime | None, now: datetime, delay: timedelta
) -> datetime | None:
    """The new due time of an event kind's schedule row when its event happens now
    (`event_slot`), or None when the row stays as it is: nothing to send, or already
    due as soon as (or sooner than) this event would make it."""
    slot = event_slot(rules, now, delay)
    if slot is None or (next_due_at is not None and next_due_at <= slot):
        return None
    return slot


def _quiet_end_after(rules: Rules, instant: datetime) -> datetime:
    day = local_day(rules, instant)
    end = at_local(rules, day, rules.quiet_end)
    return end if end > instant else at_local(rules, day + timedelta(days=1), rules.quiet_end)


def period_key(cadence: Cadence, day: date) -> str:
    """The outbox key's period for a send on local `day`: the date for daily and event
    kinds; the ISO week for weekly ones. A recap belongs to the week of the Sunday on or
    before its day, so a recap held over to Monday is still that week's recap."""
    if cadence is Cadence.RECAP:
        day -= timedelta(days=(day.weekday() - RECAP_WEEKDAY) % 7)
    if cadence in (Cadence.WEEKLY, Cadence.RECAP):
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()
