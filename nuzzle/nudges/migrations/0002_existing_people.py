"""Accounts that existed before nudges get default preferences and schedule rows.

Self-contained: the kinds, their defaults and the due-time rule are written out here as
they were when this migration was made, so later changes to the app's catalogue or
schedule code never change what it does."""

import zoneinfo
from datetime import UTC, datetime, time, timedelta

from django.db import migrations
from django.utils import timezone

# (kind, on by default, cadence) as of 0001; event kinds wait for their first event.
KINDS = (
    ("partner_answered", True, "event"),
    ("weekly_recap", True, "recap"),
    ("lovemap_catchup", True, "weekly"),
    ("lovemap_stale", True, "weekly"),
    ("question_ready", True, "daily"),
    ("checkin_reminder", False, "daily"),
)
SUNDAY = 6


def _next_nudge_time(zone_name, wall, now, weekday=None):
    """The first `wall` o'clock in the zone strictly after `now` (on `weekday` if given);
    every day is a nudge day by default."""
    zone = zoneinfo.ZoneInfo(zone_name)
    day = now.astimezone(zone).date()
    for offset in range(15):
        candidate = day + timedelta(days=offset)
        if weekday is not None and candidate.weekday() != weekday:
            continue
        slot = datetime.combine(candidate, wall, tzinfo=zone).astimezone(UTC)
        if slot > now:
            return slot
    return None


def forwards(apps, schema_editor):
    User = apps.get_model("couples", "User")
    NudgePreferences = apps.get_model("nudges", "NudgePreferences")
    NudgeSchedule = apps.get_model("nudges", "NudgeSchedule")
    now = timezone.now()
    for user in User.objects.filter(nudge_preferences__isnull=True).iterator():
        prefs = NudgePreferences.objects.create(user=user)
        wall = prefs.nudge_time if isinstance(prefs.nudge_time, time) else time(19, 0)
        rows = []
        for kind, on, cadence in KINDS:
            due = None
            if cadence in ("daily", "weekly"):
                due = _next_nudge_time(user.timezone, wall, now)
            elif cadence == "recap":
                due = _next_nudge_time(user.timezone, wall, now, weekday=SUNDAY)
            rows.append(NudgeSchedule(user=user, kind=kind, enabled=on, next_due_at=due))
        NudgeSchedule.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("nudges", "0001_initial"),
        ("couples", "0002_user_allow_sensitive_questions"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
