"""Every rule that decides a nudge, as pure functions of plain values.

No database, no settings, no clock: each function is given what it needs (a person's
`Rules`, instants, counts, the windows from `policy`) and returns a plain answer.
Planning (`planning.py`) and delivery (`delivery/`) move rows; the answers come from
here, so both ask the same question the same way and the rules are unit-tested on
their own (tests/nudges/test_decisions.py).

- **When is a kind due next?** `first_due` (a new or changed schedule) and `advance`
  (after a due row was handled), per cadence.
- **May it still go?** `too_late` and `late_reason`: past the send window, on a later
  local day, or inside quiet hours.
- **Send, hold or skip?** `decide`: nothing to say, already said this period, too
  late, over the daily cap, or the quiet-partner back-off.
- **After a failed try?** `RetryPolicy.after_failure`: wait and try again, or give up.
- **Which channels?** `channels_for`: a person's choice and whether they have a device;
  `row_outcome`: what the channels' answers mean for the one outbox row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from nuzzle.nudges.kinds import Cadence
from nuzzle.nudges.schedule import (
    Rules,
    event_slot,
    in_quiet_hours,
    local_day,
    next_recap_slot,
    next_slot,
)

# No activity this long → at most one nudge a week until the person comes back.
QUIET_PERSON_AFTER = timedelta(days=7)
# Weekly kinds go at most once in any seven days (a second less, so the same wall-clock
# time a week later is allowed).
WEEK = timedelta(days=7, seconds=-1)

Outcome = Literal["send", "late", "held", "idle"]


# --- When a kind is due -----------------------------------------------------------


def first_due(
    cadence: Cadence,
    rules: Rules,
    now: datetime,
    *,
    last_sent: datetime | None,
    pending_event: bool,
    event_delay: timedelta,
) -> datetime | None:
    """A schedule row's due time after its person's rules or zone changed (or it was
    created). Weekly kinds keep their spacing from `last_sent`; an event kind is due
    only while an event is waiting (`pending_event`), re-timed to the new rules."""
    if cadence is Cadence.DAILY:
        return next_slot(rules, now)
    if cadence is Cadence.WEEKLY:
        after = now if last_sent is None else max(now, last_sent + WEEK)
        return next_slot(rules, after)
    if cadence is Cadence.RECAP:
        return next_recap_slot(rules, now)
    return event_slot(rules, now, event_delay) if pending_event else None


def advance(
    cadence: Cadence, rules: Rules, slot: datetime, now: datetime, outcome: Outcome
) -> datetime | None:
    """Where a due row goes after the tick handled it with `outcome`. Always past `now`
    (or None), so a tick never spins on a row."""
    after = max(now, slot)
    if cadence is Cadence.EVENT:
        return None  # the next event sets it again
    if cadence is Cadence.DAILY:
        return next_slot(rules, after)
    if cadence is Cadence.WEEKLY:
        if outcome == "send":
            return next_slot(rules, max(after, slot + WEEK))
        return next_slot(rules, after)  # look again tomorrow
    # Recap: held back or late → try tomorrow (still this week's recap); else next Sunday.
    if outcome in ("held", "late"):
        return next_slot(rules, after)
    return next_recap_slot(rules, after)


def records_late(cadence: Cadence) -> bool:
    """Whether a late nudge of this cadence is written to the outbox as skipped: daily
    and event nudges (their period is over); weekly ones simply wait for the next day."""
    return cadence in (Cadence.DAILY, Cadence.EVENT)


# --- May it still go --------------------------------------------------------------


def too_late(rules: Rules, slot: datetime, now: datetime, window: timedelta) -> bool:
    """A nudge that cannot go near its time is skipped: more than `window` past its
    slot, on a later local day, or now inside quiet hours (the scheduler was down for
    hours). Asked twice: when planning, and by delivery just before each send."""
    return (
        now - slot > window
        or local_day(rules, now) != local_day(rules, slot)
        or in_quiet_hours(rules, now)
    )


def late_reason(rules: Rules, slot: datetime, now: datetime) -> str:
    """Why `too_late` said yes, in words for the outbox row."""
    if in_quiet_hours(rules, now):
        return "not sent: it was already quiet hours when it could go out"
    return f"not sent: {int((now - slot).total_seconds() // 60)} minutes late"


# --- Send, hold or skip -----------------------------------------------------------


def decide(
    *,
    eligible: bool,
    said_this_period: bool,
    late: bool,
    sent_today: int,
    daily_cap: int,
    last_active_at: datetime,
    last_nudged: datetime | None,
    now: datetime,
) -> Outcome:
    """What the tick does with one due (person, kind):
    - `idle`: the kind has nothing to say (not `eligible`), or said it this period;
    - `late`: its time has passed (`too_late`);
    - `held`: the person reached their daily cap, or has gone quiet (no activity for
      `QUIET_PERSON_AFTER`) and had a nudge within that time;
    - `send`."""
    if not eligible or said_this_period:
        return "idle"
    if late:
        return "late"
    if sent_today >= daily_cap:
        return "held"
    gone_quiet = now - last_active_at > QUIET_PERSON_AFTER
    if gone_quiet and last_nudged is not None and now - last_nudged < QUIET_PERSON_AFTER:
        return "held"
    return "send"


# --- After a failed try -----------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """The waits after each failed try of a temporary failure; the try after the last
    wait is final. `policy.retry_policy()` builds the configured one."""

    waits: tuple[timedelta, ...]

    @property
    def max_attempts(self) -> int:
        return len(self.waits) + 1

    def after_failure(self, tries: int) -> timedelta | None:
        """After `tries` failed tries in all: how long to wait before the next, or None
        to give up for good."""
        if tries >= self.max_attempts:
            return None
        return self.waits[tries - 1]


# Channels, in the order a row tries them: push first, so that "push if I have a device,
# else email" can fall back within the same row.
PUSH, EMAIL = "push", "email"


def channels_for(choice: str, has_device: bool) -> tuple[str, ...]:
    """The channels one nudge goes to. `choice` is the person's setting (`auto`,
    `email`, `push`, `both`). One nudge is one notification by default: push when the
    person has a device, else email. Someone who chose push but has no device left
    gets email rather than silently nothing (their page says so)."""
    if not has_device or choice == EMAIL:
        return (EMAIL,)
    if choice == "both":
        return (PUSH, EMAIL)
    return (PUSH,)


def choice_for(email: bool, push: bool) -> str | None:
    """The stored choice for channels picked by hand (None: none picked)."""
    if email and push:
        return "both"
    return EMAIL if email else PUSH if push else None


def fallback_channel(tried: tuple[str, ...]) -> str | None:
    """Push found no working device when it came to send (every subscription had
    expired): the channel to try instead within the same row, if any."""
    return EMAIL if EMAIL not in tried else None


RowOutcome = Literal["sent", "retry", "suppress", "fail"]


def row_outcome(answers: list[str]) -> RowOutcome:
    """One row, several channels: each answered `sent`, `retry`, `suppress` or `fail`.
    A row that reached the person on any channel is sent, and never retried (a retry
    would notify them twice on the channel that worked); otherwise a temporary failure
    is retried, a refusal suppressed, anything else failed."""
    for answer in ("sent", "retry", "suppress"):
        if answer in answers:
            return answer
    return "fail"
