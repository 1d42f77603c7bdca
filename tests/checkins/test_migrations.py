"""The migration that lets a check-in response outlive its check-in copies the
check-in's date onto every existing response, and going back drops only the
responses that could not exist before it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from checkins.models import CheckinResponse
from tests.factories import couple_of, new_user

pytestmark = pytest.mark.django_db(transaction=True)

APP, MIGRATION = "checkins", "_response_outlives_checkin"


def migrate(*, before: bool) -> Apps:
    """Migrate to just before this migration (`before`) or to the latest state, and
    return the models as they are there. Found by its name's end: numbers change."""
    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    ours = next(key for key in graph.nodes if key[0] == APP and key[1].endswith(MIGRATION))
    if before:
        targets = [node.key for node in graph.node_map[ours].parents if node.key[0] == APP]
    else:
        targets = graph.leaf_nodes()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.fixture
def old_models() -> Iterator[Apps]:
    try:
        yield migrate(before=True)
    finally:
        migrate(before=False)  # whatever happened: the next tests need the latest schema


def test_existing_responses_get_their_check_ins_dates_and_the_way_back_works(old_models):
    robin, sam = new_user(), new_user()
    couple = couple_of(robin, sam)
    Checkin = old_models.get_model("checkins", "Checkin")
    Response = old_models.get_model("checkins", "CheckinResponse")
    days = [date(2026, 3, 1), date(2026, 3, 2)]
    for day in days:
        checkin = Checkin.objects.create(
            author_id=sam.pk, couple_id=couple.pk, local_date=day, mood=4, visibility="shared"
        )
        Response.objects.create(checkin=checkin, author_id=robin.pk, reaction="hug", text="")

    migrate(before=False)
    stored = CheckinResponse.objects.select_related("checkin").order_by("checkin_date")
    assert [(r.checkin_date, r.checkin.local_date) for r in stored] == [(d, d) for d in days]

    # Detached (its check-in's author deleted their account): it cannot go back.
    CheckinResponse.objects.filter(checkin_date=days[0]).update(checkin=None)
    migrate(before=True)
    assert list(Response.objects.values_list("checkin__local_date", flat=True)) == [days[1]]
