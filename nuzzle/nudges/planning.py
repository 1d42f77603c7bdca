"""The beat tick: turn due schedule rows into outbox rows, once.

One tick (every minute):
1. recovers expired worker claims (see `leases_recover`);
2. claims people with a due schedule row, a batch at a time, by locking their
   preferences row with `SKIP LOCKED` — a second tick or a second beat running at the
   same moment takes other people or none, and the daily cap is counted per person
   under that lock;
3. for each batch, in one transaction: asks each kind's eligibility check about the
   people due for it (one query per kind), decides send / skip / hold, inserts outbox
   rows (`ignore_conflicts` on the unique (person, kind, period) key) and moves every
   due row's `next_due_at` past now.

A fixed number of queries per batch, whatever the number of people.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from nuzzle.nudges import kinds
from nuzzle.nudges.kinds import SPECS, Cadence, KindSpec
from nuzzle.nudges.models import Nudge, NudgePreferences, NudgeSchedule
from nuzzle.nudges.schedule import (
    Rules,
    in_quiet_hours,
    local_day,
    next_recap_slot,
    next_slot,
    period_key,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
QUIET_PERSON_AFTER = timedelta(days=7)  # no activity this long → at most one nudge a week
HISTORY_DAYS = 9  # enough outbox history for the cap (today) and the back-off (7 days)

Outcome = Literal["send", "late", "held", "idle"]


def send_window() -> timedelta:
    """How late a nudge may still go out; later than this it is skipped, not sent."""
    return timedelta(minutes=settings.NUDGE_SEND_WINDOW_MINUTES)


@dataclass(frozen=True)
class TickResult:
    people: int
    batches: int
    planned: int
    skipped: int
    released: int
    interrupted: int


@dataclass
class _Person:
    prefs: NudgePreferences
    rules: Rules
    today_count: int = 0
    last_nudged: datetime | None = None
    keys: set[tuple[str, str]] = field(default_factory=set)

    @property
    def user_id(self) -> int:
        return self.prefs.user_id

    @property
    def can_receive(self) -> bool:
        return self.prefs.user.is_active and self.prefs.suppressed_at is None


def nudges_tick(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> TickResult:
    """Plan every due nudge. Idempotent: running it twice, or in two beats at once,
    inserts each (person, kind, period) at most once."""
    now = now or timezone.now()
    released, interrupted = leases_recover(now=now)
    people = batches = planned = skipped = 0
    seen: set[int] = set()
    while True:
        with transaction.atomic():
            batch = _claim_due_people(now, batch_size)
            if not batch:
                break
            ids = {person.user_id for person in batch}
            if ids <= seen:  # a row that would not move forward; never spin on it
                logger.error("nudge tick: due rows did not advance for users=%s", sorted(ids))
                break
            seen |= ids
            inserted, late = _plan(batch, now)
        people += len(batch)
        batches += 1
        planned += inserted
        skipped += late
    logger.info(
        "nudge tick: people=%s batches=%s planned=%s skipped=%s released=%s interrupted=%s",
        people,
        batches,
        planned,
        skipped,
        released,
        interrupted,
    )
    return TickResult(people, batches, planned, skipped, released, interrupted)


def leases_recover(*, now: datetime) -> tuple[int, int]:
    """Claims that outlived their lease (the worker died). A claimed row was never handed
    to SMTP, so it goes back to pending. A row caught *while sending* may or may not have
    gone out: nudges are at-most-once, so it ends as failed and is never sent again."""
    leased = Nudge.objects.filter(lease_until__lt=now)
    released = leased.filter(status=Nudge.Status.CLAIMED).update(
        status=Nudge.Status.PENDING, claim_token="", lease_until=None
    )
    interrupted = leased.filter(status=Nudge.Status.SENDING).update(
        status=Nudge.Status.FAILED,
        reason="interrupted while sending; not retried (at most once)",
        claim_token="",
        lease_until=None,
    )
    if released or interrupted:
        logger.warning("nudge leases expired: released=%s interrupted=%s", released, interrupted)
    return released, interrupted


def _claim_due_people(now: datetime, batch_size: int) -> list[_Person]:
    due_users = (
        NudgeSchedule.objects.filter(enabled=True, next_due_at__lte=now)
        .order_by("next_due_at")
        .values("user_id")[:batch_size]
    )
    prefs = (
        NudgePreferences.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("user")
        .only(
            *[f.name for f in NudgePreferences._meta.concrete_fields],
            "user__timezone",
            "user__is_active",
        )
        .filter(user_id__in=due_users)
        .order_by("user_id")
    )
    return [_Person(prefs=row, rules=row.rules(row.user.timezone)) for row in prefs]


def _plan(batch: Sequence[_Person], now: datetime) -> tuple[int, int]:
    people = {person.user_id: person for person in batch}
    _load_history(people, now)
    due = [
        row
        for row in NudgeSchedule.objects.filter(
            user_id__in=people, enabled=True, next_due_at__lte=now
        )
    ]
    contexts = _eligibility(due, people, now)
    outbox: list[Nudge] = []
    sends = late = 0
    for row in sorted(due, key=lambda r: (r.user_id, kinds.PRIORITY[r.kind])):
        person, spec = people[row.user_id], SPECS[row.kind]
        slot = row.next_due_at
        assert slot is not None  # noqa: S101  (filtered above)
        day = local_day(person.rules, slot)
        period = period_key(spec.cadence, day)
        context = contexts[row.kind].get(row.user_id)
        outcome = _decide(person, spec, slot, period, context, now)
        if outcome == "send":
            sends += 1
            person.today_count += 1
            person.last_nudged = slot
        if outcome == "send" or (outcome == "late" and spec.cadence in _RECORD_LATE):
            person.keys.add((row.kind, period))
            late += outcome == "late"
            outbox.append(
                Nudge(
                    user_id=row.user_id,
                    kind=row.kind,
                    period=period,
                    local_date=day,
                    scheduled_for=slot,
                    status=Nudge.Status.PENDING if outcome == "send" else Nudge.Status.SKIPPED,
                    reason="" if outcome == "send" else late_reason(person.rules, slot, now),
                    next_attempt_at=now if outcome == "send" else None,
                    context=context or {},
                    created_at=now,
                )
            )
        row.next_due_at = _advance(spec, person.rules, slot, now, outcome)
    # The unique key turns a row another tick already wrote into a no-op.
    Nudge.objects.bulk_create(outbox, ignore_conflicts=True)
    NudgeSchedule.objects.bulk_create(
        due, update_conflicts=True, unique_fields=["user", "kind"], update_fields=["next_due_at"]
    )
    return sends, late


# Daily and event nudges that could not go on time are recorded as skipped (their
# period is over); weekly ones simply wait for the next day.
_RECORD_LATE = (Cadence.DAILY, Cadence.EVENT)


def _load_history(people: dict[int, _Person], now: datetime) -> None:
    since = (now - timedelta(days=HISTORY_DAYS)).date()
    history = Nudge.objects.filter(user_id__in=people, local_date__gte=since).values_list(
        "user_id", "kind", "period", "local_date", "status", "scheduled_for"
    )
    for user_id, kind, period, day, status, scheduled_for in history:
        person = people[user_id]
        person.keys.add((kind, period))
        if status in Nudge.COUNTED:
            if day == local_day(person.rules, now):
                person.today_count += 1
            if person.last_nudged is None or scheduled_for > person.last_nudged:
                person.last_nudged = scheduled_for


def _eligibility(
    due: Sequence[NudgeSchedule], people: dict[int, _Person], now: datetime
) -> dict[str, dict[int, kinds.Context]]:
    """One eligibility question per kind, for everyone due for it who can receive mail."""
    asked: dict[str, list[kinds.Recipient]] = defaultdict(list)
    for row in due:
        person = people[row.user_id]
        if person.can_receive:
            asked[row.kind].append(kinds.Recipient(row.user_id, local_day(person.rules, now)))
    contexts: dict[str, dict[int, kinds.Context]] = defaultdict(dict)
    for kind, recipients in asked.items():
        contexts[kind] = kinds.eligible(kind, recipients, now)
    return contexts


def _decide(
    person: _Person,
    spec: KindSpec,
    slot: datetime,
    period: str,
    context: kinds.Context | None,
    now: datetime,
) -> Outcome:
    if context is None or (spec.kind.value, period) in person.keys:
        return "idle"  # nothing to say, or already said this period
    if too_late(person.rules, slot, now):
        return "late"
    if person.today_count >= person.prefs.daily_cap:
        return "held"
    quiet_person = now - person.prefs.last_active_at > QUIET_PERSON_AFTER
    if (
        quiet_person
        and person.last_nudged is not None
        and now - person.last_nudged < QUIET_PERSON_AFTER
    ):
        return "held"  # gone quiet: at most one nudge a week until they come back
    return "send"


def too_late(rules: Rules, slot: datetime, now: datetime) -> bool:
    """A nudge that cannot go near its time is skipped: past the send window, on a
    later local day, or now inside quiet hours (the scheduler was down for hours).
    Asked twice: here when planning, and by delivery just before each send."""
    return (
        now - slot > send_window()
        or local_day(rules, now) != local_day(rules, slot)
        or in_quiet_hours(rules, now)
    )


def late_reason(rules: Rules, slot: datetime, now: datetime) -> str:
    """Why `too_late` said no, in words for the outbox row."""
    if in_quiet_hours(rules, now):
        return "not sent: it was already quiet hours when it could go out"
    return f"not sent: {int((now - slot).total_seconds() // 60)} minutes late"


def _advance(
    spec: KindSpec, rules: Rules, slot: datetime, now: datetime, outcome: Outcome
) -> datetime | None:
    """Where a due row goes next. Always past `now` (or None), so a tick never spins."""
    after = max(now, slot)
    if spec.cadence is Cadence.EVENT:
        return None  # the next event sets it again
    if spec.cadence is Cadence.DAILY:
        return next_slot(rules, after)
    if spec.cadence is Cadence.WEEKLY:
        if outcome == "send":
            return next_slot(rules, max(after, slot + timedelta(days=7, seconds=-1)))
        return next_slot(rules, after)  # look again tomorrow
    # Recap: held back or late → try tomorrow (still this week's recap); else next Sunday.
    if outcome in ("held", "late"):
        return next_slot(rules, after)
    return next_recap_slot(rules, after)
