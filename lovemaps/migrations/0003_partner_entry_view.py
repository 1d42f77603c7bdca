# My partner's love map as I may see it, as a view keyed by the viewer
# (docs/architecture.md, rule 2).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from nuzzle.lib.dbviews import create_view


class Migration(migrations.Migration):

    dependencies = [
        ('lovemaps', '0002_reveal_outlives_entry'),
        ('couples', '0004_partnership_view'),
        ('prompts', '0005_sweep_history_and_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # My current partner's current answers written or last confirmed in our
        # current couple, each with my status: `current` when I revealed this very
        # version (in this couple), `changed` when I revealed an older one, `unseen`
        # otherwise. The text, and my guess on it with its rating, only where current:
        # an answer I have not revealed as it is now is sealed, in the database.
        create_view(
            "lovemaps_partnerentry",
            """
            SELECT p.user_id AS viewer_id, e.id AS id, e.author_id AS author_id,
                   e.topic_id AS topic_id, e.couple_id AS couple_id, e.version AS version,
                   e.created_at AS created_at, e.confirmed_at AS confirmed_at,
                   e.stale_at AS stale_at,
                   CASE
                       WHEN mine.id IS NOT NULL THEN 'current'
                       WHEN EXISTS (
                           SELECT 1 FROM lovemaps_lovemapreveal older
                           JOIN lovemaps_lovemapentry seen ON seen.id = older.entry_id
                           WHERE older.viewer_id = p.user_id
                             AND older.couple_id = p.couple_id
                             AND seen.author_id = e.author_id
                             AND seen.topic_id = e.topic_id
                       ) THEN 'changed'
                       ELSE 'unseen'
                   END AS status,
                   CASE WHEN mine.id IS NULL THEN NULL ELSE e.text END AS text,
                   mine.id AS reveal_id,
                   mine.guess AS guess,
                   mine.rating AS rating
            FROM couples_partnership p
            JOIN lovemaps_lovemapentry e
              ON e.author_id = p.partner_id AND e.couple_id = p.couple_id AND e.is_current
            LEFT JOIN lovemaps_lovemapreveal mine
              ON mine.entry_id = e.id AND mine.viewer_id = p.user_id
             AND mine.couple_id = p.couple_id
            """,
        ),
        migrations.CreateModel(
            name='PartnerEntry',
            fields=[
                ('pk', models.CompositePrimaryKey('viewer', 'entry', blank=True, editable=False, primary_key=True, serialize=False)),
                ('version', models.PositiveIntegerField()),
                ('created_at', models.DateTimeField()),
                ('confirmed_at', models.DateTimeField()),
                ('stale_at', models.DateTimeField()),
                ('status', models.CharField(max_length=8)),
                ('text', models.TextField(null=True)),
                ('reveal_id', models.IntegerField(null=True)),
                ('guess', models.TextField(null=True)),
                ('rating', models.CharField(max_length=16, null=True)),
                ('viewer', models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('entry', models.ForeignKey(db_column='id', on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='lovemaps.lovemapentry')),
                ('author', models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('topic', models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='prompts.prompt')),
                ('couple', models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='couples.couple')),
            ],
            options={
                'db_table': 'lovemaps_partnerentry',
                'managed': False,
            },
        ),
    ]
