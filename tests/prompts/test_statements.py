"""The answer POST's prepared statements (prompts/statements.py, through
services.question_answer_seen) store and say what the ORM path (question_answer, then
question_view_by_id) does, at every stage of a question for both partners, refuse what
it refuses with the same words, queue the partner's nudge the same way, and reveal
exactly once when both answer at the same moment."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from rest_framework.utils.encoders import JSONEncoder

from nuzzle.couples.scoping import forget_couple_context
from nuzzle.lib.errors import Conflict, NotFound
from nuzzle.nudges.models import NudgeSchedule
from prompts.apis import question_payload
from prompts.models import DailyQuestion, QuestionAnswer
from prompts.selectors import question_view_by_id
from prompts.services import daily_question_ensure, question_answer, question_answer_seen
from tests import days
from tests.concurrency import race
from tests.factories import PromptFactory
from tests.queries import assert_num_queries

pytestmark = pytest.mark.postgres


def fresh(user):
    forget_couple_context(user)
    return user


def payload(view) -> dict:
    return json.loads(json.dumps(question_payload(view), cls=JSONEncoder))


def orm_view(user, question_id) -> dict:
    return payload(question_view_by_id(user=fresh(user), question_id=question_id))


@pytest.fixture
def question(cast, same_couple_day):
    PromptFactory.create_batch(3)
    return daily_question_ensure(user=cast.author)


def test_every_stage_stores_and_says_what_the_orm_path_says(cast, question):
    steps = [
        (cast.author, "first “ü”", True),
        (cast.author, "edited", False),
        (cast.partner, "second, which reveals", True),
    ]
    for user, text, new in steps:
        view, created = question_answer_seen(user=fresh(user), question_id=question.pk, text=text)
        assert created is new
        assert payload(view) == orm_view(user, question.pk)
        other = cast.partner if user == cast.author else cast.author
        assert orm_view(other, question.pk)  # the partner's side reads as before
    question.refresh_from_db()
    assert question.revealed_at is not None
    assert QuestionAnswer.objects.get(question=question, author=cast.author).text == "edited"
    assert payload(view)["partner_answer"] == "edited"


def test_it_refuses_what_the_orm_path_refuses_with_the_same_words(cast, question):
    for user, question_id in [(cast.other, question.pk), (cast.unpaired, question.pk)]:
        with pytest.raises(NotFound) as statement_says:
            question_answer_seen(user=fresh(user), question_id=question_id, text="x")
        with pytest.raises(NotFound) as orm_says:
            question_answer(user=fresh(user), question_id=question_id, text="x")
        assert str(statement_says.value) == str(orm_says.value)
    DailyQuestion.objects.filter(pk=question.pk).update(
        closes_at=question.closes_at - timedelta(days=9)
    )
    with pytest.raises(Conflict) as statement_says:
        question_answer_seen(user=fresh(cast.author), question_id=question.pk, text="x")
    with pytest.raises(Conflict) as orm_says:
        question_answer(user=fresh(cast.author), question_id=question.pk, text="x")
    assert str(statement_says.value) == str(orm_says.value)
    assert not QuestionAnswer.objects.filter(question=question).exists()


def test_a_first_answer_queues_the_partner_s_nudge_and_an_edit_does_not(cast, question):
    schedule = NudgeSchedule.objects.filter(user=cast.partner, kind="partner_answered")
    schedule.update(next_due_at=None)  # nothing due: the event makes it due
    question_answer_seen(user=fresh(cast.author), question_id=question.pk, text="first")
    [after_first] = schedule.values_list("next_due_at", flat=True)
    assert after_first is not None
    schedule.update(next_due_at=None)
    question_answer_seen(user=fresh(cast.author), question_id=question.pk, text="again")
    assert list(schedule.values_list("next_due_at", flat=True)) == [None]


@pytest.mark.parametrize("due", ["none", "sooner", "later", "off"])
def test_the_partner_s_nudge_moves_exactly_as_nudge_enqueue_moves_it(cast, due):
    """The same first answer by both paths, at the same frozen instant, from the same
    schedule row: the row ends the same (moved, left alone, or off)."""
    at = days.together(cast.author, cast.partner)
    schedule = NudgeSchedule.objects.filter(user=cast.partner, kind="partner_answered")
    start = {
        "none": {"next_due_at": None},
        "sooner": {"next_due_at": at + timedelta(minutes=1)},
        "later": {"next_due_at": at + timedelta(days=3)},
        "off": {"next_due_at": None, "enabled": False},
    }[due]
    PromptFactory.create_batch(3)
    ends = []
    with time_machine.travel(at, tick=False):
        for answer in (question_answer_seen, question_answer):
            QuestionAnswer.objects.all().delete()
            question = daily_question_ensure(user=cast.author)
            schedule.update(**{"enabled": True, **start})
            answer(user=fresh(cast.author), question_id=question.pk, text="first")
            ends.append(list(schedule.values_list("enabled", "next_due_at")))
    statement_end, orm_end = ends
    assert statement_end == orm_end
    assert (statement_end[0][1] != start["next_due_at"]) is (due in ("none", "later"))


def test_the_api_answers_with_the_view_in_a_few_statements(cast, question, api):
    client = api(cast.author)
    url = reverse("api-question-answer", kwargs={"question_id": question.pk})
    # The token; the lock (with the partner's nudge row) and the write (which moves it)
    # in a transaction (a savepoint in a test, BEGIN and COMMIT in production, which
    # Django does not count as queries); the read-back. A first answer as an edit.
    first = assert_num_queries(6, lambda: client.post(url, {"text": "first"}, format="json"))
    assert first.status_code == 201
    edited = assert_num_queries(6, lambda: client.post(url, {"text": "edit"}, format="json"))
    assert edited.status_code == 200
    assert edited.json() == orm_view(cast.author, question.pk)


@pytest.mark.django_db(transaction=True)
def test_both_partners_answering_at_the_same_moment_reveal_once(cast, same_couple_day):
    PromptFactory.create_batch(3)
    question = daily_question_ensure(user=cast.author)
    outcomes = race(
        [
            lambda: question_answer_seen(
                user=fresh(cast.author), question_id=question.pk, text="A"
            ),
            lambda: question_answer_seen(
                user=fresh(cast.partner), question_id=question.pk, text="B"
            ),
        ]
    )
    assert outcomes == ["ok", "ok"]
    question.refresh_from_db()
    assert question.revealed_at is not None
