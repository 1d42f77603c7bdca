"""Celery tasks for accounts and couples (thin: they call one service)."""

from __future__ import annotations

import logging

from celery import shared_task

from nuzzle.couples import services

logger = logging.getLogger(__name__)


@shared_task(name="couples.tasks.housekeeping", ignore_result=True)
def housekeeping() -> None:
    """Hourly clean-up; idempotent, so a duplicate run is harmless."""
    deleted = services.housekeeping()
    logger.info("housekeeping: %s", deleted)
