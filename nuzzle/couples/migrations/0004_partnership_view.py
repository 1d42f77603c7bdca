# Who is whose partner now, as a view the who-sees-what views join
# (docs/architecture.md, rule 2).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from nuzzle.lib.dbviews import create_view


class Migration(migrations.Migration):

    dependencies = [
        ('couples', '0003_invite_one_live_per_inviter'),
    ]

    operations = [
        # Two rows per active couple, one for each partner. At most one active
        # membership per person (membership_one_active_couple_per_person), so `user_id`
        # is unique.
        create_view(
            "couples_partnership",
            """
            SELECT me.user_id AS user_id, them.user_id AS partner_id, me.couple_id AS couple_id
            FROM couples_membership me
            JOIN couples_membership them
              ON them.couple_id = me.couple_id
             AND them.user_id <> me.user_id
             AND them.ended_at IS NULL
            WHERE me.ended_at IS NULL
            """,
        ),
        migrations.CreateModel(
            name='Partnership',
            fields=[
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='partnership', serialize=False, to=settings.AUTH_USER_MODEL)),
                ('couple', models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='couples.couple')),
                ('partner', models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'couples_partnership',
                'managed': False,
            },
        ),
    ]
