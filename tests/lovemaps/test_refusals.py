"""What a person reads when a love-map answer, guess or rating is refused, on the page and
in the API."""

import pytest
from django.contrib.messages import get_messages

from lovemaps.models import LovemapEntry, LovemapReveal
from lovemaps.services import lovemap_answer, lovemap_reveal

pytestmark = pytest.mark.django_db

CONTROL = "Remove the invisible control characters from this text."


def test_an_answer_with_control_characters_is_refused_under_text_in_the_api(api, cast, topics):
    url = f"/api/v1/lovemap/mine/{topics[0].pk}"
    response = api(cast.author).put(url, {"answer": "bell\x07"}, format="json")
    assert (response.status_code, response.json()) == (400, {"text": [CONTROL]})
    assert not LovemapEntry.objects.exists()


def test_a_guess_with_control_characters_is_refused_under_guess_in_the_api(api, cast, topics):
    lovemap_answer(user=cast.author, topic_id=topics[0].pk, text="Tea")
    url = f"/api/v1/lovemap/partner/{topics[0].pk}/reveal"
    response = api(cast.partner).post(url, {"guess": "bell\x07"}, format="json")
    assert (response.status_code, response.json()) == (400, {"guess": [CONTROL]})
    assert not LovemapReveal.objects.exists()


def test_on_the_page_an_unknown_rating_is_explained(client, cast, topics):
    lovemap_answer(user=cast.author, topic_id=topics[0].pk, text="Tea")
    reveal = lovemap_reveal(user=cast.partner, topic_id=topics[0].pk, guess="Coffee")
    client.force_login(cast.author)
    response = client.post(f"/lovemap/guesses/{reveal.pk}/rate/", {"rating": "meh"})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Choose one of: spot_on, close, not_quite."
    ]
    reveal.refresh_from_db()
    assert reveal.rating == ""


def test_on_the_page_an_answer_with_control_characters_comes_back_with_the_reason(
    client, cast, topics
):
    client.force_login(cast.author)
    response = client.post(f"/lovemap/mine/{topics[0].pk}/", {"answer": "bell\x07"})
    assert response.status_code == 400
    assert CONTROL in response.text
    assert not LovemapEntry.objects.exists()
