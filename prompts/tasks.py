"""Celery tasks for the daily question (thin: they call one service)."""

from __future__ import annotations

from celery import shared_task

from prompts import sweep


@shared_task(name="prompts.tasks.daily_question_sweep", ignore_result=True)
def daily_question_sweep() -> None:
    """Every minute: assign questions to couples whose local day began, close old ones.
    Set-based and idempotent: a duplicate run (or a second beat) assigns nothing twice."""
    sweep.daily_question_sweep()
