"""What a person reads when a reaction or an answer to the daily question is refused, on
the pages (with and without htmx) and in the API."""

import html

import pytest
from django.contrib.messages import get_messages

from prompts.models import QuestionAnswer, QuestionReaction
from prompts.services import daily_question_ensure, question_answer
from tests.factories import PromptFactory

pytestmark = pytest.mark.django_db

CHOOSE = "Choose one of: heart, hug, proud, same, laugh."
CONTROL = "Remove the invisible control characters from this text."


@pytest.fixture
def question(cast, same_couple_day):
    PromptFactory.create_batch(4)
    return daily_question_ensure(user=cast.author)


@pytest.fixture
def revealed(cast, question):
    question_answer(user=cast.author, question_id=question.pk, text="Mine")
    question_answer(user=cast.partner, question_id=question.pk, text="Theirs")
    return question


def test_an_unknown_reaction_on_the_page_is_a_message_and_nothing_is_stored(client, cast, revealed):
    client.force_login(cast.author)
    response = client.post(f"/questions/{revealed.pk}/react/", {"reaction": "meh"})
    assert (response.status_code, response["Location"]) == (302, "/question/")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [CHOOSE]
    assert not QuestionReaction.objects.exists()


def test_an_unknown_reaction_with_htmx_is_the_card_with_the_reason(client, cast, revealed):
    client.force_login(cast.author)
    response = client.post(
        f"/questions/{revealed.pk}/react/", {"reaction": "meh"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert f">{CHOOSE}</p>" in html.unescape(response.content.decode())
    assert not QuestionReaction.objects.exists()


def test_an_unknown_reaction_in_the_api_is_named_under_reaction(api, cast, revealed):
    url = f"/api/v1/questions/{revealed.pk}/reactions"
    response = api(cast.author).post(url, {"reaction": "meh"}, format="json")
    assert (response.status_code, response.json()) == (
        400,
        {"reaction": ['"meh" is not a valid choice.']},
    )
    assert not QuestionReaction.objects.exists()


def test_an_answer_with_control_characters_is_refused_under_text_in_the_api(api, cast, question):
    url = f"/api/v1/questions/{question.pk}/answer"
    response = api(cast.author).post(url, {"text": "bell\x07"}, format="json")
    assert (response.status_code, response.json()) == (400, {"text": [CONTROL]})
    assert not QuestionAnswer.objects.exists()


def test_on_the_page_an_answer_with_control_characters_comes_back_with_the_reason(
    client, cast, question
):
    client.force_login(cast.author)
    response = client.post(f"/questions/{question.pk}/answer/", {"text": "bell\x07"})
    assert response.status_code == 400
    assert f">{CONTROL}</p>" in response.content.decode()
    assert not QuestionAnswer.objects.exists()
