"""Two beats at once, for real: threads with their own PostgreSQL connections."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

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
