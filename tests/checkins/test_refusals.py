"""What a person reads when a check-in or a response is refused: on the page and in the
API, each of the service's messages on its own, on its field when there is one."""

import html
import re

import pytest

from checkins.models import Checkin, CheckinResponse
from checkins.services import checkin_submit
from tests.checkins.helpers import todays_question_ids

pytestmark = pytest.mark.django_db

TODAY = "/api/v1/checkins/today"
CONTROL = "Remove the invisible control characters from this text."


def test_every_answer_to_a_question_not_of_today_is_named_in_the_api(cast, api):
    answers = [{"question_id": 999_998, "text": "a"}, {"question_id": 999_999, "text": "b"}]
    response = api(cast.author).put(TODAY, {"mood": 3, "answers": answers}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "answers": [
            "Question 999998 is not one of today's questions.",
            "Question 999999 is not one of today's questions.",
        ]
    }
    assert not Checkin.objects.exists()


def test_an_answer_with_control_characters_is_refused_under_text_in_the_api(cast, api):
    q1, *_ = todays_question_ids(cast.author)
    answers = [{"question_id": q1, "text": "bell\x07"}]
    response = api(cast.author).put(TODAY, {"mood": 3, "answers": answers}, format="json")
    assert response.status_code == 400
    assert response.json() == {"text": [CONTROL]}


def test_refused_responses_say_why_in_the_api(cast, api):
    checkin = checkin_submit(user=cast.author, mood=4).checkin
    url = f"/api/v1/checkins/{checkin.pk}/responses"
    own = api(cast.author).post(url, {"reaction": "heart"}, format="json")
    assert (own.status_code, own.json()) == (
        400,
        {"detail": "You can't respond to your own check-in."},
    )
    bell = api(cast.partner).post(url, {"text": "bell\x07"}, format="json")
    assert (bell.status_code, bell.json()) == (400, {"text": [CONTROL]})
    assert not CheckinResponse.objects.exists()


def test_on_the_page_each_refused_answer_is_its_own_error(client, cast, monkeypatch):
    # Today's questions as the page shows them, but none the service accepts (as after
    # the couple's zone moved the couple day under a check-in already written).
    monkeypatch.setattr("checkins.services.checkin_question_ids_for", lambda day: [])
    client.force_login(cast.author)
    ids = todays_question_ids(cast.author)
    fields = {f"answer_{question_id}": "x" for question_id in ids}
    response = client.post("/checkin/", {"mood": "3", "visibility": "shared", **fields})
    assert response.status_code == 200
    page = html.unescape(response.text)
    errors = re.findall(r"<p>(Question \d+ is not one of today's questions\.)</p>", page)
    assert errors == [
        f"Question {question_id} is not one of today's questions." for question_id in ids
    ]
    assert not Checkin.objects.exists()


def test_on_the_page_control_characters_in_an_answer_are_explained(client, cast):
    client.force_login(cast.author)
    q1, *_ = todays_question_ids(cast.author)
    response = client.post(
        "/checkin/", {"mood": "3", "visibility": "shared", f"answer_{q1}": "bell\x07"}
    )
    assert response.status_code == 200
    assert f"<p>{CONTROL}</p>" in response.text
    assert not Checkin.objects.exists()
