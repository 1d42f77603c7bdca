"""The love-map hot path's one prepared statement (lovemaps/statements.py) says exactly
what the ORM path (selectors.maps.partner_map rendered by apis.PARTNER_TOPIC_OUTPUT)
says, for every status, guess and rating, both viewers, and an unpaired one; and the
API sends it."""

from __future__ import annotations

import contextlib
import json
import random

import pytest
from django.urls import reverse

from lovemaps import services, statements
from lovemaps.apis import PARTNER_TOPIC_OUTPUT
from lovemaps.models import GuessRating
from lovemaps.selectors.maps import partner_map
from nuzzle.couples.scoping import forget_couple_context
from nuzzle.lib.errors import NotFound
from tests.queries import assert_num_queries

pytestmark = pytest.mark.postgres


def orm_path(user) -> list[dict]:
    forget_couple_context(user)
    return json.loads(json.dumps(PARTNER_TOPIC_OUTPUT.render_all(partner_map(user=user), None)))


def statement_path(user) -> list[dict]:
    return json.loads(statements.partner_map_json(user=user))


def test_the_statement_says_what_the_orm_path_says_at_every_stage(cast, topics):
    rng = random.Random(17)
    people = (cast.author, cast.partner)
    for step in range(60):
        person = rng.choice(people)
        other = cast.partner if person == cast.author else cast.author
        topic = rng.choice(topics[:12])
        action = rng.random()
        forget_couple_context(person)
        if action < 0.5:
            services.lovemap_answer(user=person, topic_id=topic.pk, text=f'answer {step} “ü” \\ "')
        elif action < 0.85:
            with contextlib.suppress(NotFound):  # nothing to reveal on that topic yet
                services.lovemap_reveal(
                    user=person, topic_id=topic.pk, guess=rng.choice(["", f"guess {step}"])
                )
        else:
            for view in partner_map(user=other):
                if view.guess_id is not None and not view.rating:
                    services.lovemap_guess_rate(
                        user=person, guess_id=view.guess_id, rating=rng.choice(GuessRating.values)
                    )
                    break
        for user in (*people, cast.unpaired, cast.other):
            assert statement_path(user) == orm_path(user), f"step {step}"
    shown = statement_path(cast.author) + statement_path(cast.partner)
    assert {row["status"] for row in shown} == {"unseen", "changed", "current"}
    assert any(row["guess"] and row["guess"]["rating"] for row in shown)


def test_the_api_sends_the_statement_s_json_in_one_query_after_authentication(cast, topics, api):
    services.lovemap_answer(user=cast.partner, topic_id=topics[0].pk, text="mine")
    client = api(cast.author)
    url = reverse("api-lovemap-partner")
    client.get(url)  # prepared on this connection
    response = assert_num_queries(2, lambda: client.get(url))  # the token, the statement
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == orm_path(cast.author)
