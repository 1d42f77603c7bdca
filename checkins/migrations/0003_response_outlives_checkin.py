# A check-in response (a reaction, a reply) is its author's words: it stays theirs when
# the check-in's author deletes their account. The check-in's date is copied onto it,
# for existing responses too, so it still says which day it answered.

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_checkin_dates(apps, schema_editor):
    """One set-based UPDATE: every response takes its check-in's local date."""
    Checkin = apps.get_model("checkins", "Checkin")
    CheckinResponse = apps.get_model("checkins", "CheckinResponse")
    CheckinResponse.objects.update(
        checkin_date=Subquery(
            Checkin.objects.filter(pk=OuterRef("checkin_id")).values("local_date")[:1]
        )
    )


def delete_detached_responses(apps, schema_editor):
    """Going back: a response without its check-in cannot exist before this migration
    (it went with the check-in)."""
    CheckinResponse = apps.get_model("checkins", "CheckinResponse")
    CheckinResponse.objects.filter(checkin__isnull=True).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('checkins', '0002_checkin_couple_date'),
    ]

    operations = [
        migrations.AddField(
            model_name='checkinresponse',
            name='checkin_date',
            field=models.DateField(null=True),
        ),
        migrations.RunPython(copy_checkin_dates, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='checkinresponse',
            name='checkin_date',
            field=models.DateField(),
        ),
        migrations.AlterField(
            model_name='checkinresponse',
            name='checkin',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='responses', to='checkins.checkin'),
        ),
        migrations.RunPython(migrations.RunPython.noop, delete_detached_responses),
    ]
