"""Delivery: hand due outbox rows to their channel, each at most once.

One run (`nudges_deliver`, called by the `deliver` task) repeats, until nothing is due
or its time budget is spent:

1. **Claim** a batch in a short transaction (`claims.claim`): due `pending` rows,
   locked with `SKIP LOCKED` (a second worker takes other rows or none), become
   `claimed` under a fresh token and a lease. Committed at once, so no lock is held
   while a channel talks to the outside.
2. **Re-check** each row as it is about to go (`batch.Batch._recheck`): still active,
   not suppressed, kind still on, not paused, not too late, still eligible. Otherwise
   the row ends `skipped`, with a reason.
3. **Send** through the channel (`channels/`; email today), one session per batch and
   one message at a time so that each row gets its own outcome: `sent`; a temporary
   error before the message went → back to `pending` after the back-off
   (`policy.retry_policy`), `failed` after the last try; a permanent refusal →
   `suppressed`, and when the address itself was refused the person is suppressed too.

**At most once, for every kind and channel.** A nudge lost to a crash is harmless —
tomorrow brings another — while a duplicate is nagging, which Nuzzle promises not to
do. So a row moves `claimed → sending` with a compare-and-set on its claim token *just
before* the message goes, and `sending → sent` after. A worker killed between the two
leaves the row in `sending`; when its lease expires, `claims.leases_recover`
(run by every tick) marks it `failed` and it is never sent again. A row that never
reached `sending` goes back to `pending` and is sent once by whoever claims it next.
The same rule decides the one ambiguous SMTP case: once DATA has begun, a timeout or a
dropped connection may come *after* the server took the message, so such a row ends
`failed` rather than retried (`channels.smtp.classify`).

Two writes per message. Writing each `sent` mark in the statement of the next row's gate
(one write per message) was measured and dropped: on loopback it saved a round trip but
cost more CPU in building the statement than it saved (bench/README.md).

**Why the context is asked again.** Planning stores the context the eligibility check
gave then; the re-check asks again as the row goes (someone who answered meanwhile is
not reminded, and a partner who answered since is named as having answered). The
message shows the fresh context, and the row's `context` is overwritten with it when
marked `sent`, so the outbox records what was actually said.

Logs carry ids, kinds, codes and counts only — never addresses or content.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from nuzzle.nudges.channels.base import Channel
from nuzzle.nudges.channels.email import EmailChannel
from nuzzle.nudges.channels.push import PushChannel
from nuzzle.nudges.delivery.batch import Batch
from nuzzle.nudges.delivery.claims import (
    DeliveryResult,
    claim,
    leases_recover,
    pending_due_count,
)

__all__ = ["DeliveryResult", "leases_recover", "nudges_deliver", "pending_due_count"]

logger = logging.getLogger(__name__)


def channels() -> dict[str, Channel]:
    """Every channel a nudge can go through, by name. Which of them a row uses is the
    person's choice (`decisions.channels_for`): push first, then email."""
    return {"push": PushChannel(), "email": EmailChannel()}


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
        claimed = claim(clock(), size, result)
        if claimed is None:
            break
        batches += 1
        Batch(claimed, clock, channels()).run()
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
