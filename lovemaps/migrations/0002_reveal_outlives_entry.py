# A love-map reveal, with the guess on it, is the viewer's: it stays theirs when the
# entry's author deletes their account. The entry's topic is copied onto it, for
# existing reveals too, so it still says what the guess was about.

import django.db.models.deletion
import lovemaps.models
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_topics(apps, schema_editor):
    """One set-based UPDATE: every reveal takes its entry's topic."""
    LovemapEntry = apps.get_model("lovemaps", "LovemapEntry")
    LovemapReveal = apps.get_model("lovemaps", "LovemapReveal")
    LovemapReveal.objects.update(
        topic_id=Subquery(
            LovemapEntry.objects.filter(pk=OuterRef("entry_id")).values("topic_id")[:1]
        )
    )


def delete_detached_reveals(apps, schema_editor):
    """Going back: a reveal without its entry cannot exist before this migration (it
    went with the entry)."""
    LovemapReveal = apps.get_model("lovemaps", "LovemapReveal")
    LovemapReveal.objects.filter(entry__isnull=True).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('lovemaps', '0001_initial'),
        ('prompts', '0005_sweep_history_and_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='lovemapreveal',
            name='topic',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='prompts.prompt'),
        ),
        migrations.RunPython(copy_topics, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='lovemapreveal',
            name='topic',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='prompts.prompt'),
        ),
        migrations.AlterField(
            model_name='lovemapreveal',
            name='entry',
            field=models.ForeignKey(blank=True, null=True, on_delete=lovemaps.models.reveal_detach, related_name='reveals', to='lovemaps.lovemapentry'),
        ),
        migrations.RunPython(migrations.RunPython.noop, delete_detached_reveals),
    ]
