"""The check-in list's one prepared statement (checkins/statements.py) says exactly
what the ORM path (selectors.checkin_list rendered by apis.checkin_payload) says: for
both partners, an ex-partner and another couple, every filter and page; and the API
sends it in the paginated envelope with the ORM path's links and errors."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from checkins import selectors, services, statements
from checkins.apis import checkin_payload
from checkins.models import Checkin, Visibility
from nuzzle.couples.scoping import couple_context, forget_couple_context
from nuzzle.couples.services import couple_end
from nuzzle.lib.errors import Conflict
from prompts.selectors import checkin_question_ids_for, checkin_question_ids_of
from prompts.services import prompt_bank_load
from tests.factories import (
    couple_of,
    new_checkin,
    new_checkin_answer,
    new_checkin_response,
    new_prompt,
    new_user,
)
from tests.queries import assert_num_queries

pytestmark = pytest.mark.postgres

FIRST = date(2026, 9, 1)


def orm_page(user, date_from, date_to, size, offset) -> tuple[int, list[dict]]:
    forget_couple_context(user)
    found = selectors.checkin_list(user=user, date_from=date_from, date_to=date_to)
    rows = [checkin_payload(c, user) for c in found[offset : offset + size]]
    return found.count(), json.loads(json.dumps(rows))


def statement_page(user, date_from, date_to, size, offset) -> tuple[int, list[dict]]:
    page = statements.checkin_page_json(
        user=user, date_from=date_from, date_to=date_to, size=size, offset=offset
    )
    return page.count, json.loads(page.results)


@pytest.fixture
def history(cast):
    """Ninety days of both partners' check-ins (some private, some with answers and
    responses, some written at the same instant), an earlier couple's, and another
    couple's."""
    rng = random.Random(7)
    prompts = [new_prompt(kind="checkin", text=f'Question {i} “ü” \\ "') for i in range(4)]
    ex = new_user(display_name="Ex", timezone="Europe/London")
    couple_end(user=cast.author)  # the fixture's couple: the author had an ex before
    forget_couple_context(cast.author, cast.partner)
    earlier = couple_of(cast.author, ex)
    new_checkin(author=cast.author, couple=earlier, local_date=FIRST - timedelta(days=120))
    new_checkin(author=ex, couple=earlier, local_date=FIRST - timedelta(days=120))
    couple_end(user=cast.author)
    forget_couple_context(cast.author, ex)
    cast.couple = couple_of(cast.author, cast.partner)
    at = timezone.now()
    for offset in range(90):
        day = FIRST + timedelta(days=offset)
        for person in (cast.author, cast.partner, cast.other):
            if rng.random() < 0.3:
                continue
            checkin = new_checkin(
                author=person,
                couple=cast.other_couple if person == cast.other else cast.couple,
                local_date=day,
                mood=rng.randint(1, 5),
                energy=rng.choice([None, 1, 3, 5]),
                visibility=rng.choice([Visibility.SHARED] * 3 + [Visibility.PRIVATE]),
            )
            if rng.random() < 0.2:  # the same instant: the order falls back on the id
                type(checkin).objects.filter(pk=checkin.pk).update(created_at=at)
            for position, prompt in enumerate(rng.sample(prompts, rng.randint(0, 3))):
                new_checkin_answer(
                    checkin=checkin, prompt=prompt, text=f"words {offset}", position=position
                )
            if person != cast.other and checkin.visibility == Visibility.SHARED:
                other = cast.partner if person == cast.author else cast.author
                if rng.random() < 0.5:
                    new_checkin_response(
                        checkin=checkin,
                        author=other,
                        reaction=rng.choice(["", "heart", "hug"]) or "heart",
                        text=rng.choice(["", "a reply\nwith a line"]),
                    )
    return cast


@pytest.mark.parametrize(
    ("date_from", "date_to", "size", "offset"),
    [
        (None, None, 30, 0),
        (None, None, 30, 30),
        (None, None, 7, 63),
        (None, None, 100, 0),
        (FIRST + timedelta(days=10), None, 5, 5),
        (None, FIRST + timedelta(days=40), 30, 0),
        (FIRST + timedelta(days=20), FIRST + timedelta(days=20), 30, 0),
        (FIRST + timedelta(days=50), FIRST + timedelta(days=10), 30, 0),
        (None, None, 30, 600),
    ],
)
def test_the_statement_says_what_the_orm_path_says(history, date_from, date_to, size, offset):
    for user in (history.author, history.partner, history.other, history.unpaired):
        expected = orm_page(user, date_from, date_to, size, offset)
        assert statement_page(user, date_from, date_to, size, offset) == expected
    assert orm_page(history.author, None, None, 100, 0)[0] > 60


def test_the_api_pages_the_statement_s_json_with_the_orm_path_s_links_and_errors(history, api):
    client = api(history.author)
    url = reverse("api-checkin-list")
    client.get(url)  # prepared on this connection
    response = assert_num_queries(2, lambda: client.get(url, {"page": 2, "page_size": 3}))
    body = response.json()
    assert response["Content-Type"] == "application/json"
    assert body["next"] == "http://testserver/api/v1/checkins?page=3&page_size=3"
    assert body["previous"] == "http://testserver/api/v1/checkins?page_size=3"
    assert (body["count"], body["results"]) == orm_page(history.author, None, None, 3, 3)
    last = -(-body["count"] // 3)
    assert client.get(url, {"page": last, "page_size": 3}).json()["next"] is None
    past = client.get(url, {"page": last + 1, "page_size": 3})
    assert past.status_code == 404
    assert past.json() == {"detail": "Invalid page."}
    empty = api(history.unpaired).get(url)
    assert empty.json() == {"count": 0, "next": None, "previous": None, "results": []}


# --- Check-in PUT ------------------------------------------------------------------------


def orm_read_back(user) -> dict:
    """Today's check-in of `user` as the ORM path reads it back after a PUT."""
    forget_couple_context(user)
    today = selectors.checkin_today(user=user).mine
    assert today is not None
    checkin = selectors.checkin_details(user=user, checkin=today)
    return json.loads(json.dumps(checkin_payload(checkin, user)))


def selectors_today_questions(user) -> list[int]:
    forget_couple_context(user)
    return checkin_question_ids_for(day=selectors.checkin_today(user=user).couple_date)


def test_the_write_statement_stores_and_answers_what_the_orm_path_would(cast, same_couple_day):
    prompts = [new_prompt(kind="checkin", text=f"Q{i} “ü”") for i in range(5)]
    allowed = selectors_today_questions(cast.author)
    assert allowed, "no check-in questions today: the answers would test nothing"
    rng = random.Random(3)
    seen_created = []
    for step in range(12):
        if step == 3:  # the partner responds: later read-backs carry it
            forget_couple_context(cast.partner)
            checkin = Checkin.objects.get(author=cast.author)
            checkin.visibility = Visibility.SHARED
            checkin.save(update_fields=["visibility"])
            services.checkin_respond(
                user=cast.partner, checkin_id=checkin.pk, reaction="hug", text="there"
            )
        forget_couple_context(cast.author)
        chosen = rng.sample(allowed, rng.randint(0, len(allowed)))
        answers = [services.AnswerInput(question_id=q, text=f"a{step} {q}") for q in chosen]
        written = services.checkin_submit_rendered(
            user=cast.author,
            mood=rng.randint(1, 5),
            energy=rng.choice([None, 1, 5]),
            answers=answers,
            visibility=rng.choice([Visibility.SHARED, Visibility.PRIVATE]),
        )
        seen_created.append(written.created)
        assert json.loads(written.payload) == orm_read_back(cast.author), f"step {step}"
        stored = Checkin.objects.get(author=cast.author)
        assert [a.prompt_id for a in stored.answers.all()] == chosen
    assert seen_created == [True] + [False] * 11
    assert json.loads(written.payload)["responses"], "the response was never read back"
    del prompts


def test_the_write_statement_refuses_a_past_day_as_the_orm_path_does(cast, same_couple_day):
    forget_couple_context(cast.author)
    today = selectors.checkin_today(user=cast.author).date
    new_checkin(author=cast.author, couple=cast.couple, local_date=today + timedelta(days=1))
    with pytest.raises(Conflict) as statement_refusal:
        services.checkin_submit_rendered(user=cast.author, mood=3)
    with pytest.raises(Conflict) as orm_refusal:
        services.checkin_submit(user=cast.author, mood=3)
    assert str(statement_refusal.value) == str(orm_refusal.value)
    assert not Checkin.objects.filter(author=cast.author, local_date=today).exists()


def test_a_check_in_written_unpaired_joins_the_couple_formed_later_that_day(cast):
    forget_couple_context(cast.unpaired)
    first = services.checkin_submit_rendered(user=cast.unpaired, mood=2)
    assert json.loads(first.payload)["couple_date"] == json.loads(first.payload)["date"]
    friend = new_user(timezone=cast.unpaired.timezone)
    couple = couple_of(cast.unpaired, friend)
    forget_couple_context(cast.unpaired)
    again = services.checkin_submit_rendered(user=cast.unpaired, mood=4)
    assert not again.created
    assert Checkin.objects.get(author=cast.unpaired).couple_id == couple.pk
    assert json.loads(again.payload) == orm_read_back(cast.unpaired)


def test_the_api_writes_and_answers_in_one_statement_after_the_reads_it_needs(
    cast, api, same_couple_day
):
    client = api(cast.author)
    url = reverse("api-checkin-today")
    first = client.put(url, {"mood": 4}, format="json")
    assert first.status_code == 201
    # The token, my couple with the questions' pool, then the write with its read-back.
    again = assert_num_queries(3, lambda: client.put(url, {"mood": 5}, format="json"))
    assert again.status_code == 200
    assert again.json() == orm_read_back(cast.author)
    refused = client.put(url, {"mood": 9}, format="json")
    assert refused.status_code == 400


def test_a_page_far_past_the_end_is_a_404_not_an_overflow(cast, api):
    response = api(cast.author).get(reverse("api-checkin-list"), {"page": 10**15})
    assert response.status_code == 404


def test_the_put_reads_my_couple_and_the_pool_as_their_own_reads_do(cast):
    """`statements.checkin_context`: the couple context `couple_context` reads (whole
    models) and the pool `checkin_question_ids_for` rotates, for a paired and an
    unpaired person, in one statement."""
    prompt_bank_load()
    day = date(2026, 12, 7)
    for user in (cast.author, cast.partner, cast.unpaired):
        forget_couple_context(user)
        expected = couple_context(user)
        forget_couple_context(user)
        context, pool = assert_num_queries(
            1, lambda user=user: statements.checkin_context(user=user)
        )
        assert len(pool) > 3
        assert checkin_question_ids_of(pool, day) == checkin_question_ids_for(day=day)
        if expected is None:
            assert context is None
        else:
            assert context.couple.__dict__.keys() >= {"id", "timezone", "created_at"}
            assert (context.couple.pk, context.partner.pk) == (
                expected.couple.pk,
                expected.partner.pk,
            )
            assert context.partner.display_name == expected.partner.display_name
            assert context.couple.timezone == expected.couple.timezone
        assert couple_context(user) is context  # remembered: no query more
