"""`manage.py nudges_backlog` and the `backlog` selector behind it."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from nuzzle.nudges.management.commands.nudges_backlog import age
from nuzzle.nudges.models import Nudge, NudgeSchedule
from nuzzle.nudges.selectors import backlog
from tests.factories import new_nudge, new_user
from tests.queries import assert_num_queries, capture_queries

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 3, 4, 12, 0, tzinfo=UTC)
S = Nudge.Status


def run(*args: str) -> str:
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("nudges_backlog", *args, stdout=out)
    return out.getvalue()


def outbox(user, status: str, *, ago: timedelta = timedelta(0), **fields) -> Nudge:
    """An outbox row scheduled `ago` before NOW (each with its own period)."""
    scheduled = NOW - ago
    return new_nudge(
        user=user,
        kind="question_ready",
        period=f"p{Nudge.objects.count()}",
        local_date=scheduled.date(),
        scheduled_for=scheduled,
        status=status,
        **fields,
    )


@pytest.fixture
def pipeline():
    """Two people; a few schedule rows due; an outbox row in every state."""
    with time_machine.travel(NOW - timedelta(days=2), tick=False):
        robin, sam = new_user(), new_user()
    rows = NudgeSchedule.objects.filter(user__in=[robin, sam])
    rows.update(next_due_at=NOW + timedelta(hours=1))
    rows.filter(user=robin, kind="question_ready").update(next_due_at=NOW - timedelta(minutes=7))
    rows.filter(user=sam, kind="question_ready").update(next_due_at=NOW)  # due at once
    rows.filter(user=sam, kind="weekly_recap").update(
        enabled=False,
        next_due_at=NOW - timedelta(hours=3),  # off: not the tick's work
    )
    rows.filter(user=robin, kind="partner_answered").update(next_due_at=None)  # no event

    outbox(robin, S.PENDING, next_attempt_at=NOW - timedelta(minutes=3, seconds=12))
    outbox(sam, S.PENDING, next_attempt_at=NOW - timedelta(seconds=5))
    outbox(sam, S.PENDING, attempts=1, next_attempt_at=NOW + timedelta(minutes=4))
    outbox(robin, S.CLAIMED, lease_until=NOW + timedelta(minutes=2), next_attempt_at=NOW)
    outbox(sam, S.SENDING, lease_until=NOW - timedelta(minutes=1), next_attempt_at=NOW)
    outbox(robin, S.SENT, ago=timedelta(hours=2), sent_at=NOW - timedelta(hours=2))
    outbox(sam, S.SENT, ago=timedelta(hours=23), sent_at=NOW - timedelta(hours=23))
    outbox(robin, S.SENT, ago=timedelta(hours=25), sent_at=NOW - timedelta(hours=25))  # older
    outbox(robin, S.FAILED, ago=timedelta(hours=3), attempts=5)
    outbox(sam, S.SUPPRESSED, ago=timedelta(hours=1))
    outbox(sam, S.SKIPPED, ago=timedelta(minutes=30), reason="not sent: 45 minutes late")
    return robin, sam


def test_it_counts_every_stage_of_the_pipeline(pipeline):
    result = backlog(now=NOW)
    assert result.schedules_due == 2
    assert result.oldest_schedule_age == timedelta(minutes=7)
    assert (result.pending_due, result.pending_later, result.retrying) == (2, 1, 1)
    assert (result.claimed, result.sending, result.leases_expired) == (1, 1, 1)
    assert result.recent == {"sent": 2, "skipped": 1, "suppressed": 1, "failed": 1}
    assert result.oldest_pending_age == timedelta(minutes=3, seconds=12)


def test_the_command_prints_the_backlog_for_operators(pipeline):
    text = run()
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert lines[0] == "Nudge backlog at 2030-03-04 12:00:00 UTC"
    for expected in (
        "schedule rows due now 2 (oldest due 7m 00s)",
        "pending, due now 2",
        "pending, later 1",
        "retrying (pending) 1",
        "claimed 1",
        "sending 1",
        "leases expired 1",
        "sent 2",
        "skipped 1",
        "suppressed 1",
        "failed 1",
        "oldest pending: 3m 12s",
    ):
        assert expected in lines, expected


def test_the_command_speaks_json_for_machines(pipeline):
    assert json.loads(run("--json")) == {
        "now": "2030-03-04T12:00:00+00:00",
        "schedules_due": 2,
        "oldest_schedule_due_seconds": 420,
        "outbox": {
            "pending_due": 2,
            "pending_later": 1,
            "retrying": 1,
            "claimed": 1,
            "sending": 1,
            "leases_expired": 1,
        },
        "oldest_pending_seconds": 192,
        "last_24h": {"sent": 2, "skipped": 1, "suppressed": 1, "failed": 1},
    }


def test_an_empty_pipeline_says_none():
    assert "oldest pending: none" in run()
    data = json.loads(run("--json"))
    assert data["oldest_pending_seconds"] is None
    assert data["oldest_schedule_due_seconds"] is None
    assert data["schedules_due"] == 0
    assert set(data["outbox"].values()) == {0}
    assert set(data["last_24h"].values()) == {0}


def test_no_person_and_no_content_is_printed(pipeline):
    robin, sam = pipeline
    text = run() + run("--json")
    for person in (robin, sam):
        assert person.email not in text
    assert "minutes late" not in text  # reasons stay in the admin


def test_it_runs_four_queries_however_long_the_outbox(pipeline):
    robin, _ = pipeline

    assert_num_queries(4, lambda: backlog(now=NOW))
    for hours in range(30):
        outbox(robin, S.SENT, ago=timedelta(hours=hours, minutes=1))
    assert_num_queries(4, lambda: backlog(now=NOW))


@pytest.mark.postgres
def test_the_in_flight_counts_read_the_partial_indexes(pipeline):
    """The first three queries filter on exactly the partial indexes' conditions, so
    PostgreSQL can answer them from those indexes (checked with sequential scans off,
    as the tiny test tables would otherwise make a scan cheaper)."""
    captured = capture_queries(lambda: backlog(now=NOW))
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in captured.sql[:3]:
            cursor.execute(f"EXPLAIN {sql}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    assert "nudge_schedule_due" in plans[0], plans[0]
    assert "nudge_pending_due" in plans[1], plans[1]
    assert "nudge_leased" in plans[2], plans[2]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "none"),
        (timedelta(0), "0s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(minutes=3, seconds=12), "3m 12s"),
        (timedelta(hours=2, minutes=5, seconds=59), "2h 05m"),
        (timedelta(days=3, hours=4, minutes=1), "3d 4h"),
    ],
)
def test_ages_read_at_a_glance(value, text):
    assert age(value) == text
