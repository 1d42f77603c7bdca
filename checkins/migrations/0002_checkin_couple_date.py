# Each check-in gets the couple day it counts toward (docs/days.md), computed for the
# existing rows from the author's and the couple's zones as they are now.

from django.db import migrations, models
from django.db.models import F

BATCH = 2000


def backfill(apps, schema_editor):
    from nuzzle.lib.timezones import couple_day

    Checkin = apps.get_model("checkins", "Checkin")
    Checkin.objects.filter(couple__isnull=True).update(couple_date=F("local_date"))
    rows = (
        Checkin.objects.filter(couple__isnull=False)
        .values_list("id", "local_date", "author__timezone", "couple__timezone")
        .order_by("id")
    )
    batch = []
    for pk, day, zone, couple_zone in rows.iterator(chunk_size=BATCH):
        batch.append(Checkin(id=pk, couple_date=couple_day(day, zone, couple_zone)))
        if len(batch) == BATCH:
            Checkin.objects.bulk_update(batch, ["couple_date"])
            batch = []
    if batch:
        Checkin.objects.bulk_update(batch, ["couple_date"])


class Migration(migrations.Migration):

    dependencies = [
        ('checkins', '0001_initial'),
        ('couples', '0002_user_allow_sensitive_questions'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='checkin',
            name='checkins_ch_couple__8b87ad_idx',
        ),
        migrations.AddField(
            model_name='checkin',
            name='couple_date',
            field=models.DateField(null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='checkin',
            name='couple_date',
            field=models.DateField(),
        ),
        migrations.AddIndex(
            model_name='checkin',
            index=models.Index(fields=['couple', 'couple_date'], name='checkins_ch_couple__3be5e8_idx'),
        ),
    ]
