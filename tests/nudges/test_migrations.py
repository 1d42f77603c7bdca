"""The migration that gave people who existed before nudges their preferences and
schedule rows does, with its own frozen copy of the rules, what the live rules do."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, time

import pytest
import time_machine

from nuzzle.nudges.kinds import CATALOGUE, Cadence
from nuzzle.nudges.models import NudgeSchedule
from nuzzle.nudges.schedule import Rules, next_recap_slot, next_slot
from tests import migrations

pytestmark = pytest.mark.django_db(transaction=True)

# A Wednesday; 19:00 has passed in Auckland (next: Thursday) but not in Los Angeles.
NOW = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)
FROZEN_KINDS = {
    kind
    for kind, _, _ in importlib.import_module("nuzzle.nudges.migrations.0002_existing_people").KINDS
}


@pytest.mark.parametrize("zone", ["Pacific/Auckland", "America/Los_Angeles"])
def test_existing_people_get_the_schedule_the_live_rules_would_give_them(zone):
    with migrations.just_before("nudges", "_existing_people") as old:
        User = old.get_model("couples", "User")
        person = User.objects.create(
            email=f"before-{zone.replace('/', '-').lower()}@example.com",
            display_name="Robin",
            timezone=zone,
        )
        with time_machine.travel(NOW, tick=False):
            migrations.migrate("nudges", "_existing_people", before=False)

    rules = Rules(timezone=zone, nudge_time=time(19, 0))
    expected = {}
    for spec in CATALOGUE:
        if spec.kind.value not in FROZEN_KINDS:
            continue  # a kind added later comes with its own migration
        due = None
        if spec.cadence in (Cadence.DAILY, Cadence.WEEKLY):
            due = next_slot(rules, NOW)
        elif spec.cadence is Cadence.RECAP:
            due = next_recap_slot(rules, NOW)
        expected[spec.kind.value] = (spec.default_on, due)
    rows = NudgeSchedule.objects.filter(user_id=person.pk)
    assert {row.kind: (row.enabled, row.next_due_at) for row in rows} == expected
