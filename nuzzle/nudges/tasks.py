"""Celery tasks for nudges (thin: they call one service; no arguments, so nothing
personal ever sits in the broker)."""

from __future__ import annotations

import math

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from nuzzle.nudges import delivery, planning


@shared_task(name="nudges.tasks.tick", ignore_result=True)
def tick() -> None:
    """Every beat interval: plan due nudges into the outbox, then start enough delivery
    tasks for what is due (at most NUDGE_DELIVERY_PARALLEL). No retries of its own:
    the next beat is the retry, and planning is idempotent."""
    planning.nudges_tick()
    batch, parallel = settings.NUDGE_DELIVERY_BATCH, settings.NUDGE_DELIVERY_PARALLEL
    due = delivery.pending_due_count(now=timezone.now(), limit=batch * parallel)
    for _ in range(min(parallel, math.ceil(due / batch))):
        deliver.delay_on_commit()


@shared_task(
    name="nudges.tasks.deliver",
    base=DjangoTask,
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def deliver() -> None:
    """Send due outbox rows until none is left or the time budget is spent. Retried
    when the database drops: rows it had claimed come back when their lease expires,
    and a row it was sending is never sent twice (see `delivery`)."""
    delivery.nudges_deliver()
