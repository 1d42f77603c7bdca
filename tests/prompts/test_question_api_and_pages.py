"""The Daily question part of docs/api.md, the pages, and the seal."""

import pytest

from prompts.services import daily_question_ensure, question_answer
from tests.factories import PromptFactory

pytestmark = pytest.mark.django_db

SEALED = "lighthouse-marmalade-4410"


@pytest.fixture
def question(cast, same_couple_day):
    PromptFactory.create_batch(4)
    return daily_question_ensure(user=cast.author)


def everything_the_partner_can_fetch(client, api, cast, question):
    """Every page, fragment and endpoint the partner can reach, as text."""
    client.force_login(cast.partner)
    bodies = {}
    for path in ["/", "/question/", "/questions/", "/history/", "/checkin/"]:
        response = client.get(path)
        bodies[path] = response.content.decode()
    # htmx fragments: reacting (refused before the reveal) answers with the card.
    fragment = client.post(
        f"/questions/{question.pk}/react/", {"reaction": "heart"}, HTTP_HX_REQUEST="true"
    )
    bodies["htmx react"] = fragment.content.decode()
    token_client = api(cast.partner)
    for path in [
        "/api/v1/questions/today",
        "/api/v1/questions",
        "/api/v1/dashboard",
        "/api/v1/me",
        "/api/v1/checkins",
    ]:
        bodies[path] = token_client.get(path).content.decode()
    refused = token_client.post(
        f"/api/v1/questions/{question.pk}/reactions", {"reaction": "heart"}, format="json"
    )
    bodies["api react"] = refused.content.decode()
    return bodies


def test_the_partner_answer_never_leaves_the_server_before_both_answered(
    client, api, cast, question
):
    question_answer(user=cast.author, question_id=question.pk, text=SEALED)
    for where, body in everything_the_partner_can_fetch(client, api, cast, question).items():
        assert SEALED not in body, where
    # Another couple and an unpaired person never see it either.
    for person in (cast.other, cast.unpaired):
        client.force_login(person)
        for path in ["/", "/question/", "/questions/"]:
            assert SEALED not in client.get(path).content.decode()
        assert SEALED not in api(person).get("/api/v1/questions").content.decode()

    # The partner answers (an htmx fragment): now both see both.
    client.force_login(cast.partner)
    fragment = client.post(
        f"/questions/{question.pk}/answer/", {"text": "my side"}, HTTP_HX_REQUEST="true"
    )
    assert SEALED in fragment.content.decode()
    assert "my side" in api(cast.author).get("/api/v1/questions/today").json()["partner_answer"]


def test_the_partners_waiting_page_says_they_answered_without_showing_it(client, cast, question):
    question_answer(user=cast.author, question_id=question.pk, text=SEALED)
    client.force_login(cast.partner)
    page = client.get("/question/").content.decode()
    assert '<span dir="auto">Robin</span> has answered' in page
    assert SEALED not in page


class TestApi:
    def test_today_is_unanswered_then_waiting_then_revealed(self, api, cast, question):
        author, partner = api(cast.author), api(cast.partner)
        body = author.get("/api/v1/questions/today").json()
        assert body["state"] == "unanswered"
        assert set(body["prompt"]) >= {"id", "text", "dimension", "depth"}
        first = author.post(f"/api/v1/questions/{question.pk}/answer", {"text": "A"}, format="json")
        assert first.status_code == 201
        assert first.json()["state"] == "waiting"
        edit = author.post(f"/api/v1/questions/{question.pk}/answer", {"text": "A2"}, format="json")
        assert edit.status_code == 200
        theirs = partner.get("/api/v1/questions/today").json()
        assert theirs["partner_answered"] is True
        assert theirs["partner_answer"] is None
        partner.post(f"/api/v1/questions/{question.pk}/answer", {"text": "B"}, format="json")
        revealed = author.get("/api/v1/questions/today").json()
        assert revealed["state"] == "revealed"
        assert revealed["partner_answer"] == "B"
        after = author.post(f"/api/v1/questions/{question.pk}/answer", {"text": "C"}, format="json")
        assert after.status_code == 409
        reacted = partner.post(
            f"/api/v1/questions/{question.pk}/reactions", {"reaction": "hug"}, format="json"
        )
        assert reacted.status_code == 201
        assert author.get("/api/v1/questions/today").json()["partner_reaction"] == "hug"

    def test_reactions_before_the_reveal_are_409(self, api, cast, question):
        response = api(cast.author).post(
            f"/api/v1/questions/{question.pk}/reactions", {"reaction": "hug"}, format="json"
        )
        assert response.status_code == 409

    def test_pass_gives_a_new_question_once_a_day(self, api, cast, question):
        client = api(cast.author)
        passed = client.post(f"/api/v1/questions/{question.pk}/pass")
        assert passed.status_code == 200
        new_id = passed.json()["id"]
        assert new_id != question.pk
        assert client.get("/api/v1/questions/today").json()["id"] == new_id
        assert client.post(f"/api/v1/questions/{new_id}/pass").status_code == 409

    @pytest.mark.parametrize("who", ["other", "unpaired"])
    def test_another_couples_question_is_404(self, api, cast, question, who):
        client = api(getattr(cast, who))
        assert (
            client.post(f"/api/v1/questions/{question.pk}/answer", {"text": "x"}, format="json")
        ).status_code == 404
        assert client.post(f"/api/v1/questions/{question.pk}/pass").status_code == 404

    @pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "x" * 2001}, {"text": 3}])
    def test_bad_answers_get_400(self, api, cast, question, body):
        response = api(cast.author).post(
            f"/api/v1/questions/{question.pk}/answer", body, format="json"
        )
        assert response.status_code == 400

    def test_the_list_is_newest_first_and_paginated(self, api, cast, question):
        body = api(cast.author).get("/api/v1/questions").json()
        assert body["count"] == 1
        assert body["results"][0]["id"] == question.pk

    def test_unpaired_today_is_404(self, api, cast, question):
        assert api(cast.unpaired).get("/api/v1/questions/today").status_code == 404


class TestPages:
    def test_answer_wait_and_reveal_through_the_pages(self, client, cast, question):
        client.force_login(cast.author)
        assert client.get("/question/").status_code == 200
        client.post(f"/questions/{question.pk}/answer/", {"text": "Mine"})
        page = client.get("/question/").content.decode()
        assert 'data-testid="waiting"' in page
        client.force_login(cast.partner)
        client.post(f"/questions/{question.pk}/answer/", {"text": "Theirs"})
        page = client.get("/question/").content.decode()
        assert 'data-testid="revealed"' in page
        assert "Mine" in page

    def test_the_dashboard_slot_shows_the_state(self, client, cast, question):
        client.force_login(cast.author)
        assert "Answer" in client.get("/").content.decode()
        question_answer(user=cast.author, question_id=question.pk, text="Mine")
        page = client.get("/").content.decode()
        assert 'sealed until <span dir="auto">Sam</span> answers' in page

    def test_an_empty_answer_is_explained(self, client, cast, question):
        client.force_login(cast.author)
        response = client.post(f"/questions/{question.pk}/answer/", {"text": "  "}, follow=True)
        assert "Write an answer first." in response.content.decode()


def test_pass_is_offered_only_while_todays_pass_is_unused(client, cast, question):
    client.force_login(cast.author)
    assert "Pass on this one" in client.get("/question/").content.decode()
    client.post(f"/questions/{question.pk}/pass/")
    assert "Pass on this one" not in client.get("/question/").content.decode()
