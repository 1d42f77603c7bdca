"""Delivery: hand due outbox rows to SMTP, each at most once.

One run (`nudges_deliver`, called by the `deliver` task) repeats, until nothing is due
or its time budget is spent:

1. **Claim** a batch in a short transaction: due `pending` rows, locked with
   `SKIP LOCKED` (a second worker takes other rows or none), become `claimed` under a
   fresh token and a lease. Committed at once, so no lock is held while talking SMTP.
2. **Re-check** each row as it is about to go, in a fixed number of queries: the
   person is still active and not suppressed, the kind is still on, nudges are not
   paused, it is not too late or inside quiet hours (`planning.too_late`), and the
   owning app's eligibility check still says yes (one call per kind: someone who
   answered meanwhile is not reminded). Otherwise the row ends `skipped`, with a reason.
3. **Send** over one SMTP connection per batch, one message at a time so that each row
   gets its own outcome: `sent`; a temporary error (4xx, a dropped connection or a
   timeout *before* the message went) → back to `pending` with back-off, `failed` after
   `max_attempts()` tries; a permanent error (5xx) → `suppressed`, and when the server
   refused the mailbox itself the person is suppressed too, so nothing more goes there.

**At most once, for every kind.** A nudge lost to a crash is harmless — tomorrow
brings another — while a duplicate is nagging, which Nuzzle promises not to do. So a
row moves `claimed → sending` with a compare-and-set on its claim token *just before*
the message goes to SMTP, and `sending → sent` after (written in the same statement as
the next row's `claimed → sending`: one write per email). A worker killed between the
two leaves the row in `sending`; when its lease expires, `planning.leases_recover`
marks it `failed` and it is never sent again. A row that never reached `sending` (the worker
died earlier) goes back to `pending` and is sent once by whoever claims it next.

The same rule decides the one ambiguous SMTP case: once the DATA command has begun, a
timeout or dropped connection may come *after* the server accepted the message, so
such a row ends `failed` rather than retried. Errors the server answered with a code
are never ambiguous: 4xx means it did not take the message.

Logs carry ids, kinds, codes and counts only — never addresses or content.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import DatabaseError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from nuzzle.couples.selectors import active_pairs
from nuzzle.lib import sql
from nuzzle.nudges import emails, kinds, planning, services
from nuzzle.nudges.checks import LEASE_TIMEOUTS
from nuzzle.nudges.kinds import SPECS
from nuzzle.nudges.models import Nudge, NudgePreferences, NudgeSchedule
from nuzzle.nudges.schedule import Rules, is_send_day, local_day
from nuzzle.nudges.smtp_outcomes import DataWatch, Outcome, classify

logger = logging.getLogger(__name__)


# Waits after each failed try (settings.NUDGE_RETRY_BACKOFF_SECONDS; by default 1, 5,
# 15 and 60 minutes); the try after the last wait is final. Together they stay well
# inside the default send window (120 min), so a row that is still failing then is
# skipped as too late by the re-check rather than sent at night.
def backoff() -> tuple[timedelta, ...]:
    return tuple(timedelta(seconds=s) for s in settings.NUDGE_RETRY_BACKOFF_SECONDS)


def max_attempts() -> int:
    return len(backoff()) + 1


@dataclass
class DeliveryResult:
    sent: int = 0
    retried: int = 0
    suppressed: int = 0
    skipped: int = 0
    failed: int = 0


def lease() -> timedelta:
    return timedelta(seconds=settings.NUDGE_LEASE_SECONDS)


def nudges_deliver(
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    time_budget_seconds: float = 50.0,
) -> DeliveryResult:
    """Send every due pending nudge, batch by batch, until none is left or the time
    budget is spent. Safe to run in many workers at once: each row is claimed by one.
    `now` pins the clock (tests); by default each step reads the current time."""
    clock: Callable[[], datetime] = (lambda: now) if now is not None else timezone.now
    size = batch_size or settings.NUDGE_DELIVERY_BATCH
    started = time.monotonic()
    result = DeliveryResult()
    batches = 0
    while time.monotonic() - started < time_budget_seconds:
        batch = _claim(clock(), size)
        if batch is None:
            break
        batches += 1
        _Batch(batch, clock, result).run()
    logger.info(
        "nudge delivery: batches=%s sent=%s retried=%s suppressed=%s skipped=%s failed=%s",
        batches,
        result.sent,
        result.retried,
        result.suppressed,
        result.skipped,
        result.failed,
    )
    return result


def pending_due_count(*, now: datetime, limit: int) -> int:
    """How many pending rows are due (counting stops at `limit`; read from the partial
    index on pending rows)."""
    due = Nudge.objects.filter(status=Nudge.Status.PENDING, next_attempt_at__lte=now)
    return due.values("pk")[:limit].count()


# --- Claiming ---------------------------------------------------------------------


@dataclass
class _Claimed:
    token: str
    lease_until: datetime
    rows: list[Nudge]


def _claim(now: datetime, size: int) -> _Claimed | None:
    token = uuid.uuid4().hex
    lease_until = now + lease()
    with transaction.atomic():
        ids = list(
            Nudge.objects.select_for_update(skip_locked=True)
            .filter(status=Nudge.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:size]
        )
        if not ids:
            return None
        # `status=pending` again: where the database has no row locks (SQLite), two
        # workers may read the same ids, and only one of them turns each row over.
        Nudge.objects.filter(pk__in=ids, status=Nudge.Status.PENDING).update(
            status=Nudge.Status.CLAIMED, claim_token=token, lease_until=lease_until
        )
    rows = list(
        Nudge.objects.filter(claim_token=token, status=Nudge.Status.CLAIMED)
        .select_related("user", "user__nudge_preferences")
        .order_by("next_attempt_at", "pk")
    )
    if not rows:
        return None
    logger.info("nudge delivery: claimed %s rows ids=%s", len(rows), [row.pk for row in rows])
    return _Claimed(token, lease_until, rows)


# --- One batch --------------------------------------------------------------------


@dataclass
class _Ready:
    row: Nudge
    recipient: emails.EmailRecipient
    rules: Rules
    context: kinds.Context


@dataclass
class _Sent:
    """A message the mail server took whose row is still `sending`: its `sent` mark is
    written in the same statement as the next row's `claimed → sending` (one write per
    email instead of two), or on its own when no next row goes out (see `run`)."""

    item: _Ready
    at: datetime


@dataclass
class _Batch:
    claimed: _Claimed
    clock: Callable[[], datetime]
    result: DeliveryResult
    backend: BaseEmailBackend | None = None
    watch: DataWatch = field(default_factory=DataWatch)
    refused: set[int] = field(default_factory=set)  # people whose address bounced
    unmarked: _Sent | None = None

    @property
    def token(self) -> str:
        return self.claimed.token

    def run(self) -> None:
        try:
            ready = self._recheck(self.claimed.rows)
            self._send_all(ready)
        finally:
            try:
                self._mark_sent()  # whatever ended the batch, the last send is recorded
            finally:
                self._disconnect()

    # Step 2: who may still get their nudge.

    def _recheck(self, rows: Sequence[Nudge]) -> list[_Ready]:
        now = self.clock()
        user_ids = {row.user_id for row in rows}
        switched_off = set(
            NudgeSchedule.objects.filter(user_id__in=user_ids, enabled=False).values_list(
                "user_id", "kind"
            )
        )
        skips: dict[str, list[Nudge]] = defaultdict(list)
        candidates: dict[str, list[tuple[Nudge, Rules]]] = defaultdict(list)
        for row in rows:
            rules = _sendable(row, switched_off, now)
            if isinstance(rules, str):
                skips[rules].append(row)
            else:
                candidates[row.kind].append((row, rules))
        ready: list[_Ready] = []
        partners = active_pairs(user_ids={row.user_id for p in candidates.values() for row, _ in p})
        for kind, pairs in candidates.items():
            contexts = self._ask(kind, pairs, now)
            if contexts is None:
                continue
            for row, rules in pairs:
                context = contexts.get(row.user_id)
                if context is None:
                    skips["not sent: no longer needed when it was due to go"].append(row)
                    continue
                user = row.user
                recipient = emails.EmailRecipient(
                    user_id=user.pk,
                    email=user.email,
                    display_name=user.display_name,
                    timezone=user.timezone,
                    partner_name=partners[user.pk].partner_name if user.pk in partners else None,
                )
                ready.append(_Ready(row, recipient, rules, context))
        for reason, skipped in skips.items():
            self._end(skipped, Nudge.Status.SKIPPED, reason)
        order = {row.pk: index for index, row in enumerate(rows)}
        return sorted(ready, key=lambda item: order[item.row.pk])

    def _ask(
        self, kind: str, pairs: Sequence[tuple[Nudge, Rules]], now: datetime
    ) -> dict[int, kinds.Context] | None:
        """The kind's eligibility check, once for everyone in the batch. A broken check
        fails its own rows only; a database error propagates (the task retries)."""
        asked = {row.user_id: kinds.Recipient(row.user_id, local_day(r, now)) for row, r in pairs}
        try:
            return kinds.eligible(kind, list(asked.values()), now)
        except DatabaseError:
            raise
        except Exception as exc:
            logger.error(
                "nudge delivery: %s eligibility check failed (%s)", kind, type(exc).__name__
            )
            self._end([row for row, _ in pairs], Nudge.Status.FAILED, "eligibility check failed")
            return None

    # Step 3: sending.

    def _send_all(self, ready: list[_Ready]) -> None:
        margin = timedelta(seconds=LEASE_TIMEOUTS * (settings.EMAIL_TIMEOUT or 10))
        for index, item in enumerate(ready):
            row, now = item.row, self.clock()
            if now >= self.claimed.lease_until - margin:
                # Not enough lease left to send safely: let another run take the rest.
                self._release([i.row for i in ready[index:]])
                return
            if row.user_id in self.refused:
                self._end([row], Nudge.Status.SKIPPED, "not sent: the address was refused")
                continue
            if planning.too_late(item.rules, row.scheduled_for, now):
                reason = planning.late_reason(item.rules, row.scheduled_for, now)
                self._end([row], Nudge.Status.SKIPPED, reason)
                continue
            try:
                message = emails.nudge_message(row, item.recipient, item.context)
            except Exception as exc:  # a template bug must not stall the whole batch
                logger.error(
                    "nudge %s (%s): rendering failed (%s)", row.pk, row.kind, type(exc).__name__
                )
                self._end([row], Nudge.Status.FAILED, "could not render the email")
                continue
            connect_error = self._connect()
            if connect_error is not None:
                self._retry([i.row for i in ready[index:]], connect_error)
                return
            if not self._begin_sending(row, now):
                logger.warning("nudge %s: claim lost before sending; left alone", row.pk)
                continue
            self._record(item, self._send(message))

    def _send(self, message: EmailMessage) -> Outcome:
        assert self.backend is not None  # noqa: S101  (connected just before)
        self.watch.started = False
        try:
            count = self.backend.send_messages([message])
        except Exception as exc:
            return classify(exc, data_started=self.watch.started)
        if not count:
            return Outcome("fail", "the mail backend sent nothing")
        return Outcome("sent")

    def _record(self, item: _Ready, outcome: Outcome) -> None:
        row = item.row
        logger.log(
            logging.INFO if outcome.kind == "sent" else logging.WARNING,
            "nudge %s (%s) user=%s: %s%s",
            row.pk,
            row.kind,
            row.user_id,
            outcome.kind,
            f" code={outcome.code}" if outcome.code else "",
        )
        if outcome.reconnect:
            self._disconnect()
        if outcome.kind == "sent":
            self.result.sent += 1
            self.unmarked = _Sent(item, self.clock())  # written with the next row's gate
        elif outcome.kind == "retry":
            self._retry([row], outcome.reason)
        elif outcome.kind == "suppress":
            self._end([row], Nudge.Status.SUPPRESSED, outcome.reason)
            if outcome.suppress_person:
                self.refused.add(row.user_id)
                services.person_suppress(
                    user_id=row.user_id,
                    reason=f"the mail server refused the address (SMTP {outcome.code})",
                    now=self.clock(),
                )
        else:
            self._end([row], Nudge.Status.FAILED, outcome.reason)

    # The connection: one per batch, reopened after an error that may have broken it.

    def _connect(self) -> str | None:
        """Open the connection if it is not open; the reason it failed, or None."""
        if self.backend is not None:
            return None
        backend = get_connection(fail_silently=False)
        try:
            backend.open()
        except Exception as exc:
            self.backend = backend
            self._disconnect()
            logger.warning("nudge delivery: cannot reach the mail server (%s)", type(exc).__name__)
            return f"could not connect to the mail server ({type(exc).__name__})"
        self.backend = backend
        self.watch.attach(backend)
        return None

    def _disconnect(self) -> None:
        backend, self.backend = self.backend, None
        if backend is None:
            return
        try:
            backend.close()
        except Exception as exc:  # QUIT on a dead connection; it is gone either way
            logger.info("nudge delivery: closing the connection failed (%s)", type(exc).__name__)

    # Row transitions. Every update names the claim token: a row whose lease was
    # recovered (and maybe claimed by another worker) is no longer ours to touch.

    def _begin_sending(self, row: Nudge, now: datetime) -> bool:
        """claimed → sending, only while our claim holds: the at-most-once gate. The
        previous message's `sent` mark, if not yet written, goes in the same statement:
        each row keeps its own condition, so it is exactly the two writes, in one."""
        sent, self.unmarked = self.unmarked, None
        gate = Q(pk=row.pk, status=Nudge.Status.CLAIMED, lease_until__gt=now)
        if sent is None:
            return bool(
                Nudge.objects.filter(gate, claim_token=self.token).update(
                    status=Nudge.Status.SENDING
                )
            )
        done = Q(pk=sent.item.row.pk, status__in=_HELD)
        is_sent = Q(pk=sent.item.row.pk)
        values: dict[str, Any] = {
            name: Case(
                When(is_sent, then=Value(value, output_field=sql.concrete_field(Nudge, name))),
                default=F(name),
            )
            for name, value in _sent_values(sent).items()
        }
        values["status"] = Case(
            When(is_sent, then=Value(Nudge.Status.SENT)), default=Value(Nudge.Status.SENDING)
        )
        written = Nudge.objects.filter(gate | done, claim_token=self.token).update(**values)
        began = written == 2 or (
            written == 1
            # Which of the two? Only this statement turns our row to `sending`.
            and Nudge.objects.filter(
                pk=row.pk, claim_token=self.token, status=Nudge.Status.SENDING
            ).exists()
        )
        if written - began == 0:  # the other row written, if any, was not the sent one
            _sent_unrecorded(sent)
        return began

    def _mark_sent(self) -> None:
        """The last message's `sent` mark, on its own (no next row to go with)."""
        sent, self.unmarked = self.unmarked, None
        if sent is not None and not self._update([sent.item.row], **_sent_values(sent)):
            _sent_unrecorded(sent)

    def _update(self, rows: Iterable[Nudge], **values: Any) -> int:
        values = {"claim_token": "", "lease_until": None, **values}
        return Nudge.objects.filter(
            pk__in=[row.pk for row in rows], claim_token=self.token, status__in=_HELD
        ).update(**values)

    def _end(self, rows: Sequence[Nudge], status: str, reason: str) -> None:
        written = self._update(rows, status=status, reason=reason[:200], next_attempt_at=None)
        if status == Nudge.Status.SKIPPED:
            self.result.skipped += written
        elif status == Nudge.Status.SUPPRESSED:
            self.result.suppressed += written
        else:
            self.result.failed += written
        if rows:
            logger.info(
                "nudge delivery: %s ids=%s kinds=%s",
                status,
                [row.pk for row in rows],
                sorted({row.kind for row in rows}),
            )

    def _retry(self, rows: Sequence[Nudge], reason: str) -> None:
        """A temporary failure: try again after the back-off, or give up for good."""
        now = self.clock()
        by_attempts: dict[int, list[Nudge]] = defaultdict(list)
        for row in rows:
            by_attempts[row.attempts + 1].append(row)
        for tries, group in by_attempts.items():
            if tries >= max_attempts():
                self.result.failed += self._update(
                    group,
                    status=Nudge.Status.FAILED,
                    attempts=tries,
                    reason=f"gave up after {tries} tries: {reason}"[:200],
                    next_attempt_at=None,
                )
            else:
                self.result.retried += self._update(
                    group,
                    status=Nudge.Status.PENDING,
                    attempts=tries,
                    reason=reason[:200],
                    next_attempt_at=now + backoff()[tries - 1],
                )

    def _release(self, rows: Sequence[Nudge]) -> None:
        """Hand rows back untouched (no try used up) for another run to claim."""
        released = Nudge.objects.filter(
            pk__in=[row.pk for row in rows], claim_token=self.token, status=Nudge.Status.CLAIMED
        ).update(status=Nudge.Status.PENDING, claim_token="", lease_until=None)
        logger.warning("nudge delivery: lease running out, released %s rows", released)


# The states of a row a worker holds under its claim token.
_HELD = (Nudge.Status.CLAIMED, Nudge.Status.SENDING)


def _sent_values(sent: _Sent) -> dict[str, Any]:
    """What a row becomes once the mail server took its message (the claim released)."""
    return {
        "status": Nudge.Status.SENT,
        "reason": "",
        "sent_at": sent.at,
        "context": sent.item.context,
        "claim_token": "",
        "lease_until": None,
    }


def _sent_unrecorded(sent: _Sent) -> None:
    logger.warning("nudge %s: sent, but its lease had been recovered", sent.item.row.pk)


def _sendable(row: Nudge, switched_off: set[tuple[int, str]], now: datetime) -> Rules | str:
    """The person's rules if this row may still go now, else why not."""
    user = row.user
    try:
        prefs = user.nudge_preferences
    except NudgePreferences.DoesNotExist:
        return "not sent: no nudge preferences"
    if not user.is_active:
        return "not sent: the account is inactive"
    if prefs.suppressed_at is not None:
        return "not sent: mail to this address is suppressed"
    if row.kind not in SPECS or (row.user_id, row.kind) in switched_off:
        return "not sent: this kind of nudge was switched off"
    rules = prefs.rules(user.timezone)
    if not is_send_day(rules, local_day(rules, row.scheduled_for)):
        return "not sent: nudges are paused or this is no longer a nudge day"
    if planning.too_late(rules, row.scheduled_for, now):
        return planning.late_reason(rules, row.scheduled_for, now)
    return rules
