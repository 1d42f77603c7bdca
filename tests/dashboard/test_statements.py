"""The dashboard API's one prepared statement (nuzzle/dashboard/statements.py) says
exactly what the ORM path says (selectors.dashboard_get rendered by DASHBOARD_OUTPUT),
for both partners 21 hours apart and an unpaired person, at every third hour of a day,
with forty days of check-ins, responses, questions (sealed, revealed, reacted) and love
maps (stale, changed, unseen, current); and the API sends it in one statement."""

from __future__ import annotations

import contextlib
import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from rest_framework.utils.encoders import JSONEncoder

from checkins.apis import checkin_payload
from checkins.models import Visibility
from checkins.services import checkin_respond, checkin_submit
from lovemaps.services import lovemap_answer, lovemap_reveal
from nuzzle.couples.scoping import forget_couple_context
from nuzzle.dashboard import selectors, statements
from nuzzle.dashboard.apis import DASHBOARD_OUTPUT
from nuzzle.lib.errors import Conflict, NotFound
from prompts.models import Prompt
from prompts.services import daily_question_ensure, prompt_bank_load, question_answer
from tests.queries import assert_num_queries

pytestmark = pytest.mark.postgres

START = datetime(2026, 10, 20, 9, 30, tzinfo=UTC)


def rendered(dashboard, user) -> dict:
    return json.loads(json.dumps(DASHBOARD_OUTPUT.render(dashboard, user), cls=JSONEncoder))


def orm_path(user) -> dict:
    forget_couple_context(user)
    return rendered(selectors.dashboard_get(user=user), user)


def statement_path(user) -> dict:
    forget_couple_context(user)
    return rendered(statements.dashboard_read(user=user), user)


@pytest.fixture
def lived(cast):
    """Forty days of a couple's life, one step every 13 hours, seeded."""
    prompt_bank_load()
    rng = random.Random(11)
    topics = list(Prompt.objects.filter(kind=Prompt.Kind.LOVEMAP, status="published")[:8])
    people = (cast.author, cast.partner)
    for step in range(75):
        with time_machine.travel(START + timedelta(hours=13 * step), tick=False):
            for person in people:
                forget_couple_context(person)
                partner = cast.partner if person == cast.author else cast.author
                if rng.random() < 0.7:
                    checkin_submit(
                        user=person,
                        mood=rng.randint(1, 5),
                        energy=rng.choice([None, 2, 4]),
                        visibility=rng.choice([Visibility.SHARED] * 4 + [Visibility.PRIVATE]),
                    )
                question = daily_question_ensure(user=person)
                if question is not None and rng.random() < 0.6:
                    with contextlib.suppress(Conflict):  # revealed already: answers stay
                        question_answer(user=person, question_id=question.pk, text=f"q {step} “”")
                if rng.random() < 0.3:
                    lovemap_answer(user=person, topic_id=rng.choice(topics).pk, text=f"m {step}")
                if rng.random() < 0.3:
                    forget_couple_context(person)
                    for topic in rng.sample(topics, 2):
                        with contextlib.suppress(NotFound):  # nothing answered there yet
                            lovemap_reveal(user=person, topic_id=topic.pk, guess="a guess")
                forget_couple_context(person, partner)
                if rng.random() < 0.4:
                    shown = selectors.dashboard_get(user=person).checkins.today.partner
                    if shown is not None:
                        checkin_respond(user=person, checkin_id=shown.pk, reaction="hug")
    return cast


def test_the_statement_says_what_the_orm_path_says_at_every_third_hour(lived):
    last = START + timedelta(hours=13 * 75)
    for hour in range(0, 24, 3):
        at = last.replace(hour=hour) + timedelta(days=1)
        with time_machine.travel(at, tick=False):
            for user in (lived.author, lived.partner, lived.unpaired):
                expected = orm_path(user)
                assert statement_path(user) == expected, f"{user.display_name} at {at}"
    # The data behind those comparisons is not empty.
    with time_machine.travel(last, tick=False):
        shown = orm_path(lived.author)
        assert shown["recent"]
        assert shown["days_both_showed_up"]["all_time"] > 5
        assert any(day["partner"] for day in shown["moods"])


def test_the_api_reads_it_in_one_statement_after_authentication(lived, api):
    last = START + timedelta(hours=13 * 75)
    with time_machine.travel(last + timedelta(hours=2), tick=False):
        client = api(lived.partner)
        url = reverse("api-dashboard")
        client.get(url)  # prepared, and today's question assigned
        response = assert_num_queries(2, lambda: client.get(url))
        assert response.json() == orm_path(lived.partner)


def test_a_shown_check_in_the_statement_did_not_render_is_rendered_by_the_orm_path(
    lived, monkeypatch
):
    """With no check-in rendered by the statement, every shown one comes from the
    fallback, and the dashboard says the same."""
    bare = statements.Statement(
        name="nuzzle_dashboard_bare",
        types=statements.DASHBOARD.types,
        sql=statements._dashboard_sql(0),
    )
    monkeypatch.setattr(statements, "DASHBOARD", bare)
    last = START + timedelta(hours=13 * 75)
    with time_machine.travel(last, tick=False):
        for user in (lived.author, lived.partner):
            assert statement_path(user) == orm_path(user)


def page_summary(dashboard, user) -> dict:
    """What the page shows, comparable: the cards as the API would render the same
    models, and everything else as read."""
    overview = dashboard.checkins
    card = lambda c: checkin_payload(c, user) if c is not None else None  # noqa: E731
    return {
        "couple": dashboard.couple and (dashboard.couple.couple.pk, dashboard.couple.partner.pk),
        "today": (
            overview.today.date,
            overview.today.couple_date,
            card(overview.today.mine),
            overview.today.partner_date,
            card(overview.today.partner),
            overview.today.partner_ahead,
        ),
        "moods": overview.moods,
        "recent": [card(c) for c in overview.recent],
        "recent_days": [(g.date, [c.pk for c in g.checkins]) for g in overview.recent_days],
        "showed_up": overview.showed_up,
        "question": dashboard.question and replace(dashboard.question, prompt=None),
        "freshness": dashboard.freshness,
        "invite": dashboard.pending_invite,
        "authors": [c.author.display_name for c in overview.recent],
    }


def test_the_page_reads_through_the_statement_what_the_orm_path_reads(lived):
    last = START + timedelta(hours=13 * 75)
    for hour in (1, 13):
        with time_machine.travel(last.replace(hour=hour), tick=False):
            for user in (lived.author, lived.partner, lived.unpaired):
                forget_couple_context(user)
                expected = page_summary(selectors.dashboard_get(user=user), user)
                forget_couple_context(user)
                found = page_summary(statements.dashboard_read(user=user, page=True), user)
                assert found == expected, f"{user.display_name} at {hour}:00"


def test_the_couple_read_with_the_statement_defers_what_it_did_not_read(lived):
    """A field the statement did not read is fetched if asked for, never a default."""
    from nuzzle.couples.models import User

    User.objects.filter(pk=lived.partner.pk).update(allow_sensitive_questions=True)
    forget_couple_context(lived.author)
    dashboard = statements.dashboard_read(user=lived.author)
    assert dashboard.couple.partner.display_name == lived.partner.display_name
    assert dashboard.couple.partner.allow_sensitive_questions is True
    assert dashboard.couple.couple.ended_at is None
