"""Two beats at once, for real: threads with their own PostgreSQL connections."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.db import transaction

from nuzzle.nudges import planning
from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.models import Nudge
from nuzzle.nudges.planning import nudges_tick
from nuzzle.nudges.services import preferences_update
from tests.couples.test_concurrency import race
from tests.factories import new_user
from tests.nudges.helpers import everyone, only_checks

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("attempt", range(2))
def test_two_ticks_at_the_same_instant_plan_each_person_once_within_the_cap(attempt):
    now = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
    people = []
    for _ in range(60):
        person = new_user(timezone="UTC")
        preferences_update(
            user=person,
            kinds={Kind.QUESTION_READY.value: True, Kind.CHECKIN_REMINDER.value: True},
            now=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
        )
        people.append(person)
    with only_checks(question_ready=everyone, checkin_reminder=everyone):
        outcomes = race([lambda: nudges_tick(now=now, batch_size=7) for _ in range(3)])
    assert outcomes == ["ok"] * 3
    # Both kinds were due for everyone; the cap of one held under the race.
    assert Nudge.objects.filter(kind=Kind.QUESTION_READY).count() == len(people)
    assert not Nudge.objects.filter(kind=Kind.CHECKIN_REMINDER).exists()


def _people(count: int) -> list:
    people = []
    for _ in range(count):
        person = new_user(timezone="UTC")
        preferences_update(
            user=person,
            kinds={Kind.QUESTION_READY.value: True},
            now=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
        )
        people.append(person)
    return people


def test_lanes_split_the_due_people_between_threads_and_plan_each_once(monkeypatch):
    # Lanes take blocks of consecutive user ids; blocks of one here, so that 41 people
    # with consecutive ids reach all three lanes.
    monkeypatch.setattr(planning, "LANE_BLOCK", 1)
    now = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
    people = _people(41)
    threads: set[str] = set()

    def everyone_here(recipients, at):
        threads.add(threading.current_thread().name)
        return everyone(recipients, at)

    with only_checks(question_ready=everyone_here):
        result = nudges_tick(now=now, batch_size=4, lanes=3)

    assert (result.people, result.planned) == (41, 41)
    assert result.batches >= 41 // 4  # each lane in batches of at most 4
    assert len(threads) == 3
    assert all(name.startswith("nudge-tick") for name in threads)
    planned = Nudge.objects.filter(kind=Kind.QUESTION_READY)
    assert sorted(planned.values_list("user_id", flat=True)) == sorted(p.pk for p in people)


def test_inside_a_transaction_the_tick_runs_one_lane_in_the_callers_thread():
    now = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
    _people(5)
    threads: set[str] = set()

    def everyone_here(recipients, at):
        threads.add(threading.current_thread().name)
        return everyone(recipients, at)

    # Lane threads would not see the caller's uncommitted rows: one lane, here.
    with only_checks(question_ready=everyone_here), transaction.atomic():
        result = nudges_tick(now=now, lanes=3)

    assert (result.people, result.planned) == (5, 5)
    assert threads == {threading.current_thread().name}


def test_lanes_take_blocks_of_consecutive_user_ids():
    now = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
    people = _people(6)
    lanes_of: dict[int, str] = {}

    def everyone_here(recipients, at):
        lanes_of.update({r.user_id: threading.current_thread().name for r in recipients})
        return everyone(recipients, at)

    with only_checks(question_ready=everyone_here):
        result = nudges_tick(now=now, batch_size=4, lanes=2)

    assert (result.people, result.planned) == (6, 6)
    for person in people:  # the same block, the same lane
        same_block = [
            p.pk for p in people if p.pk // planning.LANE_BLOCK == person.pk // planning.LANE_BLOCK
        ]
        assert {lanes_of[pk] for pk in same_block} == {lanes_of[person.pk]}
