"""Accounts that existed before nudges get default preferences and schedule rows.

Uses only the pure scheduling functions (no models from app code), so it stays valid
as the app evolves."""

from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    from nuzzle.nudges.kinds import CATALOGUE, Cadence
    from nuzzle.nudges.schedule import Rules, next_recap_slot, next_slot

    User = apps.get_model("couples", "User")
    NudgePreferences = apps.get_model("nudges", "NudgePreferences")
    NudgeSchedule = apps.get_model("nudges", "NudgeSchedule")
    now = timezone.now()
    for user in User.objects.filter(nudge_preferences__isnull=True).iterator():
        prefs = NudgePreferences.objects.create(user=user)
        rules = Rules(timezone=user.timezone, nudge_time=prefs.nudge_time)
        rows = []
        for spec in CATALOGUE:
            due = None
            if spec.cadence in (Cadence.DAILY, Cadence.WEEKLY):
                due = next_slot(rules, now)
            elif spec.cadence is Cadence.RECAP:
                due = next_recap_slot(rules, now)
            rows.append(
                NudgeSchedule(user=user, kind=spec.kind.value, enabled=spec.default_on, next_due_at=due)
            )
        NudgeSchedule.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("nudges", "0001_initial"),
        ("couples", "0002_user_allow_sensitive_questions"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
