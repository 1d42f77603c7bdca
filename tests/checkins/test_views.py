"""Check-in pages through the test client: forms, htmx fragments, and privacy."""

import pytest

from checkins.models import Checkin, CheckinResponse
from checkins.services import AnswerInput, checkin_submit
from tests.checkins.helpers import todays_question_ids

pytestmark = pytest.mark.django_db


def test_checking_in_from_the_page_then_editing_it(client, cast):
    client.force_login(cast.author)
    q1, *_ = todays_question_ids(cast.author)
    page = client.get("/checkin/")
    assert page.status_code == 200
    assert b"Check in" in page.content
    response = client.post(
        "/checkin/", {"mood": "2", "energy": "", "visibility": "shared", f"answer_{q1}": "Long day"}
    )
    assert response["Location"] == "/"
    edit = client.get("/checkin/")
    assert b"Update my check-in" in edit.content
    assert b"Long day" in edit.content
    client.post("/checkin/", {"mood": "4", "visibility": "private"})
    checkin = Checkin.objects.get()
    assert (checkin.mood, checkin.visibility, checkin.answers.count()) == (4, "private", 0)


def test_the_htmx_form_answers_with_a_fragment_that_says_saved(client, cast):
    client.force_login(cast.author)
    response = client.post(
        "/checkin/", {"mood": "5", "visibility": "shared"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b"Saved" in response.content


def test_a_missing_mood_is_explained_and_nothing_is_stored(client, cast):
    client.force_login(cast.author)
    response = client.post("/checkin/", {"visibility": "shared"})
    assert response.status_code == 200
    assert b"Choose how you are today." in response.content
    assert not Checkin.objects.exists()


def test_the_dashboard_shows_both_check_ins_and_a_response(client, cast, same_couple_day):
    checkin = checkin_submit(user=cast.author, mood=5).checkin
    checkin_submit(user=cast.partner, mood=2)
    client.force_login(cast.partner)
    client.post(f"/checkins/{checkin.pk}/respond/", {"reaction": "proud", "text": "You did it"})
    assert CheckinResponse.objects.get().text == "You did it"
    client.force_login(cast.author)
    page = client.get("/").content.decode()
    assert "You did it" in page
    assert "Proud of you" in page
    assert "mood--5" in page
    assert "mood--2" in page
    assert '<svg viewBox="0 0' in page
    assert "series--partner" in page


def test_the_partner_waiting_state_is_gentle(client, cast):
    checkin_submit(user=cast.author, mood=3)
    client.force_login(cast.author)
    page = client.get("/").content.decode()
    assert 'Nothing from <span dir="auto">Sam</span> yet today' in page


def test_the_respond_fragment_for_htmx(client, cast):
    checkin = checkin_submit(user=cast.author, mood=5).checkin
    client.force_login(cast.partner)
    response = client.post(
        f"/checkins/{checkin.pk}/respond/", {"reaction": "hug"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b"Sending a hug" in response.content
    assert b"<html" not in response.content


def test_responding_to_another_couples_check_in_is_404(client, cast):
    checkin = checkin_submit(user=cast.author, mood=5).checkin
    client.force_login(cast.other)
    assert client.post(f"/checkins/{checkin.pk}/respond/", {"reaction": "hug"}).status_code == 404


def test_history_pages_through_our_check_ins(client, cast):
    from tests.checkins.helpers import make_history

    make_history(author=cast.author, partner=cast.partner, couple=cast.couple, days=15)
    client.force_login(cast.author)
    first = client.get("/history/")
    assert first.context["page"].paginator.num_pages == 2
    assert b'rel="next"' in first.content
    assert client.get("/history/?page=2").status_code == 200
    assert client.get("/history/?page=999").status_code == 200  # clamps to the last page


MARKER = "zebra-umbrella-7731"


def test_a_private_check_in_never_reaches_anyone_else(client, api, cast):
    """Plant a marker in a private check-in and its answer; fetch everything the partner,
    another couple and an unpaired person can see: the marker is nowhere."""
    q1, *_ = todays_question_ids(cast.author)
    checkin_submit(
        user=cast.author, mood=1, visibility="private", answers=[AnswerInput(q1, MARKER)]
    )
    pages = ["/", "/history/", "/checkin/"]
    endpoints = ["/api/v1/dashboard", "/api/v1/checkins", "/api/v1/checkins/today"]
    for person in (cast.partner, cast.other, cast.unpaired):
        client.force_login(person)
        for path in pages:
            assert MARKER not in client.get(path).content.decode(), (person, path)
        for path in endpoints:
            body = api(person).get(path).content.decode()
            assert MARKER not in body, (person, path)
    # ...while the author sees it everywhere that shows their own check-ins.
    client.force_login(cast.author)
    assert MARKER in client.get("/").content.decode()
    assert MARKER in api(cast.author).get("/api/v1/checkins").content.decode()
