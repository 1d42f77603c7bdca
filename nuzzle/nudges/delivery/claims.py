"""Claims on outbox rows: who holds which row, and every change a holder makes to it.

A delivery run claims a batch of due `pending` rows under a fresh token and a lease
(`claim`). Every later write names that token and the held states (`claimed`,
`sending`), so a row whose lease was recovered — and maybe claimed by another run — is
no longer this claim's to touch. `leases_recover` (run by every tick) takes rows back
from a run that died.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q

from nuzzle.nudges.decisions import RetryPolicy
from nuzzle.nudges.models import Nudge
from nuzzle.nudges.policy import lease

logger = logging.getLogger(__name__)

# The states of a row a run holds under its claim token.
_HELD = (Nudge.Status.CLAIMED, Nudge.Status.SENDING)


@dataclass
class DeliveryResult:
    sent: int = 0
    retried: int = 0
    suppressed: int = 0
    skipped: int = 0
    failed: int = 0


def pending_due_count(*, now: datetime, limit: int) -> int:
    """How many pending rows are due (counting stops at `limit`; read from the partial
    index on pending rows)."""
    due = Nudge.objects.filter(status=Nudge.Status.PENDING, next_attempt_at__lte=now)
    return due.values("pk")[:limit].count()


def leases_recover(*, now: datetime) -> tuple[int, int]:
    """Claims that outlived their lease (the run died). A claimed row was never handed
    to its channel, so it goes back to pending. A row caught *while sending* may or may
    not have gone out: nudges are at-most-once, so it ends as failed and is never sent
    again. Returns (released, interrupted)."""
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


@dataclass
class Claim:
    token: str
    lease_until: datetime
    rows: list[Nudge]
    result: DeliveryResult

    # Sending: the at-most-once gate.

    def begin_sending(self, row: Nudge, now: datetime) -> bool:
        """claimed → sending, only while this claim holds: the at-most-once gate."""
        gate = Q(pk=row.pk, status=Nudge.Status.CLAIMED, lease_until__gt=now)
        return bool(
            Nudge.objects.filter(gate, claim_token=self.token).update(status=Nudge.Status.SENDING)
        )

    def sent(self, row: Nudge, context: dict[str, Any], at: datetime, via: str) -> None:
        """sending → sent, once a channel took the message (the claim released). The
        context written is the one the message showed (see `delivery`: why fresh); `via`
        names the channels that took it."""
        self.result.sent += 1
        if not self._update(
            [row], status=Nudge.Status.SENT, reason="", sent_at=at, context=context, sent_via=via
        ):
            logger.warning("nudge %s: sent, but its lease had been recovered", row.pk)

    # Endings.

    def end(self, rows: Sequence[Nudge], status: str, reason: str) -> None:
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

    def retry(self, rows: Sequence[Nudge], reason: str, now: datetime, policy: RetryPolicy) -> None:
        """A temporary failure: try again after the back-off, or give up for good."""
        by_attempts: dict[int, list[Nudge]] = defaultdict(list)
        for row in rows:
            by_attempts[row.attempts + 1].append(row)
        for tries, group in by_attempts.items():
            wait = policy.after_failure(tries)
            if wait is None:
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
                    next_attempt_at=now + wait,
                )

    def release(self, rows: Sequence[Nudge]) -> None:
        """Hand rows back untouched (no try used up) for another run to claim."""
        released = Nudge.objects.filter(
            pk__in=[row.pk for row in rows], claim_token=self.token, status=Nudge.Status.CLAIMED
        ).update(status=Nudge.Status.PENDING, claim_token="", lease_until=None)
        logger.warning("nudge delivery: lease running out, released %s rows", released)

    def _update(self, rows: Iterable[Nudge], **values: Any) -> int:
        values = {"claim_token": "", "lease_until": None, **values}
        return Nudge.objects.filter(
            pk__in=[row.pk for row in rows], claim_token=self.token, status__in=_HELD
        ).update(**values)


def claim(now: datetime, size: int, result: DeliveryResult) -> Claim | None:
    """Claim up to `size` due pending rows (oldest due first) for one run, in a short
    transaction of its own, committed at once: no lock is held while sending."""
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
        # runs may read the same ids, and only one of them turns each row over.
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
    return Claim(token, lease_until, rows, result)
