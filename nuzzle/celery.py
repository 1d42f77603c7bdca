"""The Celery app and the whole beat schedule, in one place.

Beat only runs a few set-based sweeps; per-person schedules live in the database as
due times (see docs/architecture.md, "How a nudge flows"). Never add one entry per user.
"""

from __future__ import annotations

import os
from datetime import timedelta

from celery import Celery
from celery.schedules import crontab
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nuzzle.settings")

app = Celery("nuzzle")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The sweeps' period (read once DJANGO_SETTINGS_MODULE is set): one minute in
# production; the fault tests shorten it to watch real processes quickly.
BEAT_INTERVAL = timedelta(seconds=settings.BEAT_INTERVAL_SECONDS)

app.conf.beat_schedule = {
    # Every minute: give each couple whose local day has just begun its daily question
    # (due times live on QuestionSchedule rows in the database), and quietly close
    # questions left unanswered for three days. One indexed query when nothing is due.
    "prompts-daily-question-sweep": {
        "task": "prompts.tasks.daily_question_sweep",
        "schedule": BEAT_INTERVAL,
    },
    # Every minute: recover expired delivery leases, turn due schedule rows into outbox
    # rows (once per person, kind and period), then start delivery tasks for what is
    # due. Per-person due times live in PostgreSQL; two beats or a rerun send once.
    "nudges-tick": {
        "task": "nudges.tasks.tick",
        "schedule": BEAT_INTERVAL,
    },
    # Hourly housekeeping: drop expired sessions, API tokens and long-dead invites so
    # the tables that every request touches stay small. Idempotent; safe to run twice.
    "couples-housekeeping": {
        "task": "couples.tasks.housekeeping",
        "schedule": crontab(minute=17),
    },
}
