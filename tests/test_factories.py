"""Every factory's defaults make a row the models accept (tests/factories.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.db import models

from tests import factories as f

pytestmark = pytest.mark.django_db

MAKERS: dict[str, Callable[..., models.Model]] = {
    "checkin": f.new_checkin,
    "checkin answer": f.new_checkin_answer,
    "checkin response": f.new_checkin_response,
    "daily question": f.new_daily_question,
    "question answer": f.new_question_answer,
    "question reaction": f.new_question_reaction,
    "love-map entry": f.new_lovemap_entry,
    "love-map reveal": f.new_lovemap_reveal,
    "nudge": f.new_nudge,
    "invite": f.new_invite,
    "prompt": f.new_prompt,
    "couple": lambda: f.CoupleFactory.create(),
    "membership": lambda: f.MembershipFactory.create(),
}


@pytest.mark.parametrize("name", list(MAKERS))
def test_the_defaults_make_a_valid_saved_row(name):
    row = MAKERS[name]()
    assert row.pk is not None
    row.full_clean()


def test_two_of_each_with_the_defaults_do_not_collide():
    for make in MAKERS.values():
        make()
        make()


@pytest.mark.parametrize("paired", [True, False])
def test_a_checkins_couple_day_is_the_one_the_model_would_fill_in(paired):
    robin = f.new_user(timezone="Pacific/Auckland")
    sam = f.new_user(timezone="America/Los_Angeles")
    couple = f.couple_of(robin, sam) if paired else None
    day = date(2026, 5, 1)
    made = f.new_checkin(author=sam, couple=couple, local_date=day)
    filled = f.new_checkin(author=robin, couple=couple, local_date=day, couple_date=None)
    # Sam's Friday in Los Angeles is the Auckland couple's Saturday.
    assert (made.couple_date, filled.couple_date) == (
        (date(2026, 5, 2), day) if paired else (day, day)
    )


def test_a_weekly_nudge_is_keyed_by_its_week():
    nudge = f.new_nudge(kind="weekly_recap")
    assert "-W" in nudge.period
