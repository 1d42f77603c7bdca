"""The beat tick: turn due schedule rows into outbox rows, once.

One tick (every minute; the task first recovers expired delivery claims):
1. claims people with a due schedule row, a batch at a time, by locking their
   preferences row with `SKIP LOCKED` — a second tick or a second beat running at the
   same moment takes other people or none, and the daily cap is counted per person
   under that lock;
2. for each batch, in one transaction: asks each kind's eligibility check about the
   people due for it (one query per kind), decides send / skip / hold
   (`decisions.decide`), inserts outbox
   rows (`ON CONFLICT DO NOTHING` on the unique (person, kind, period) key) and moves
   every due row's `next_due_at` past now.

A fixed number of queries per batch, whatever the number of people.

Speed (a million people must fit in a minute; bench/README.md): per due row the tick
does dictionary look-ups and list appends only. Rows are read as tuples, not model
instances; zone arithmetic is done once per distinct (rules, kind, slot) of the tick
(`_Calendar`: everyone with the same zone and nudge time shares one result); and the
writes send one array per column (`nuzzle.lib.sql`), not a dozen parameters per row.
"""

from __future__ import annotations

import gc
import logging
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import BigIntegerField, F, Value
from django.db.models.functions import Mod
from django.utils import timezone

from nuzzle.lib import sql
from nuzzle.nudges import kinds
from nuzzle.nudges.decisions import Outcome, advance, decide, late_reason, records_late, too_late
from nuzzle.nudges.kinds import SPECS, KindSpec
from nuzzle.nudges.models import Nudge, NudgePreferences, NudgeSchedule
from nuzzle.nudges.policy import send_window
from nuzzle.nudges.schedule import Rules, local_day, period_key

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# Batches in flight at once (PostgreSQL only). A batch alternates between Python
# (deciding) and the database (claiming, reading, writing); with two lanes one batch
# is decided while the other's statements run, on another core or another machine.
LANES = 2
# Lanes take people in blocks of this many consecutive user ids, not one id in turn: a
# person's rows (preferences, user, membership, schedule, outbox) sit near those of the
# people with neighbouring ids, so with ids dealt one by one each lane read every page
# of every table the other lane read too, for half of its rows.
LANE_BLOCK = 256
HISTORY_DAYS = 9  # enough outbox history for the cap (today) and the back-off (7 days)


@dataclass(frozen=True)
class TickResult:
    people: int
    batches: int
    planned: int
    skipped: int


# The rules' fields as the claim reads them: (zone, nudge_time, days, quiet_start,
# quiet_end, paused_until) — also the key of the calendar's caches.
RulesKey = tuple[str, time, int, time, time, date | None]


@dataclass(slots=True)
class _Person:
    user_id: int
    rules_key: RulesKey
    rules: Rules
    today: date  # their local date now
    daily_cap: int
    last_active_at: datetime
    can_receive: bool
    today_count: int = 0
    last_nudged: datetime | None = None
    keys: set[tuple[str, str]] = field(default_factory=set)


def nudges_tick(
    *, now: datetime | None = None, batch_size: int = BATCH_SIZE, lanes: int = LANES
) -> TickResult:
    """Plan every due nudge. Idempotent: running it twice, or in two beats at once,
    inserts each (person, kind, period) at most once.

    On PostgreSQL, outside a transaction, the due people are split into `lanes` by
    user id, each planned by its own thread and connection (see `LANES`); elsewhere,
    or with `lanes=1`, one lane does it all."""
    now = now or timezone.now()
    with _collector_skips_older_objects():
        if lanes > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block:
            with ThreadPoolExecutor(lanes, thread_name_prefix="nudge-tick") as pool:
                runs = [
                    pool.submit(_lane_thread, now, batch_size, _Lane(i, lanes))
                    for i in range(lanes)
                ]
                totals = [run.result() for run in runs]  # re-raises a lane's error
        else:
            totals = [_lane(now, batch_size, _Lane(0, 1))]
    people, batches, planned, skipped = (sum(column) for column in zip(*totals, strict=True))
    logger.info(
        "nudge tick: people=%s batches=%s planned=%s skipped=%s lanes=%s",
        people,
        batches,
        planned,
        skipped,
        len(totals),
    )
    return TickResult(people, batches, planned, skipped)


@contextmanager
def _collector_skips_older_objects() -> Iterator[None]:
    """Moves every object that exists before the tick out of the cyclic garbage
    collector's sight (`gc.freeze`) until it ends. A tick allocates millions of small
    containers (rows, sets, dicts), and each allocation-triggered collection of the
    older generations walked the whole process (Django, every app, the worker) again:
    over a quarter of the tick's Python CPU, measured at 100,000 people. The tick's own
    garbage is still collected; what was frozen is collected as usual afterwards."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@dataclass(frozen=True)
class _Lane:
    """The people whose block of user ids (`LANE_BLOCK`) is `index` modulo `count`:
    lanes never share a person, so no lane waits for (or skips) another's locks."""

    index: int
    count: int


def _lane_thread(now: datetime, batch_size: int, lane: _Lane) -> tuple[int, int, int, int]:
    try:
        return _lane(now, batch_size, lane)
    finally:
        connection.close()  # this thread's own connection


def _lane(now: datetime, batch_size: int, lane: _Lane) -> tuple[int, int, int, int]:
    """Claim and plan batches until nothing in the lane is due (or claimable): people,
    batches, planned, skipped."""
    with _without_jit():
        return _batches(now, batch_size, lane)


@contextmanager
def _without_jit() -> Iterator[None]:
    """PostgreSQL's JIT compiles a statement whose cost estimate is over
    `jit_above_cost`, and the claim's is once the keyset cursor is in play (the planner
    cannot tell how many tied rows follow it): ~18 ms of compiling for each batch of a
    statement that then runs in a few. The tick's statements are many and short."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")


def _batches(now: datetime, batch_size: int, lane: _Lane) -> tuple[int, int, int, int]:
    calendar = _Calendar(now)
    people = batches = planned = skipped = 0
    seen: set[int] = set()
    after: Position | None = None  # where the next claim starts in the due index
    while True:
        with transaction.atomic():
            batch = _claim_due_people(now, batch_size, calendar, lane, after)
            if not batch:
                break
            if batch.keys() <= seen:  # a row that would not move forward; never spin on it
                logger.error("nudge tick: due rows did not advance for users=%s", sorted(batch))
                break
            seen.update(batch)
            inserted, late, reached = _plan(batch, now, calendar)
        if reached is not None and (after is None or reached > after):
            after = reached
        people += len(batch)
        batches += 1
        planned += inserted
        skipped += late
    return people, batches, planned, skipped


# A schedule row's place in the due index: (next_due_at, id).
Position = tuple[datetime, int]


def _claim_due_people(
    now: datetime, batch_size: int, calendar: _Calendar, lane: _Lane, after: Position | None
) -> dict[int, _Person]:
    # The subquery walks the partial index `nudge_schedule_due` from where the lane's
    # last batch got to (`after`): rows already planned this tick leave dead entries
    # behind, and a claim that started from the front each time would step over all
    # of them — a million, by the end of a tick for a million people. The lock is on
    # the preferences row, so whoever holds it owns all of that person's due rows.
    due = NudgeSchedule.objects.filter(enabled=True, next_due_at__lte=now)
    if after is not None:
        due = due.filter(sql.RowAfter(("next_due_at", "id"), after))
    if lane.count > 1:
        block = F("user_id") / Value(LANE_BLOCK)  # integer division: both are integers
        in_lane = Mod(block, Value(lane.count), output_field=BigIntegerField())
        due = due.alias(lane=in_lane).filter(lane=lane.index)
    due_users = due.order_by("next_due_at", "id").values("user_id")[:batch_size]
    rows = (
        NudgePreferences.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(user_id__in=due_users)
        .order_by("user_id")
        .values_list(
            "user_id",
            "user__timezone",
            "nudge_time",
            "days",
            "quiet_start",
            "quiet_end",
            "paused_until",
            "daily_cap",
            "last_active_at",
            "suppressed_at",
            "user__is_active",
        )
    )
    people: dict[int, _Person] = {}
    for user_id, *rules_fields, cap, last_active, suppressed_at, is_active in rows:
        key: RulesKey = tuple(rules_fields)  # type: ignore[assignment]
        rules, today = calendar.rules(key)
        can_receive = is_active and suppressed_at is None
        people[user_id] = _Person(user_id, key, rules, today, cap, last_active, can_receive)
    return people


def _plan(
    people: dict[int, _Person], now: datetime, calendar: _Calendar
) -> tuple[int, int, Position | None]:
    """Decide and write the batch: sends, late skips, and how far into the due index
    the claim reached (see `_reached`)."""
    # Read after the claim's lock, in statements of their own: they see whatever a tick
    # that held these people before us committed (its outbox rows, its moved schedule).
    _load_history(people, now)
    due: list[tuple[int, int, str, datetime]] = list(
        NudgeSchedule.objects.filter(
            sql.IdIn("user_id", people), enabled=True, next_due_at__lte=now
        ).values_list("id", "user_id", "kind", "next_due_at")  # type: ignore[arg-type]
    )
    due.sort(key=lambda row: (row[1], kinds.PRIORITY[row[2]]))  # the cap goes by priority
    contexts = _eligibility(due, people, now)
    outbox = _Outbox()
    moved_ids: list[int] = []
    moved_to: list[datetime | None] = []
    sends = late = 0
    for schedule_id, user_id, kind, at in due:
        person = people[user_id]
        slot = calendar.slot(person, kind, at)
        context = contexts[kind].get(user_id)
        outcome = decide(
            eligible=context is not None,
            said_this_period=(kind, slot.period) in person.keys,
            late=slot.late,
            sent_today=person.today_count,
            daily_cap=person.daily_cap,
            last_active_at=person.last_active_at,
            last_nudged=person.last_nudged,
            now=now,
        )
        if outcome == "send":
            sends += 1
            person.today_count += 1
            person.last_nudged = at
        if outcome == "send" or (outcome == "late" and records_late(slot.spec.cadence)):
            person.keys.add((kind, slot.period))
            late += outcome == "late"
            outbox.add(user_id, slot, context, outcome, now=now)
        moved_ids.append(schedule_id)
        moved_to.append(slot.next_due(outcome))
    # The unique key turns a row another tick already wrote into a no-op.
    sql.insert_rows(
        Nudge,
        outbox.columns,
        same={"attempts": 0, "claim_token": "", "created_at": now},
        unique=("user", "kind", "period"),
    )
    sql.update_rows(NudgeSchedule, moved_ids, field="next_due_at", values=moved_to)
    return sends, late, _reached(due)


def _reached(due: list[tuple[int, int, str, datetime]]) -> Position | None:
    """Where the next claim may start: the last of the claimed people's first due rows.
    Each claimed person has a row in the claim's window, and so does their first one;
    every due row up to there was someone's claimed here (now planned) or someone's a
    concurrent tick holds (theirs to plan). Rows after it, in the window, are read
    again by the next claim: a batch's worth at most."""
    first: dict[int, Position] = {}
    for schedule_id, user_id, _kind, at in due:
        position = (at, schedule_id)
        if user_id not in first or position < first[user_id]:
            first[user_id] = position
    return max(first.values(), default=None)


def _load_history(people: dict[int, _Person], now: datetime) -> None:
    # By instant rather than local date: it reads the (user, -scheduled_for) index, and
    # nine days of instants cover every local day the cap and the back-off look at.
    since = now - timedelta(days=HISTORY_DAYS)
    history = Nudge.objects.filter(
        sql.IdIn("user_id", people), scheduled_for__gte=since
    ).values_list("user_id", "kind", "period", "local_date", "status", "scheduled_for")
    for user_id, kind, period, day, status, scheduled_for in history:
        person = people[user_id]
        person.keys.add((kind, period))
        if status in Nudge.COUNTED:
            if day == person.today:
                person.today_count += 1
            if person.last_nudged is None or scheduled_for > person.last_nudged:
                person.last_nudged = scheduled_for


def _eligibility(
    due: list[tuple[int, int, str, datetime]], people: dict[int, _Person], now: datetime
) -> dict[str, dict[int, kinds.Context]]:
    """One eligibility question per kind, for everyone due for it who can receive mail."""
    asked: dict[str, list[kinds.Recipient]] = defaultdict(list)
    for _, user_id, kind, _ in due:
        person = people[user_id]
        if person.can_receive:
            asked[kind].append(kinds.Recipient(user_id, person.today))
    contexts: dict[str, dict[int, kinds.Context]] = defaultdict(dict)
    for kind, recipients in asked.items():
        contexts[kind] = kinds.eligible(kind, recipients, now)
    return contexts


class _Outbox:
    """The batch's outbox rows, one list per column (what `sql.insert_rows` sends)."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {name: [] for name in _OUTBOX_COLUMNS}
        # The lists themselves, in `_OUTBOX_COLUMNS` order: `add` runs once per row.
        self._lists = tuple(self.columns.values())

    def add(
        self,
        user_id: int,
        slot: _Slot,
        context: kinds.Context | None,
        outcome: Outcome,
        *,
        now: datetime,
    ) -> None:
        users, kinds_, periods, days, ats, statuses, reasons, attempts_at, contexts = self._lists
        send = outcome == "send"
        users.append(user_id)
        kinds_.append(slot.kind)
        periods.append(slot.period)
        days.append(slot.day)
        ats.append(slot.at)
        statuses.append(_PENDING if send else _SKIPPED)
        reasons.append("" if send else slot.reason)
        attempts_at.append(now if send else None)
        contexts.append(context or {})


_OUTBOX_COLUMNS = (
    "user",
    "kind",
    "period",
    "local_date",
    "scheduled_for",
    "status",
    "reason",
    "next_attempt_at",
    "context",
)
_PENDING, _SKIPPED = Nudge.Status.PENDING.value, Nudge.Status.SKIPPED.value


# --- Zone arithmetic, once per distinct input ------------------------------------------


@dataclass(slots=True)
class _Slot:
    """What one due time means for one kind and one set of rules, at the tick's `now`."""

    spec: KindSpec
    kind: str
    rules: Rules
    at: datetime
    now: datetime
    day: date  # the local date of `at`
    period: str
    late: bool
    reason: str  # why it is late ("" when it is not)
    _next: dict[str, datetime | None] = field(default_factory=dict)

    def next_due(self, outcome: Outcome) -> datetime | None:
        if outcome not in self._next:
            self._next[outcome] = advance(self.spec.cadence, self.rules, self.at, self.now, outcome)
        return self._next[outcome]


class _Calendar:
    """The schedule functions' results for one tick, each computed once. They are pure
    functions of (rules, kind, due time, now), and a tick sees few distinct inputs: the
    people of one zone with one nudge time share their due time. Event kinds' due times
    are per event, so the caches are bounded."""

    LIMIT = 50_000

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.window = send_window()
        self._rules: dict[RulesKey, tuple[Rules, date]] = {}
        self._slots: dict[tuple[RulesKey, str, datetime], _Slot] = {}

    def rules(self, key: RulesKey) -> tuple[Rules, date]:
        """The rules for these fields, and the local date now in their zone."""
        found = self._rules.get(key)
        if found is None:
            if len(self._rules) >= self.LIMIT:
                self._rules.clear()
            rules = Rules(*key)
            found = self._rules[key] = (rules, local_day(rules, self.now))
        return found

    def slot(self, person: _Person, kind: str, at: datetime) -> _Slot:
        key = (person.rules_key, kind, at)
        found = self._slots.get(key)
        if found is None:
            if len(self._slots) >= self.LIMIT:
                self._slots.clear()
            found = self._slots[key] = self._make_slot(person.rules, SPECS[kind], at)
        return found

    def _make_slot(self, rules: Rules, spec: KindSpec, at: datetime) -> _Slot:
        day = local_day(rules, at)
        late = too_late(rules, at, self.now, self.window)
        reason = late_reason(rules, at, self.now) if late else ""
        period = period_key(spec.cadence, day)
        return _Slot(spec, spec.kind.value, rules, at, self.now, day, period, late, reason)
