# Who sees which check-ins and responses, as views keyed by the viewer, and the
# "days both showed up" tallies the database keeps exact (docs/architecture.md, rule 2).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from nuzzle.lib.dbviews import VendorSQL, create_view

CHECKIN_COLUMNS = (
    "c.id AS id, c.author_id AS author_id, c.couple_id AS couple_id, "
    "c.local_date AS local_date, c.couple_date AS couple_date, c.mood AS mood, "
    "c.energy AS energy, c.visibility AS visibility, c.created_at AS created_at, "
    "c.updated_at AS updated_at"
)
RESPONSE_COLUMNS = (
    "r.id AS id, r.checkin_id AS checkin_id, r.checkin_date AS checkin_date, "
    "r.author_id AS author_id, r.reaction AS reaction, r.text AS text, "
    "r.created_at AS created_at, r.updated_at AS updated_at"
)

# The one rule for "both showed up" on a couple day: two people shared a check-in in
# that couple for it. `checkins_showed_up_recount` recounts one couple-month under a
# lock on its tally row, so two partners checking in at once cannot both miss the other.
POSTGRESQL = [
    """
    CREATE FUNCTION checkins_showed_up_recount(p_couple bigint, p_day date) RETURNS void AS $$
    DECLARE
        first_day date := date_trunc('month', p_day)::date;
    BEGIN
        IF p_couple IS NULL THEN
            RETURN;
        END IF;
        INSERT INTO checkins_showedupmonth (couple_id, month, days)
        VALUES (p_couple, first_day, 0)
        ON CONFLICT (couple_id, month) DO NOTHING;
        -- Wait for any other writer of this couple-month; the count below then sees
        -- its committed check-in (each statement takes a new snapshot).
        PERFORM 1 FROM checkins_showedupmonth
        WHERE couple_id = p_couple AND month = first_day FOR UPDATE;
        UPDATE checkins_showedupmonth SET days = (
            SELECT count(*) FROM (
                SELECT c.couple_date FROM checkins_checkin c
                WHERE c.couple_id = p_couple
                  AND c.couple_date >= first_day
                  AND c.couple_date < (first_day + interval '1 month')::date
                  AND c.visibility = 'shared'
                GROUP BY c.couple_date
                HAVING count(DISTINCT c.author_id) = 2
            ) AS both_days
        )
        WHERE couple_id = p_couple AND month = first_day;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE FUNCTION checkins_showed_up_changed() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM checkins_showed_up_recount(OLD.couple_id, OLD.couple_date);
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND (
            TG_OP = 'INSERT'
            OR NEW.couple_id IS DISTINCT FROM OLD.couple_id
            OR date_trunc('month', NEW.couple_date) <> date_trunc('month', OLD.couple_date)
        ) THEN
            PERFORM checkins_showed_up_recount(NEW.couple_id, NEW.couple_date);
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER checkins_showed_up_insert_delete
    AFTER INSERT OR DELETE ON checkins_checkin
    FOR EACH ROW EXECUTE FUNCTION checkins_showed_up_changed()
    """,
    """
    CREATE TRIGGER checkins_showed_up_update
    AFTER UPDATE OF author_id, couple_id, couple_date, visibility ON checkins_checkin
    FOR EACH ROW
    WHEN (
        OLD.author_id IS DISTINCT FROM NEW.author_id
        OR OLD.couple_id IS DISTINCT FROM NEW.couple_id
        OR OLD.couple_date IS DISTINCT FROM NEW.couple_date
        OR OLD.visibility IS DISTINCT FROM NEW.visibility
    )
    EXECUTE FUNCTION checkins_showed_up_changed()
    """,
]
REVERSE_POSTGRESQL = [
    "DROP TRIGGER IF EXISTS checkins_showed_up_update ON checkins_checkin",
    "DROP TRIGGER IF EXISTS checkins_showed_up_insert_delete ON checkins_checkin",
    "DROP FUNCTION IF EXISTS checkins_showed_up_changed()",
    "DROP FUNCTION IF EXISTS checkins_showed_up_recount(bigint, date)",
]


def _sqlite_recount(row: str) -> str:
    """SQLite has no functions in SQL: the recount of `row`'s couple-month, as an
    upsert (one writer at a time, so no lock is needed)."""
    first_day = f"date({row}.couple_date, 'start of month')"
    return f"""
        INSERT INTO checkins_showedupmonth (couple_id, month, days)
        SELECT {row}.couple_id, {first_day}, (
            SELECT count(*) FROM (
                SELECT c.couple_date FROM checkins_checkin c
                WHERE c.couple_id = {row}.couple_id
                  AND c.couple_date >= {first_day}
                  AND c.couple_date < date({first_day}, '+1 month')
                  AND c.visibility = 'shared'
                GROUP BY c.couple_date
                HAVING count(DISTINCT c.author_id) = 2
            )
        )
        WHERE {row}.couple_id IS NOT NULL
        ON CONFLICT (couple_id, month) DO UPDATE SET days = excluded.days;
    """


SQLITE = [
    f"""
    CREATE TRIGGER checkins_showed_up_insert AFTER INSERT ON checkins_checkin
    BEGIN {_sqlite_recount("NEW")} END
    """,
    f"""
    CREATE TRIGGER checkins_showed_up_delete AFTER DELETE ON checkins_checkin
    BEGIN {_sqlite_recount("OLD")} END
    """,
    f"""
    CREATE TRIGGER checkins_showed_up_update
    AFTER UPDATE OF author_id, couple_id, couple_date, visibility ON checkins_checkin
    BEGIN {_sqlite_recount("OLD")} {_sqlite_recount("NEW")} END
    """,
]
REVERSE_SQLITE = [
    "DROP TRIGGER IF EXISTS checkins_showed_up_insert",
    "DROP TRIGGER IF EXISTS checkins_showed_up_delete",
    "DROP TRIGGER IF EXISTS checkins_showed_up_update",
]

RECOUNT_EVERYTHING = """
    INSERT INTO checkins_showedupmonth (couple_id, month, days)
    SELECT couple_id, month, count(*) FROM (
        SELECT c.couple_id AS couple_id, {month} AS month, c.couple_date
        FROM checkins_checkin c
        WHERE c.couple_id IS NOT NULL AND c.visibility = 'shared'
        GROUP BY c.couple_id, c.couple_date
        HAVING count(DISTINCT c.author_id) = 2
    ) AS both_days
    GROUP BY couple_id, month
"""


class Migration(migrations.Migration):

    dependencies = [
        ('checkins', '0003_response_outlives_checkin'),
        ('couples', '0004_partnership_view'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ShowedUpMonth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField()),
                ('days', models.PositiveIntegerField(default=0)),
                ('couple', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='couples.couple')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('couple', 'month'), name='showed_up_once_a_month')],
            },
        ),
        VendorSQL(
            postgresql=[*POSTGRESQL, RECOUNT_EVERYTHING.format(month="date_trunc('month', c.couple_date)::date")],
            sqlite=[*SQLITE, RECOUNT_EVERYTHING.format(month="date(c.couple_date, 'start of month')")],
            reverse_postgresql=REVERSE_POSTGRESQL,
            reverse_sqlite=REVERSE_SQLITE,
            triggers={
                "postgresql": ["checkins_showed_up_insert_delete", "checkins_showed_up_update"],
                "sqlite": ["checkins_showed_up_insert", "checkins_showed_up_delete", "checkins_showed_up_update"],
            },
        ),
        # Mine, in any couple and of any visibility; my current partner's shared ones
        # in our current couple. Nothing else: another couple's, an ex-partner's, and a
        # private check-in of my partner's are in no row for me.
        create_view(
            "checkins_visiblecheckin",
            f"""
            SELECT c.author_id AS viewer_id, {CHECKIN_COLUMNS}
            FROM checkins_checkin c
            UNION ALL
            SELECT p.user_id AS viewer_id, {CHECKIN_COLUMNS}
            FROM couples_partnership p
            JOIN checkins_checkin c ON c.couple_id = p.couple_id AND c.author_id = p.partner_id
            WHERE c.visibility = 'shared'
            """,
        ),
        # Mine; my current partner's on a check-in of our current couple. An
        # ex-partner's replies on my old check-ins are theirs, not mine.
        create_view(
            "checkins_visibleresponse",
            f"""
            SELECT r.author_id AS viewer_id, {RESPONSE_COLUMNS}
            FROM checkins_checkinresponse r
            UNION ALL
            SELECT p.user_id AS viewer_id, {RESPONSE_COLUMNS}
            FROM couples_partnership p
            JOIN checkins_checkinresponse r ON r.author_id = p.partner_id
            JOIN checkins_checkin c ON c.id = r.checkin_id AND c.couple_id = p.couple_id
            """,
        ),
        migrations.CreateModel(
            name='VisibleCheckin',
            fields=[
                ('pk', models.CompositePrimaryKey('viewer', 'checkin', blank=True, editable=False, primary_key=True, serialize=False)),
                ('local_date', models.DateField()),
                ('couple_date', models.DateField()),
                ('mood', models.PositiveSmallIntegerField()),
                ('energy', models.PositiveSmallIntegerField(null=True)),
                ('visibility', models.CharField(max_length=8)),
                ('created_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField()),
                ('viewer', models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('checkin', models.ForeignKey(db_column='id', on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='checkins.checkin')),
                ('author', models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('couple', models.ForeignKey(null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='couples.couple')),
            ],
            options={
                'db_table': 'checkins_visiblecheckin',
                'managed': False,
            },
        ),
        migrations.CreateModel(
            name='VisibleResponse',
            fields=[
                ('pk', models.CompositePrimaryKey('viewer', 'response', blank=True, editable=False, primary_key=True, serialize=False)),
                ('checkin_date', models.DateField()),
                ('reaction', models.CharField(blank=True, max_length=16)),
                ('text', models.TextField(blank=True)),
                ('created_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField()),
                ('viewer', models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('response', models.ForeignKey(db_column='id', on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='checkins.checkinresponse')),
                ('checkin', models.ForeignKey(null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='checkins.checkin')),
                ('author', models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'checkins_visibleresponse',
                'managed': False,
            },
        ),
    ]
