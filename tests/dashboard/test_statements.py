"""The dashboard API's one prepared statement (nuzzle/dashboard/statements.py) says
exactly what the ORM path says (selectors.dashboard_get rendered by DASHBOARD_OUTPUT),
for both partners 21 hours apart and an unpaired person, at every third hour of a day,
with forty days of check-ins, responses, questions (sealed, revealed, reacted) and love
maps (stale, changed, unseen, current); and the API sends it in one statement."""

from __future__ import annotations

import contextlib
import json
import random
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from rest_framework.utils.encoders import JSONEncoder

from checkins.models import Visibility
from checkins.services import AnswerInput, checkin_respond, checkin_submit
from lovemaps.services import lovemap_answer, lovemap_reveal
from nuzzle.couples.scoping import forget_couple_context
from nuzzle.couples.selectors import couple_day_today
from nuzzle.couples.services import couple_end
from nuzzle.dashboard import selectors, statements
from nuzzle.dashboard.apis import DASHBOARD_OUTPUT
from nuzzle.lib.errors import Conflict, NotFound
from nuzzle.lib.prepared import Statement
from prompts.models import Prompt
from prompts.selectors import checkin_question_ids_for
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
                    asked = checkin_question_ids_for(day=couple_day_today(user=person))
                    checkin_submit(
                        user=person,
                        mood=rng.randint(1, 5),
                        energy=rng.choice([None, 2, 4]),
                        answers=[
                            AnswerInput(question_id=asked[0], text=f"a {step}\nsecond line <b>")
                        ]
                        if rng.random() < 0.5
                        else None,
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
                        checkin_respond(
                            user=person,
                            checkin_id=shown.pk,
                            **rng.choice(
                                [
                                    {"reaction": "hug"},
                                    {"text": "thinking of you & <3"},
                                    {"reaction": "hug", "text": "me too"},
                                ]
                            ),
                        )
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


_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def page_html(user, monkeypatch, *, statement: bool) -> str:
    """The whole dashboard page as `user` sees it, read by the statement (its cards
    from the payloads) or by the ORM path (its cards from models); the CSRF tokens,
    masked anew on every render, taken out."""
    forget_couple_context(user)
    with monkeypatch.context() as patch:
        if not statement:
            patch.setattr(Statement, "available", staticmethod(lambda using="default": False))
        client = Client()
        client.force_login(user)
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return _TOKEN.sub("", response.content.decode())


def test_the_page_shows_through_the_statement_what_the_orm_path_shows(lived, monkeypatch):
    """The page, byte for byte, for both partners and an unpaired person at two hours
    of a day; and for one of them once the couple has ended (their check-ins of the
    earlier couple, without the ex-partner's replies)."""
    last = START + timedelta(hours=13 * 75)
    seen = []
    for hour in (1, 13):
        with time_machine.travel(last.replace(hour=hour), tick=False):
            for user in (lived.author, lived.partner, lived.unpaired):
                page = page_html(user, monkeypatch, statement=True)
                assert page == page_html(user, monkeypatch, statement=False), (
                    f"{user.display_name} at {hour}:00"
                )
                seen.append(page)
    # Cards with answers, replies and reactions were compared, not only empty states.
    assert any('data-testid="response"' in page and 'class="answers"' in page for page in seen)
    with time_machine.travel(last + timedelta(hours=30), tick=False):
        couple_end(user=lived.author)
        page = page_html(lived.author, monkeypatch, statement=True)
        assert page == page_html(lived.author, monkeypatch, statement=False)
        assert 'data-testid="recent"' in page


def test_the_couple_read_with_the_statement_defers_what_it_did_not_read(lived):
    """A field the statement did not read is fetched if asked for, never a default."""
    from nuzzle.couples.models import User

    User.objects.filter(pk=lived.partner.pk).update(allow_sensitive_questions=True)
    forget_couple_context(lived.author)
    dashboard = statements.dashboard_read(user=lived.author)
    assert dashboard.couple.partner.display_name == lived.partner.display_name
    assert dashboard.couple.partner.allow_sensitive_questions is True
    assert dashboard.couple.couple.ended_at is None
