"""The Celery app and the whole beat schedule, in one place.

Beat only runs a few set-based sweeps; per-person schedules live in the database as
due times (see ARCHITECTURE.md, "How a nudge flows"). Never add one entry per user.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nuzzle.settings")

app = Celery("nuzzle")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Every minute: give each couple whose local day has just begun its daily question
    # (due times live on QuestionSchedule rows in the database), and quietly close
    # questions left unanswered for three days. One indexed query when nothing is due.
    "prompts-daily-question-sweep": {
        "task": "prompts.tasks.daily_question_sweep",
        "schedule": crontab(),
    },
    # Hourly housekeeping: drop expired sessions, API tokens and long-dead invites so
    # the tables that every request touches stay small. Idempotent; safe to run twice.
    "couples-housekeeping": {
        "task": "nuzzle.couples.tasks.housekeeping",
        "schedule": crontab(minute=17),
    },
}
