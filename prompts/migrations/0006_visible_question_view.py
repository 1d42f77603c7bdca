# The daily questions each person may see, with what of their partner's answer they
# may see, as a view keyed by the viewer (docs/architecture.md, rule 2).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from nuzzle.lib.dbviews import create_view

QUESTION_COLUMNS = (
    "q.id AS id, q.couple_id AS couple_id, q.prompt_id AS prompt_id, "
    "q.couple_date AS couple_date, q.status AS status, q.closes_at AS closes_at, "
    "q.revealed_at AS revealed_at"
)


class Migration(migrations.Migration):

    dependencies = [
        ('prompts', '0005_sweep_history_and_indexes'),
        ('couples', '0004_partnership_view'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Every question of my current couple, with my answer and reaction, whether my
        # partner has answered, and their answer and reaction only once the question
        # is revealed (both have answered): sealed until then, in the database.
        # And from couples I was in before, the questions I answered, with my words
        # only: nothing my ex-partner wrote is in any row for me.
        create_view(
            "prompts_visiblequestion",
            f"""
            SELECT p.user_id AS viewer_id, {QUESTION_COLUMNS}, TRUE AS current,
                   mine.text AS my_answer,
                   CASE WHEN theirs.id IS NULL THEN FALSE ELSE TRUE END AS partner_answered,
                   CASE WHEN q.revealed_at IS NULL THEN NULL ELSE theirs.text END
                       AS partner_answer,
                   my_reaction.reaction AS my_reaction,
                   CASE WHEN q.revealed_at IS NULL THEN NULL ELSE their_reaction.reaction END
                       AS partner_reaction
            FROM couples_partnership p
            JOIN prompts_dailyquestion q ON q.couple_id = p.couple_id
            LEFT JOIN prompts_questionanswer mine
              ON mine.question_id = q.id AND mine.author_id = p.user_id
            LEFT JOIN prompts_questionanswer theirs
              ON theirs.question_id = q.id AND theirs.author_id = p.partner_id
            LEFT JOIN prompts_questionreaction my_reaction
              ON my_reaction.question_id = q.id AND my_reaction.author_id = p.user_id
            LEFT JOIN prompts_questionreaction their_reaction
              ON their_reaction.question_id = q.id AND their_reaction.author_id = p.partner_id
            UNION ALL
            SELECT a.author_id AS viewer_id, {QUESTION_COLUMNS}, FALSE AS current,
                   a.text AS my_answer,
                   CASE WHEN q.revealed_at IS NULL THEN FALSE ELSE TRUE END AS partner_answered,
                   NULL AS partner_answer,
                   my_reaction.reaction AS my_reaction,
                   NULL AS partner_reaction
            FROM prompts_questionanswer a
            JOIN prompts_dailyquestion q ON q.id = a.question_id
            LEFT JOIN prompts_questionreaction my_reaction
              ON my_reaction.question_id = q.id AND my_reaction.author_id = a.author_id
            WHERE NOT EXISTS (
                SELECT 1 FROM couples_partnership p
                WHERE p.user_id = a.author_id AND p.couple_id = q.couple_id
            )
            """,
        ),
        migrations.CreateModel(
            name='VisibleQuestion',
            fields=[
                ('pk', models.CompositePrimaryKey('viewer', 'question', blank=True, editable=False, primary_key=True, serialize=False)),
                ('couple_date', models.DateField()),
                ('status', models.CharField(max_length=8)),
                ('closes_at', models.DateTimeField()),
                ('revealed_at', models.DateTimeField(null=True)),
                ('current', models.BooleanField()),
                ('my_answer', models.TextField(null=True)),
                ('partner_answered', models.BooleanField()),
                ('partner_answer', models.TextField(null=True)),
                ('my_reaction', models.CharField(max_length=16, null=True)),
                ('partner_reaction', models.CharField(max_length=16, null=True)),
                ('viewer', models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('question', models.ForeignKey(db_column='id', on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='prompts.dailyquestion')),
                ('couple', models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='couples.couple')),
                ('prompt', models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='prompts.prompt')),
            ],
            options={
                'db_table': 'prompts_visiblequestion',
                'managed': False,
            },
        ),
    ]
