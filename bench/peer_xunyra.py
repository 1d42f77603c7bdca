"""The peer benchmark's helper inside X-Unyra (bench/peer.py runs it; never imported by
Nuzzle): run with the peer's own virtualenv, in the peer's backend folder, under the
small settings module bench/peer.py writes (the peer's settings, DEBUG off). It reads
the peer's models through Django's app registry and writes only to the peer's
benchmark database.

    <peer venv>/bin/python bench/peer_xunyra.py COMMAND < spec.json

Commands (a JSON object on stdin, a JSON object on stdout; progress on stderr):
  prepare  migrate; seed `couples` couples with `days` days of history unless the
           database already holds that very seed (or `reseed`); then a JWT access
           token for every seeded person (the peer's own SimpleJWT) and each person's
           newest check-in of the last seven days (the update row's target)
  cleanup  delete the check-ins the create row wrote (their note starts with MARKER)

The seed (set-based SQL, INSERT ... SELECT over generate_series; ids are arithmetic:
couple c has people 2c-1 and 2c): people (one shared password hash), couples (paired:
partner A and B), a check-in per person on most days (85 %; today about half) with a
note of 40-240 characters, and the peer's Q&A at the same rate as Nuzzle's daily
questions (a question per couple-day, both answers on most). A marker table
(`bench_peer_seed`) records couples, days and the seed version.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta
from typing import Any

MARKER = "nuzzle-bench-write"  # starts the note of every check-in the create row writes
SEED_VERSION = 1
PASSWORD = "bench-password-not-secret"  # noqa: S105 (every seeded person's; bench DB only)
ZONES = ["Europe/London", "America/New_York", "Europe/Berlin", "Asia/Tokyo"]
NAMES = ["Sam", "Alex", "Robin", "Kit", "Lee", "Ash", "Jo", "Mika", "Noa", "Ren"]
TEXT = (
    "Honestly the thing on my mind today was how quiet the morning felt before "
    "everyone woke up, and how much I liked our walk to the bakery last weekend. "
    "Work was a lot, the new project keeps shifting, but dinner plans help. I keep "
    "thinking about the trip we talked about and whether we could really do it in "
    "spring; maybe we start saving a little each month and see how it goes. "
)

_FUNCTIONS = """
CREATE OR REPLACE FUNCTION pg_temp.h(a bigint, b bigint, salt int) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
  SELECT mod(abs(hashint8(a * 1000003 + b * 7919 + salt::bigint * 104729)), 100)
$$;
CREATE OR REPLACE FUNCTION pg_temp.couple_uuid(c bigint) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$ SELECT md5('nuzzle-bench-couple:' || c)::uuid $$;
"""

_MARKER_TABLE = """
CREATE TABLE IF NOT EXISTS bench_peer_seed (
  id int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  info jsonb NOT NULL,
  seeded_at timestamptz NOT NULL
)
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _tables() -> dict[str, str]:
    from django.apps import apps
    from django.contrib.auth import get_user_model

    return {
        "user": get_user_model()._meta.db_table,
        "couple": apps.get_model("couples", "Couple")._meta.db_table,
        "checkin": apps.get_model("checkins", "CheckIn")._meta.db_table,
        "question": apps.get_model("qna", "Question")._meta.db_table,
        "answer": apps.get_model("qna", "Answer")._meta.db_table,
    }


def _statements(t: dict[str, str]) -> list[tuple[str, str]]:
    return [
        (
            "people",
            f"""
INSERT INTO {t["user"]} (id, password, last_login, is_superuser, username, first_name,
  last_name, email, is_staff, is_active, date_joined, language, timezone, updated_at)
SELECT u, %(password)s, NULL, false, 'p' || u,
  (%(names)s::text[])[1 + mod(u, array_length(%(names)s::text[], 1))], '',
  'p' || u || '@bench.invalid', false, true, %(now)s::timestamptz - interval '400 days',
  'en', (%(zones)s::text[])[1 + mod((u + 1) / 2, array_length(%(zones)s::text[], 1))],
  %(now)s::timestamptz - interval '400 days'
FROM generate_series(1, 2 * %(couples)s) AS u
""",  # noqa: S608 (table names from the peer's models)
        ),
        (
            "couples",
            f"""
INSERT INTO {t["couple"]} (id, partner_a_id, partner_b_id, created_at, updated_at)
SELECT pg_temp.couple_uuid(c), 2 * c - 1, 2 * c, %(now)s::timestamptz - interval '390 days',
  %(now)s::timestamptz - interval '390 days'
FROM generate_series(1, %(couples)s) AS c
""",  # noqa: S608 (table names from the peer's models)
        ),
        (
            "check-ins",
            f"""
INSERT INTO {t["checkin"]} (couple_id, user_id, date, mood, stress, energy, note,
  created_at, updated_at)
SELECT pg_temp.couple_uuid((u + 1) / 2), u, %(today)s::date - o,
  1 + mod(pg_temp.h(u, o, 2), 10), 1 + mod(pg_temp.h(u, o, 3), 10),
  1 + mod(pg_temp.h(u, o, 4), 10),
  substr(%(text)s, 1 + pg_temp.h(u, o, 11), 40 + 2 * pg_temp.h(u, o, 12)), t.at, t.at
FROM generate_series(1, 2 * %(couples)s) AS u
CROSS JOIN generate_series(0, %(days)s) AS o
CROSS JOIN LATERAL (
  SELECT LEAST((%(today)s::date - o)::timestamp AT TIME ZONE 'UTC'
               + interval '1 hour' * (8 + mod(pg_temp.h(u, o, 9), 13)),
               %(now)s::timestamptz - interval '1 minute') AS at
) AS t
WHERE pg_temp.h(u, o, 1) < CASE WHEN o = 0 THEN 50 ELSE 85 END
""",  # noqa: S608 (table names from the peer's models)
        ),
        (
            "questions",
            f"""
INSERT INTO {t["question"]} (couple_id, theme, text, created_by_id, created_at, updated_at)
SELECT pg_temp.couple_uuid(c), 'daily', 'What made you smile on day ' || o || '?',
  2 * c - 1 + mod(o, 2), t.at, t.at
FROM generate_series(1, %(couples)s) AS c
CROSS JOIN generate_series(0, %(days)s) AS o
CROSS JOIN LATERAL (
  SELECT LEAST((%(today)s::date - o)::timestamp AT TIME ZONE 'UTC',
               %(now)s::timestamptz - interval '1 minute') AS at
) AS t
""",  # noqa: S608 (table names from the peer's models)
        ),
        (
            "answers",
            f"""
INSERT INTO {t["answer"]} (question_id, user_id, status, text, updated_at)
SELECT q.id, q.created_by_id + s * (CASE WHEN mod(q.created_by_id, 2) = 1 THEN 1 ELSE -1 END),
  'ANSWERED', substr(%(text)s, 1 + pg_temp.h(q.id, s, 11), 40 + 2 * pg_temp.h(q.id, s, 12)),
  LEAST(q.created_at + interval '1 hour' * (8 + mod(q.id, 10)),
        %(now)s::timestamptz - interval '2 minutes')
FROM {t["question"]} q CROSS JOIN (VALUES (0), (1)) AS side(s)
WHERE pg_temp.h(q.id, 0, 4) < 80 OR (s = 0 AND pg_temp.h(q.id, 0, 5) < 60)
""",  # noqa: S608 (table names from the peer's models)
        ),
    ]


def _seed(couples: int, days: int) -> dict[str, int]:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("flush", interactive=False, verbosity=0)
    now = timezone.now()
    params: dict[str, Any] = {
        "now": now,
        "today": timezone.localdate(now),
        "couples": couples,
        "days": days,
        "password": make_password(PASSWORD),
        "names": NAMES,
        "zones": ZONES,
        "text": TEXT,
    }
    tables = _tables()
    rows: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute(_FUNCTIONS)
        for name, sql in _statements(tables):
            started = time.perf_counter()
            cursor.execute(sql, params)
            rows[name] = cursor.rowcount
            seconds = time.perf_counter() - started
            log(f"  peer {name:<12} {cursor.rowcount:>11,} rows  {seconds:6.1f} s")
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{tables['user']}', 'id'), "  # noqa: S608
            f"(SELECT max(id) FROM {tables['user']}))"
        )
        started = time.perf_counter()
        for table in tables.values():
            cursor.execute(f"VACUUM ANALYZE {table}")
        log(f"  peer vacuum analyze                {time.perf_counter() - started:6.1f} s")
        cursor.execute(_MARKER_TABLE)
        cursor.execute(
            "INSERT INTO bench_peer_seed (id, info, seeded_at) VALUES (1, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET info = excluded.info, seeded_at = excluded.seeded_at",
            [json.dumps(_wanted(couples, days)), now],
        )
    return rows


def _wanted(couples: int, days: int) -> dict[str, Any]:
    return {"couples": couples, "days": days, "version": SEED_VERSION}


def _seeded(couples: int, days: int) -> bool:
    from django.apps import apps
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(_MARKER_TABLE)
        cursor.execute("SELECT info FROM bench_peer_seed WHERE id = 1")
        row = cursor.fetchone()
    if row is None:
        return False
    info = row[0] if isinstance(row[0], dict) else json.loads(row[0])
    count = apps.get_model("couples", "Couple").objects.count()
    return bool(info == _wanted(couples, days) and count == couples)


def cleanup() -> int:
    from django.apps import apps

    checkin = apps.get_model("checkins", "CheckIn")
    deleted, _ = checkin.objects.filter(note__startswith=MARKER).delete()
    return int(deleted)


def prepare(spec: dict[str, Any]) -> dict[str, Any]:
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    couples, days = int(spec["couples"]), int(spec["days"])
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    reused = not spec.get("reseed") and _seeded(couples, days)
    rows: dict[str, int] = {}
    if not reused:
        rows = _seed(couples, days)
    seconds = time.perf_counter() - started
    removed = cleanup()
    today = timezone.localdate()
    checkin = apps.get_model("checkins", "CheckIn")
    newest = {
        user_id: (checkin_id, day)
        for user_id, checkin_id, day in checkin.objects.filter(
            date__gte=today - timedelta(days=7), date__lte=today
        )
        .exclude(note__startswith=MARKER)
        .order_by("user_id", "-date")
        .distinct("user_id")
        .values_list("user_id", "id", "date")
    }
    people = []
    for user in get_user_model().objects.filter(email__endswith="@bench.invalid").order_by("id"):
        found = newest.get(user.pk)
        people.append(
            {
                "id": user.pk,
                "token": str(AccessToken.for_user(user)),
                "checkin_id": found[0] if found else None,
                "checkin_date": found[1].isoformat() if found else None,
            }
        )
    return {
        "reused": reused,
        "seconds": seconds,
        "rows": rows,
        "removed": removed,
        "today": today.isoformat(),
        "people": people,
    }


def main() -> None:
    import django
    from django.conf import settings

    command = sys.argv[1]
    spec = json.load(sys.stdin)
    django.setup()
    name = str(settings.DATABASES["default"]["NAME"])
    if (
        "bench" not in name
        or settings.DATABASES["default"]["ENGINE"].split(".")[-1] != "postgresql"
    ):
        sys.exit(
            f"refusing {name!r}: the peer's benchmark database is PostgreSQL, 'bench' in its name"
        )
    if command == "prepare":
        result = prepare(spec)
    elif command == "cleanup":
        result = {"removed": cleanup()}
    else:
        sys.exit(f"unknown command {command!r}")
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
