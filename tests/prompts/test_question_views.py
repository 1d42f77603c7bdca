"""The one-query question views (prompts.selectors.question_view_by_id and
question_view_today): exactly what the list (question_list + question_views) says of
the same question, in one query."""

from __future__ import annotations

from dataclasses import replace

import pytest

from nuzzle.couples.scoping import forget_couple_context
from prompts import selectors
from prompts.services import daily_question_ensure, question_answer, question_react
from tests.factories import PromptFactory
from tests.queries import assert_num_queries

pytestmark = pytest.mark.django_db


def fresh(user):
    forget_couple_context(user)
    return user


@pytest.fixture
def question(cast, same_couple_day):
    PromptFactory.create_batch(4)
    return daily_question_ensure(user=cast.author)


def reference(user, question_id):
    """What the list path (question_list + question_views) says."""
    found = selectors.question_list(user=fresh(user)).get(question_id=question_id)
    return selectors.question_views(user=user, rows=[found])[0]


def same(a, b):
    # `closed` and the rest are computed from the same rows; only the prompt instance
    # differs (a partial one, with the fields a view shows).
    assert replace(a, prompt=None) == replace(b, prompt=None)
    assert (a.prompt.pk, a.prompt.text, a.prompt.dimension, a.prompt.depth) == (
        b.prompt.pk,
        b.prompt.text,
        b.prompt.dimension,
        b.prompt.depth,
    )


@pytest.mark.parametrize("stage", ["unanswered", "waiting", "revealed", "reacted"])
def test_it_equals_the_prefetched_view_for_both_partners_at_every_stage(cast, question, stage):
    if stage != "unanswered":
        question_answer(user=cast.author, question_id=question.pk, text="Mine, sealed")
    if stage in ("revealed", "reacted"):
        question_answer(user=cast.partner, question_id=question.pk, text="Theirs")
    if stage == "reacted":
        question_react(user=cast.author, question_id=question.pk, reaction="hug")
        question_react(user=cast.partner, question_id=question.pk, reaction="heart")
    for person in (cast.author, cast.partner):
        view = selectors.question_view_by_id(user=fresh(person), question_id=question.pk)
        same(view, reference(person, question.pk))
        same(selectors.question_view_today(user=fresh(person)), view)


def test_a_sealed_answer_stays_sealed(cast, question):
    question_answer(user=cast.author, question_id=question.pk, text="Mine, sealed")
    view = selectors.question_view_by_id(user=fresh(cast.partner), question_id=question.pk)
    assert view.state == "unanswered"
    assert view.partner_answered
    assert view.partner_answer is None


def test_it_is_one_query_once_the_couple_is_known(cast, question):
    question_answer(user=cast.author, question_id=question.pk, text="Mine")
    question_answer(user=cast.partner, question_id=question.pk, text="Theirs")
    question_react(user=cast.author, question_id=question.pk, reaction="hug")
    user = fresh(cast.partner)
    selectors.question_view_by_id(user=user, question_id=question.pk)  # couple context
    view = assert_num_queries(
        1, lambda: selectors.question_view_by_id(user=user, question_id=question.pk)
    )
    assert (view.my_answer, view.partner_answer, view.partner_reaction) == ("Theirs", "Mine", "hug")


def test_another_couples_or_a_passed_question_is_none(cast, question):
    assert selectors.question_view_by_id(user=fresh(cast.other), question_id=question.pk) is None
    assert selectors.question_view_by_id(user=fresh(cast.unpaired), question_id=question.pk) is None
    assert selectors.question_view_today(user=fresh(cast.unpaired)) is None
    question.status = question.Status.PASSED
    question.save(update_fields=["status"])
    assert selectors.question_view_by_id(user=fresh(cast.author), question_id=question.pk) is None
