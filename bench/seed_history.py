"""Seed a benchmark database with N couples (default 10,000) and a year of history,
with set-based SQL on PostgreSQL (INSERT ... SELECT over generate_series and arrays):
tens of millions of rows in minutes, not hours.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nuzzle_bench_web \\
        .venv/bin/python bench/seed_history.py --couples 10000        # --reseed

What a couple gets (ids are arithmetic: couple c has people 2c-1 and 2c, so every
table is one statement with no lookups):
- two people as if they signed up and paired: users (one shared password hash of
  SEED_PASSWORD, so the login form works), memberships, the accepted invite, nudge
  preferences and the six schedule rows per person exactly as `nudges_setup` makes
  them (it runs for one real person per zone; everyone else copies that zone's rows),
  and the question schedule (next local midnight);
- a year of daily questions (one per couple-day, no repeats within the year, no
  sensitive ones): most revealed with both answers, some answered by one of them and
  closed, some reactions; today's question is open and answered at most by the first
  partner (so the benchmark's answer POSTs from the first partner never reveal it);
- check-ins for both partners on most days (today for about half of them), with
  answers to that day's check-in questions, a few private, and the partner's
  responses on some shared ones;
- love maps: 15-45 topics each, a quarter with an older version, and the partner's
  reveals (of the current version or of an older one: "changed"), guesses and ratings.
Not seeded: the nudge outbox (no endpoint under load reads it).

`credentials_ensure()` (run by bench/web.py every time, cheap) gives every person a
knox token and a browser session whose values follow from their id: the token is
`bench_token(user_id)`, the session key `bench_session_key(user_id)`. Tokens are
stored as knox stores them (the digest of `knox.crypto.hash_token`); sessions are
encoded by the configured session engine, signed with this process's SECRET_KEY (the
server's must be the same: bench/web.py uses bench.server.BENCH_ENV for both).

A marker row (table `bench_seed`) records the couple count and the seed version; a
second run with the same ones migrates the database and reuses the data (--reseed
forces a new seed). Seeding drops and re-creates the whole schema first: the database's
name must contain "bench". Columns the statements below do not name are filled with
their model field's default, so a field added later does not break the seed.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SEED_VERSION = 1
SEED_PASSWORD = "bench-password-not-secret"  # noqa: S105 (every seeded person's; bench DB only)
DAYS = 365  # of history before today
ZONES = [
    "Europe/London",
    "America/New_York",
    "Europe/Berlin",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/Sao_Paulo",
]
NAMES = [
    "Sam", "Alex", "Robin", "Kit", "Lee", "Ash", "Jo", "Mika", "Noa", "Ren",
    "Ari", "Eli", "Kai", "Lou", "Max", "Nico", "Pat", "Quinn", "Ray", "Sky",
]  # fmt: skip
TEXT = (
    "Honestly the thing on my mind today was how quiet the morning felt before "
    "everyone woke up, and how much I liked our walk to the bakery last weekend. "
    "Work was a lot, the new project keeps shifting, but dinner plans help. I keep "
    "thinking about the trip we talked about and whether we could really do it in "
    "spring; maybe we start saving a little each month and see how it goes. "
)
REACTIONS = ["heart", "hug", "proud", "same", "laugh"]


def bench_token(user_id: int) -> str:
    """The knox token of a seeded person (64 hex digits, as knox makes them)."""
    return hashlib.sha256(f"nuzzle-bench-token:{user_id}".encode()).hexdigest()


def bench_session_key(user_id: int) -> str:
    """The session key (cookie value) of a seeded person."""
    return hashlib.sha256(f"nuzzle-bench-session:{user_id}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class SeedInfo:
    couples: int
    seeded_at: datetime
    reused: bool
    seconds: float
    rows: dict[str, int]


# --- SQL ----------------------------------------------------------------------------
# h(a, b, salt): a deterministic pseudo-random number 0..99 per (row, day, purpose).
_FUNCTIONS = """
CREATE OR REPLACE FUNCTION pg_temp.h(a bigint, b bigint, salt int) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
  SELECT mod(abs(hashint8(a * 1000003 + b * 7919 + salt::bigint * 104729)), 100)
$$;
CREATE OR REPLACE FUNCTION pg_temp.midnight(day date, tz text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$ SELECT day::timestamp AT TIME ZONE tz $$;
"""

# One row per couple: its zone and its local today at the seed instant.
_COUPLES = """
DROP TABLE IF EXISTS seed_couple;
CREATE TEMP TABLE seed_couple ON COMMIT PRESERVE ROWS AS
SELECT c AS id, z.tz, (%(now)s::timestamptz AT TIME ZONE z.tz)::date AS today
FROM generate_series(1, %(couples)s) AS c
CROSS JOIN LATERAL (
  SELECT (%(zones)s::text[])[1 + mod(c, array_length(%(zones)s::text[], 1))] AS tz
) AS z;
CREATE UNIQUE INDEX ON seed_couple (id);
ANALYZE seed_couple;
"""

_STATEMENTS: list[tuple[str, str]] = [
    (
        "couples_user",
        """
INSERT INTO couples_user (id, password, last_login, is_superuser, email, display_name,
  timezone, is_active, is_staff, date_joined, allow_sensitive_questions)
SELECT 2 * sc.id - 1 + s, %(password)s, %(now)s::timestamptz - interval '1 hour' * (1 + s),
  false, 'p' || (2 * sc.id - 1 + s) || '@bench.invalid',
  (%(names)s::text[])[1 + mod(2 * sc.id - 1 + s, array_length(%(names)s::text[], 1))],
  sc.tz, true, false, %(now)s::timestamptz - interval '400 days', false
FROM seed_couple sc CROSS JOIN (VALUES (0), (1)) AS side(s)
""",
    ),
    (
        "couples_couple",
        """
INSERT INTO couples_couple (id, created_at, timezone, ended_at, ended_by_id)
SELECT sc.id, %(now)s::timestamptz - interval '390 days', sc.tz, NULL, NULL
FROM seed_couple sc
""",
    ),
    (
        "couples_membership",
        """
INSERT INTO couples_membership (id, joined_at, ended_at, couple_id, user_id)
SELECT 2 * sc.id - 1 + s, %(now)s::timestamptz - interval '390 days', NULL, sc.id,
  2 * sc.id - 1 + s
FROM seed_couple sc CROSS JOIN (VALUES (0), (1)) AS side(s)
""",
    ),
    (
        "couples_invite",
        """
INSERT INTO couples_invite (code, created_at, expires_at, revoked_at, accepted_at,
  accepted_by_id, couple_id, inviter_id)
SELECT 'BENCH' || lpad(sc.id::text, 12, '0'), %(now)s::timestamptz - interval '391 days',
  %(now)s::timestamptz - interval '384 days', NULL,
  %(now)s::timestamptz - interval '390 days', 2 * sc.id, sc.id, 2 * sc.id - 1
FROM seed_couple sc
""",
    ),
    (
        "prompts_questionschedule",
        """
INSERT INTO prompts_questionschedule (due_at, couple_id)
SELECT pg_temp.midnight(sc.today + 1, sc.tz), sc.id
FROM seed_couple sc
""",
    ),
    (
        # Couple-day o days before today. Revealed (both answered) on most days; the
        # rest closed after three days, or still open when recent. Today: open.
        "prompts_dailyquestion",
        """
INSERT INTO prompts_dailyquestion (id, couple_date, status, created_at, closes_at,
  revealed_at, couple_id, prompt_id)
SELECT (sc.id - 1) * (%(days)s + 1) + o + 1, sc.today - o,
  CASE WHEN o >= 1 AND pg_temp.h(sc.id, o, 4) < 80 THEN 'open'
       WHEN o >= 3 THEN 'closed' ELSE 'open' END,
  pg_temp.midnight(sc.today - o, sc.tz),
  pg_temp.midnight(sc.today - o + 3, sc.tz),
  CASE WHEN o >= 1 AND pg_temp.h(sc.id, o, 4) < 80 THEN
    LEAST(pg_temp.midnight(sc.today - o, sc.tz) + interval '20 hours',
          %(now)s::timestamptz - interval '1 minute') END,
  sc.id,
  (%(questions)s::bigint[])[1 + mod(sc.id * 37 + o, array_length(%(questions)s::bigint[], 1))]
FROM seed_couple sc CROSS JOIN generate_series(0, %(days)s) AS o
""",
    ),
    (
        # Both answers on revealed questions; on the others at most one (today: only
        # the first partner's, so the benchmark's POSTs by the first partner never
        # reveal it and stay valid).
        "prompts_questionanswer",
        """
INSERT INTO prompts_questionanswer (text, created_at, updated_at, author_id, question_id)
SELECT substr(%(text)s, 1 + pg_temp.h(q.id, s, 11), 40 + 2 * pg_temp.h(q.id, s, 12)),
  t.at, t.at, 2 * q.couple_id - 1 + s, q.id
FROM prompts_dailyquestion q
CROSS JOIN (VALUES (0), (1)) AS side(s)
CROSS JOIN LATERAL (
  SELECT CASE WHEN s = 0 OR q.revealed_at IS NULL
    THEN LEAST(q.created_at + interval '1 hour' * (8 + mod(q.id, 10)),
               %(now)s::timestamptz - interval '2 minutes')
    ELSE q.revealed_at END AS at
) AS t
WHERE q.revealed_at IS NOT NULL
   OR (s = 0 AND pg_temp.h(q.couple_id, q.id, 5) < 40)
   OR (s = 1 AND q.couple_date < %(first_today)s::date
       AND pg_temp.h(q.couple_id, q.id, 5) BETWEEN 40 AND 59)
""",
    ),
    (
        "prompts_questionreaction",
        """
INSERT INTO prompts_questionreaction (reaction, created_at, updated_at, author_id,
  question_id)
SELECT (%(reactions)s::text[])[1 + mod(q.id, 5)], q.revealed_at, q.revealed_at,
  2 * q.couple_id - 1 + mod(q.id, 2), q.id
FROM prompts_dailyquestion q
WHERE q.revealed_at IS NOT NULL AND pg_temp.h(q.id, 0, 7) < 30
""",
    ),
    (
        # Both partners on most days (today: about half), a few private.
        "checkins_checkin",
        """
INSERT INTO checkins_checkin (local_date, couple_date, mood, energy, visibility,
  created_at, updated_at, author_id, couple_id)
SELECT sc.today - o, sc.today - o,
  (ARRAY[1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 5, 5, 5])[1 + mod(pg_temp.h(u.id, o, 2), 15)],
  CASE WHEN pg_temp.h(u.id, o, 3) < 20 THEN NULL ELSE 1 + mod(pg_temp.h(u.id, o, 3), 5) END,
  CASE WHEN pg_temp.h(u.id, o, 6) < 8 THEN 'private' ELSE 'shared' END,
  t.at, t.at, u.id, sc.id
FROM seed_couple sc
CROSS JOIN (VALUES (0), (1)) AS side(s)
CROSS JOIN LATERAL (SELECT 2 * sc.id - 1 + s AS id) AS u
CROSS JOIN generate_series(0, %(days)s) AS o
CROSS JOIN LATERAL (
  SELECT LEAST(pg_temp.midnight(sc.today - o, sc.tz)
               + interval '1 hour' * (8 + mod(pg_temp.h(u.id, o, 9), 13)),
               %(now)s::timestamptz - interval '1 minute') AS at
) AS t
WHERE pg_temp.h(u.id, o, 1) < CASE WHEN o = 0 THEN 50 ELSE 85 END
""",
    ),
    (
        # 0-3 answers to that day's check-in questions, in order.
        "checkins_checkinanswer",
        """
INSERT INTO checkins_checkinanswer (position, text, checkin_id, prompt_id)
SELECT p, substr(%(text)s, 1 + pg_temp.h(ci.id, p, 13), 20 + pg_temp.h(ci.id, p, 14)),
  ci.id, (ARRAY[d.p0, d.p1, d.p2])[p + 1]
FROM checkins_checkin ci
JOIN unnest(%(days_list)s::date[], %(p0)s::bigint[], %(p1)s::bigint[], %(p2)s::bigint[])
  AS d(day, p0, p1, p2) ON d.day = ci.local_date
CROSS JOIN generate_series(0, 2) AS p
WHERE p < (ARRAY[0, 0, 1, 1, 1, 2, 2, 3, 3, 3])[1 + mod(pg_temp.h(ci.id, 0, 15), 10)]
""",
    ),
    (
        # The partner turns toward some shared check-ins.
        "checkins_checkinresponse",
        """
INSERT INTO checkins_checkinresponse (reaction, text, created_at, updated_at, author_id,
  checkin_id, checkin_date)
SELECT CASE WHEN pg_temp.h(ci.id, 0, 16) < 80
            THEN (%(reactions)s::text[])[1 + mod(ci.id, 5)] ELSE '' END,
  CASE WHEN pg_temp.h(ci.id, 0, 16) >= 60 THEN substr(%(text)s, 1, 30) ELSE '' END,
  t.at, t.at,
  CASE WHEN mod(ci.author_id, 2) = 1 THEN ci.author_id + 1 ELSE ci.author_id - 1 END,
  ci.id, ci.local_date
FROM checkins_checkin ci
CROSS JOIN LATERAL (
  SELECT LEAST(ci.created_at + interval '2 hours', %(now)s::timestamptz) AS at
) AS t
WHERE ci.visibility = 'shared' AND pg_temp.h(ci.id, 0, 17) < 30
""",
    ),
    (
        # 15-45 topics per person; a quarter of them with an older version.
        "lovemaps_lovemapentry",
        """
INSERT INTO lovemaps_lovemapentry (version, is_current, text, created_at, confirmed_at,
  stale_at, author_id, couple_id, topic_id)
SELECT v, v = n.versions,
  substr(%(text)s, 1 + pg_temp.h(u.id, j * 10 + v, 18), 30 + pg_temp.h(u.id, j, 19)),
  t.at, t.at,
  t.at + interval '1 day' * (%(half_lives)s::int[])[1 + n.ti],
  u.id, (u.id + 1) / 2, (%(topics)s::bigint[])[1 + n.ti]
FROM generate_series(1, 2 * %(couples)s) AS u(id)
CROSS JOIN LATERAL generate_series(0, 14 + mod(u.id, 31)) AS j
CROSS JOIN LATERAL (
  SELECT mod(u.id * 17 + j * 7, array_length(%(topics)s::bigint[], 1)) AS ti,
         CASE WHEN pg_temp.h(u.id, j, 20) < 25 THEN 2 ELSE 1 END AS versions
) AS n
CROSS JOIN LATERAL generate_series(1, n.versions) AS v
CROSS JOIN LATERAL (
  SELECT %(now)s::timestamptz - interval '1 day' * (1 + 3 * pg_temp.h(u.id, j, 21))
         - interval '1 day' * (n.versions - v) * (30 + pg_temp.h(u.id, j, 22)) AS at
) AS t
""",
    ),
    (
        # The partner revealed most topics: the current version ("current") or, for
        # some answers that changed since, the older one ("changed").
        "lovemaps_lovemapreveal",
        """
INSERT INTO lovemaps_lovemapreveal (revealed_at, guess, rating, rated_at, couple_id,
  entry_id, viewer_id, topic_id)
SELECT LEAST(e.created_at + interval '1 day', %(now)s::timestamptz),
  CASE WHEN pg_temp.h(e.id, 0, 24) < 50 THEN substr(%(text)s, 60, 40) ELSE '' END,
  CASE WHEN pg_temp.h(e.id, 0, 24) < 25
       THEN (ARRAY['spot_on', 'close', 'not_quite'])[1 + mod(e.id, 3)] ELSE '' END,
  CASE WHEN pg_temp.h(e.id, 0, 24) < 25
       THEN LEAST(e.created_at + interval '2 days', %(now)s::timestamptz) END,
  e.couple_id, e.id,
  CASE WHEN mod(e.author_id, 2) = 1 THEN e.author_id + 1 ELSE e.author_id - 1 END,
  e.topic_id
FROM lovemaps_lovemapentry e
WHERE pg_temp.h(e.author_id, e.topic_id, 23) < 60
  AND CASE WHEN e.is_current
           THEN e.version = 1 OR pg_temp.h(e.author_id, e.topic_id, 25) >= 50
           ELSE pg_temp.h(e.author_id, e.topic_id, 25) < 50 END
""",
    ),
]

# The big tables are filled without their secondary indexes and foreign keys, which
# are rebuilt afterwards: one sort per index and one join per key instead of an index
# insertion and a trigger per row (several times faster).
_BARE = [
    "prompts_dailyquestion",
    "prompts_questionanswer",
    "prompts_questionreaction",
    "checkins_checkin",
    "checkins_checkinanswer",
    "checkins_checkinresponse",
    "lovemaps_lovemapentry",
    "lovemaps_lovemapreveal",
]

_IDENTITIES = ["couples_user", "couples_couple", "couples_membership", "prompts_dailyquestion"]

_MARKER = """
CREATE TABLE IF NOT EXISTS bench_seed (
  id int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  info jsonb NOT NULL,
  seeded_at timestamptz NOT NULL
)
"""


def _complete(sql: str, now: datetime) -> tuple[str, dict[str, Any]]:
    """Add to an `INSERT INTO t (columns) SELECT ... FROM ...` every column of t's model
    that it does not name, with the field's default (or NULL): a field that another
    change adds later with a default does not break the seed."""
    from django.apps import apps
    from django.db import connection, models

    head, rest = sql.split(")", 1)
    table = head.split("INSERT INTO", 1)[1].split("(", 1)[0].strip()
    named = {column.strip() for column in head.split("(", 1)[1].split(",")}
    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    extra: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.column in named or isinstance(field, models.AutoField | models.BigAutoField):
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value: Any = now
        elif field.has_default():
            value = field.get_default()
        elif field.null:
            value = None
        else:
            raise RuntimeError(f"seed_history: {table}.{field.column} needs a value")
        extra[f"fill_{table}_{field.column}"] = field.get_db_prep_save(value, connection)
    if not extra:
        return sql, {}
    columns = ", ".join(name.removeprefix(f"fill_{table}_") for name in extra)
    values = ", ".join(f"%({name})s" for name in extra)
    select, source = rest.split("\nFROM ", 1)
    return f"{head}, {columns}){select}, {values}\nFROM {source}", extra


def _showed_up_recount_sql() -> str:
    """The set-based recount of every couple-month's showed-up tally, as the checkins
    migration that made the tallies runs it (one text for both)."""
    migration = importlib.import_module("checkins.migrations.0004_visibility_views_and_showed_up")
    return str(
        migration.RECOUNT_EVERYTHING.format(month="date_trunc('month', c.couple_date)::date")
    )


def _line(name: str, count: int | None, seconds: float) -> str:
    rows = f"{count:>11,} rows" if count is not None else " " * 16
    return f"  {name:<28} {rows}  {seconds:6.1f} s"


def _wanted(couples: int) -> dict[str, Any]:
    # Not the migrations: a seed is migrated forward like any database (a new column
    # gets its default); a change to what is seeded bumps SEED_VERSION.
    return {"couples": couples, "version": SEED_VERSION}


def marker_read() -> tuple[dict[str, Any], datetime] | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(_MARKER)
        cursor.execute("SELECT info, seeded_at FROM bench_seed WHERE id = 1")
        row = cursor.fetchone()
    if row is None:
        return None
    info = row[0] if isinstance(row[0], dict) else json.loads(row[0])
    return info, row[1]


def _marker_write(info: dict[str, Any], seeded_at: datetime) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(_MARKER)
        cursor.execute(
            "INSERT INTO bench_seed (id, info, seeded_at) VALUES (1, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET info = excluded.info, seeded_at = excluded.seeded_at",
            [json.dumps(info), seeded_at],
        )


def _fresh_schema() -> None:
    """An empty schema, migrated, with the prompt bank: whatever an interrupted seed
    left behind (rows, or indexes it had dropped) is gone."""
    from django.core.management import call_command
    from django.db import connection

    from bench.common import guard
    from prompts.services import prompt_bank_load

    guard()
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE")
        cursor.execute("CREATE SCHEMA public")
    call_command("migrate", verbosity=0)
    prompt_bank_load()


def _drop_secondary(cursor: Any, table: str) -> list[str]:
    """Drop a table's foreign keys, unique constraints and indexes other than the
    primary key; returns the statements that recreate them."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY contype DESC",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        [table, table],
    )
    indexes = cursor.fetchall()
    restore = [definition for _, definition in indexes]
    restore += [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for name, definition in constraints
    ]
    for name, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return restore


def _day_prompts(first: date, last: date) -> dict[str, list[Any]]:
    """For every date of the history: the three check-in questions offered that day."""
    from prompts.selectors import checkin_questions_for

    days, columns = [], ([], [], [])  # type: ignore[var-annotated]
    day = first
    while day <= last:
        ids = [prompt.pk for prompt in checkin_questions_for(day=day)]
        assert len(ids) == 3, "the bank needs at least three check-in questions"
        days.append(day)
        for column, prompt_id in zip(columns, ids, strict=True):
            column.append(prompt_id)
        day += timedelta(days=1)
    return {"days_list": days, "p0": columns[0], "p1": columns[1], "p2": columns[2]}


_LAST_ACTIVE = "%(now)s::timestamptz - interval '1 hour' * (1 + mod(u.id, 48))"


def _nudge_rows(now: datetime) -> float:
    """Preferences and schedule rows as `nudges_setup` makes them: it runs for the
    first person of each zone, and everyone else copies their zone's rows."""
    from django.db import connection

    from nuzzle.couples.models import User
    from nuzzle.nudges.models import NudgePreferences, NudgeSchedule
    from nuzzle.nudges.services import nudges_setup

    started = time.perf_counter()
    first_of_zone = {}
    for couple_id in range(1, len(ZONES) + 1):
        user = User.objects.get(pk=2 * couple_id - 1)
        nudges_setup(user=user, now=now)
        first_of_zone[user.timezone] = user.pk
    models = ", ".join(str(pk) for pk in first_of_zone.values())
    # Every column copied from the zone's model person (whatever columns the nudges
    # app has by then), except whose row it is and, for preferences, the last visit.
    for model, varying in (
        (NudgePreferences, {"user_id": "u.id", "last_active_at": _LAST_ACTIVE}),
        (NudgeSchedule, {"user_id": "u.id"}),
    ):
        columns = [
            field.column
            for field in model._meta.concrete_fields
            if not (field.primary_key and field.column != "user_id")
        ]
        values = [varying.get(column, f"p.{column}") for column in columns]
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {model._meta.db_table} ({", ".join(columns)})
                SELECT {", ".join(values)}
                FROM couples_user u
                JOIN couples_user m ON m.timezone = u.timezone AND m.id IN ({models})
                JOIN {model._meta.db_table} p ON p.user_id = m.id
                WHERE u.id NOT IN ({models})
                """,  # noqa: S608 (names from the models, ids are ints from this process)
                {"now": now},
            )
    return time.perf_counter() - started


def seed(*, couples: int, now: datetime | None = None, log: Any = print) -> SeedInfo:
    """Flush the benchmark database and seed it (see the module docstring)."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from prompts.models import Prompt

    if connection.vendor != "postgresql":
        sys.exit("seed_history needs PostgreSQL (set DATABASE_URL=postgres://...)")
    now = now or timezone.now()
    started = time.perf_counter()
    _fresh_schema()
    log(_line("schema, prompt bank", None, time.perf_counter() - started))
    questions = list(
        Prompt.objects.filter(
            kind=Prompt.Kind.QUESTION, status=Prompt.Status.PUBLISHED, sensitive=False
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    topics = list(
        Prompt.objects.filter(kind=Prompt.Kind.LOVEMAP, status=Prompt.Status.PUBLISHED)
        .order_by("id")
        .values_list("id", "half_life_days")
    )
    today = now.date()
    params: dict[str, Any] = {
        "now": now,
        "couples": couples,
        "days": DAYS,
        "zones": ZONES,
        "names": NAMES,
        "text": TEXT,
        "reactions": REACTIONS,
        "password": make_password(SEED_PASSWORD),
        "questions": questions,
        "topics": [topic_id for topic_id, _ in topics],
        "half_lives": [half_life or 365 for _, half_life in topics],
        # Zones are at most a day either side of UTC's date.
        "first_today": today - timedelta(days=1),
        **_day_prompts(today - timedelta(days=DAYS + 2), today + timedelta(days=2)),
    }
    rows: dict[str, int] = {}
    statements = dict(_STATEMENTS)

    def run(tables: list[str], *, vacuum: bool) -> None:
        """Fill `tables` on this thread's own connection (bare, then indexed)."""
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")
                cursor.execute("SET maintenance_work_mem = '512MB'")
                cursor.execute(_FUNCTIONS)
                cursor.execute(_COUPLES, params)
                restore = [
                    sql
                    for table in tables
                    if table in _BARE
                    for sql in _drop_secondary(cursor, table)
                ]
                if "checkins_checkin" in tables:
                    # The showed-up trigger recounts a couple-month per row: over a table
                    # without its indexes that is quadratic. Off while filling, then
                    # the tallies in one set-based statement (the migration's own).
                    cursor.execute("ALTER TABLE checkins_checkin DISABLE TRIGGER USER")
                for table in tables:
                    step = time.perf_counter()
                    sql, defaults = _complete(statements[table], now)
                    cursor.execute(sql, {**params, **defaults})
                    rows[table] = cursor.rowcount
                    log(_line(table, cursor.rowcount, time.perf_counter() - step))
                step = time.perf_counter()
                for sql in restore:
                    cursor.execute(sql)
                if restore:
                    log(_line(f"  {len(restore)} indexes, keys", None, time.perf_counter() - step))
                if "checkins_checkin" in tables:
                    step = time.perf_counter()
                    cursor.execute("ALTER TABLE checkins_checkin ENABLE TRIGGER USER")
                    cursor.execute("DELETE FROM checkins_showedupmonth")
                    cursor.execute(_showed_up_recount_sql())
                    log(_line("  showed-up tallies", cursor.rowcount, time.perf_counter() - step))
                if vacuum:
                    step = time.perf_counter()
                    for table in tables:
                        cursor.execute(f"VACUUM ANALYZE {table}")  # as autovacuum would have
                    log(_line("  vacuum analyze", None, time.perf_counter() - step))
        finally:
            connection.close()

    # People and couples first; then the two halves of the history side by side, each
    # on its own connection (a core each).
    run([table for table, _ in _STATEMENTS[:5]], vacuum=False)
    halves = [
        [
            "prompts_dailyquestion",
            "prompts_questionanswer",
            "prompts_questionreaction",
            "lovemaps_lovemapentry",
            "lovemaps_lovemapreveal",
        ],
        ["checkins_checkin", "checkins_checkinanswer", "checkins_checkinresponse"],
    ]
    with ThreadPoolExecutor(len(halves)) as pool:
        for future in [pool.submit(run, half, vacuum=True) for half in halves]:
            future.result()
    with connection.cursor() as cursor:
        for table in _IDENTITIES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
    seconds = _nudge_rows(now)
    log(_line("nudge preferences, schedules", couples * 2 * 7, seconds))
    step = time.perf_counter()
    with connection.cursor() as cursor:
        for table in [
            *(table for table, _ in _STATEMENTS[:5]),
            "nudges_nudgepreferences",
            "nudges_nudgeschedule",
            "prompts_prompt",
        ]:
            cursor.execute(f"VACUUM ANALYZE {table}")
    log(_line("vacuum analyze (the rest)", None, time.perf_counter() - step))
    _marker_write(_wanted(couples), now)
    return SeedInfo(couples, now, False, time.perf_counter() - started, rows)


def seed_ensure(*, couples: int, reseed: bool = False, log: Any = print) -> SeedInfo:
    """Seed unless the database already holds this very seed (marker and data)."""
    from django.core.management import call_command

    from bench.common import guard
    from nuzzle.couples.models import Couple

    guard()
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    found = marker_read()
    if (
        not reseed
        and found is not None
        and found[0] == _wanted(couples)
        and Couple.objects.count() == couples
    ):
        return SeedInfo(couples, found[1], True, time.perf_counter() - started, {})
    return seed(couples=couples, log=log)


def credentials_ensure() -> float:
    """A knox token and a browser session for every seeded person (see the module
    docstring); replaces any earlier ones. Seconds taken."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.models import Session
    from django.db import connection, transaction
    from django.utils import timezone
    from knox.crypto import hash_token
    from knox.models import AuthToken
    from knox.settings import CONSTANTS, knox_settings

    from nuzzle.couples.models import User

    started = time.perf_counter()
    now = timezone.now()
    people = list(
        User.objects.filter(email__endswith="@bench.invalid").values_list("pk", flat=True)
    )
    sample = User.objects.filter(email__endswith="@bench.invalid").first()
    assert sample is not None, "nothing seeded"
    # Every seeded person has the same password hash, hence the same session hash.
    session_hash = sample.get_session_auth_hash()
    engine = import_module(settings.SESSION_ENGINE)
    expiry = now + knox_settings.TOKEN_TTL if knox_settings.TOKEN_TTL else None
    session_expiry = now + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    tokens, sessions = [], []
    for pk in people:
        token = bench_token(pk)
        tokens.append(
            AuthToken(
                digest=hash_token(token),
                token_key=token[: CONSTANTS.TOKEN_KEY_LENGTH],
                user_id=pk,
                expiry=expiry,
            )
        )
        data = engine.SessionStore().encode(
            {
                SESSION_KEY: str(pk),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: session_hash,
            }
        )
        sessions.append(
            Session(
                session_key=bench_session_key(pk), session_data=data, expire_date=session_expiry
            )
        )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM knox_authtoken")
            cursor.execute("DELETE FROM django_session")
        AuthToken.objects.bulk_create(tokens, batch_size=5000)
        Session.objects.bulk_create(sessions, batch_size=5000)
    with connection.cursor() as cursor:
        # Fresh statistics and no dead rows, as autovacuum would leave them: without,
        # the token query is planned for a table it has never seen (a hash join over
        # every person instead of one index lookup).
        cursor.execute("VACUUM ANALYZE knox_authtoken, django_session")
    from django.core.cache import cache

    # Cached sessions (cached_db) from an earlier run would outlive the rows.
    if settings.SESSION_ENGINE.endswith("cached_db") or settings.SESSION_ENGINE.endswith("cache"):
        prefix = engine.KEY_PREFIX if hasattr(engine, "KEY_PREFIX") else ""
        cache.delete_many([prefix + bench_session_key(pk) for pk in people])
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--couples", type=int, default=10_000)
    parser.add_argument("--reseed", action="store_true", help="seed even if already seeded")
    args = parser.parse_args(argv)

    from bench.common import setup
    from bench.server import BENCH_ENV

    # The server's settings (and SECRET_KEY, which signs the sessions), as bench/web.py.
    for name, value in BENCH_ENV.items():
        os.environ.setdefault(name, value)
    setup()
    info = seed_ensure(couples=args.couples, reseed=args.reseed)
    if info.reused:
        print(f"reusing the seed of {info.seeded_at:%Y-%m-%d %H:%M} UTC ({info.couples:,} couples)")
    else:
        total = sum(info.rows.values())
        print(f"seeded {info.couples:,} couples, {total:,} rows in {info.seconds:.1f} s")
    print(f"credentials (tokens, sessions) in {credentials_ensure():.1f} s")


if __name__ == "__main__":
    main()
