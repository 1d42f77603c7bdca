"""Celery tasks for nudges (thin: they call services; no arguments, so nothing personal
ever sits in the broker)."""

from __future__ import annotations

import math

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.conf import settings
from django.utils import timezone

from nuzzle.nudges import delivery, planning
from nuzzle.nudges.policy import DELIVER_TASK_RETRY


@shared_task(name="nudges.tasks.tick", ignore_result=True)
def tick() -> None:
    """Every beat interval: take back expired delivery claims, plan due nudges into the
    outbox, then start enough delivery tasks for what is due (at most
    NUDGE_DELIVERY_PARALLEL). No retries of its own: the next beat is the retry, and
    every step is idempotent."""
    now = timezone.now()
    delivery.leases_recover(now=now)
    planning.nudges_tick(now=now)
    batch, parallel = settings.NUDGE_DELIVERY_BATCH, settings.NUDGE_DELIVERY_PARALLEL
    due = delivery.pending_due_count(now=timezone.now(), limit=batch * parallel)
    for _ in range(min(parallel, math.ceil(due / batch))):
        deliver.delay_on_commit()


@shared_task(name="nudges.tasks.deliver", base=DjangoTask, ignore_result=True, **DELIVER_TASK_RETRY)
def deliver() -> None:
    """Send due outbox rows until none is left or the time budget is spent. Retried
    (`policy.DELIVER_TASK_RETRY`) when the database drops: rows it had claimed come back
    when their lease expires, and a row it was sending is never sent twice."""
    delivery.nudges_deliver()
