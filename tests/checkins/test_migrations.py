"""The migration that lets a check-in response outlive its check-in copies the
check-in's date onto every existing response, and going back drops only the
responses that could not exist before it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from django.apps.registry import Apps

from checkins.models import CheckinResponse
from tests import migrations
from tests.factories import couple_of, new_user

pytestmark = pytest.mark.django_db(transaction=True)

APP, MIGRATION = "checkins", "_response_outlives_checkin"


def migrate(*, before: bool, migration: str = MIGRATION) -> Apps:
    return migrations.migrate(APP, migration, before=before)


@pytest.fixture
def old_models() -> Iterator[Apps]:
    with migrations.just_before(APP, MIGRATION) as models:
        yield models


def test_existing_responses_get_their_check_ins_dates_and_the_way_back_works(old_models):
    robin, sam = new_user(), new_user()
    couple = couple_of(robin, sam)
    Checkin = old_models.get_model("checkins", "Checkin")
    Response = old_models.get_model("checkins", "CheckinResponse")
    days = [date(2026, 3, 1), date(2026, 3, 2)]
    for day in days:
        checkin = Checkin.objects.create(
            author_id=sam.pk,
            couple_id=couple.pk,
            local_date=day,
            couple_date=day,
            mood=4,
            visibility="shared",
        )
        Response.objects.create(checkin=checkin, author_id=robin.pk, reaction="hug", text="")

    migrate(before=False)
    stored = CheckinResponse.objects.select_related("checkin").order_by("checkin_date")
    assert [(r.checkin_date, r.checkin.local_date) for r in stored] == [(d, d) for d in days]

    # Detached (its check-in's author deleted their account): it cannot go back.
    CheckinResponse.objects.filter(checkin_date=days[0]).update(checkin=None)
    migrate(before=True)
    assert list(Response.objects.values_list("checkin__local_date", flat=True)) == [days[1]]


@pytest.fixture
def before_couple_days() -> Iterator[Apps]:
    with migrations.just_before(APP, "_checkin_couple_date") as models:
        yield models


def test_existing_check_ins_get_the_couple_day_their_local_day_belongs_to(before_couple_days):
    robin = new_user(timezone="Pacific/Auckland")
    sam = new_user(timezone="America/Los_Angeles")
    alone = new_user(timezone="America/Los_Angeles")
    couple = couple_of(robin, sam)  # Robin's zone is the couple's
    Checkin = before_couple_days.get_model("checkins", "Checkin")
    sunday = date(2026, 12, 6)
    for author, couple_id in ((robin, couple.pk), (sam, couple.pk), (alone, None)):
        Checkin.objects.create(author_id=author.pk, couple_id=couple_id, local_date=sunday, mood=3)

    migrate(before=False)
    from checkins.models import Checkin as Current

    stored = {c.author_id: c.couple_date for c in Current.objects.all()}
    # Sam's Sunday in Los Angeles belongs to Monday in Auckland; unpaired: the date.
    assert stored == {robin.pk: sunday, sam.pk: date(2026, 12, 7), alone.pk: sunday}
