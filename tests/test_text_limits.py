"""Text is never lost: every field that takes a person's words refuses over-long text with
a clear message and stores nothing, on the pages (an error on the field, the text shown
again, whole) and in the API (400 with a field error); line breaks count as one character
however the browser sends them; and no page lets the browser cut a paste short.
"""

from __future__ import annotations

import html
import re

import pytest

from checkins.models import ANSWER_MAX_LENGTH as CHECKIN_ANSWER_MAX
from checkins.models import REPLY_MAX_LENGTH, Checkin, CheckinAnswer, CheckinResponse
from checkins.services import checkin_submit
from lovemaps.models import ANSWER_MAX_LENGTH as LOVEMAP_ANSWER_MAX
from lovemaps.models import GUESS_MAX_LENGTH, LovemapEntry, LovemapReveal
from lovemaps.services import lovemap_answer
from nuzzle.couples.models import User
from prompts.models import ANSWER_MAX_LENGTH as QUESTION_ANSWER_MAX
from prompts.models import Prompt, QuestionAnswer
from prompts.services import daily_question_ensure, prompt_bank_load
from tests.checkins.helpers import todays_question_ids

pytestmark = pytest.mark.django_db

TOO_MANY = "too many. Nothing was cut"


def words(length: int, *, lines: int = 0, newline: str = "\n") -> str:
    """`length` characters as a person counts them, `lines` of them line breaks."""
    text = "".join("abcdefghij"[i % 10] for i in range(length - lines))
    for i in range(lines):
        at = (i + 1) * len(text) // (lines + 1)
        text = text[:at] + "\x00" + text[at:]
    return text.replace("\x00", newline)


def textarea_text(page: str, field_id: str) -> str:
    """What a textarea holds, as the browser reads it (a first newline is dropped)."""
    found = re.search(rf'<textarea[^>]*id="{field_id}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, f"no textarea #{field_id}"
    return html.unescape(found.group(1)).removeprefix("\n")


@pytest.fixture(autouse=True)
def _bank(db):
    prompt_bank_load()


@pytest.fixture
def question(cast):
    return daily_question_ensure(user=cast.author)


@pytest.fixture
def topic():
    return Prompt.objects.filter(kind=Prompt.Kind.LOVEMAP, status="published").first()


# --- Check-in answers ---------------------------------------------------------------------


class TestCheckinAnswers:
    def test_an_over_long_answer_is_an_error_on_its_field_and_comes_back_whole(self, client, cast):
        client.force_login(cast.author)
        q1, *_ = todays_question_ids(cast.author)
        text = words(CHECKIN_ANSWER_MAX + 12)
        page = client.post("/checkin/", {"mood": "3", "visibility": "shared", f"answer_{q1}": text})
        content = page.content.decode()
        assert "Please keep this to 500 characters: it has 512, 12 too many." in content
        assert textarea_text(content, f"id_answer_{q1}") == text
        assert 'aria-invalid="true"' in content
        assert not Checkin.objects.exists()

    def test_the_same_with_htmx(self, client, cast):
        client.force_login(cast.author)
        q1, *_ = todays_question_ids(cast.author)
        text = words(CHECKIN_ANSWER_MAX + 1)
        page = client.post(
            "/checkin/",
            {"mood": "3", "visibility": "shared", f"answer_{q1}": text},
            HTTP_HX_REQUEST="true",
        )
        assert "1 too many" in page.content.decode()
        assert textarea_text(page.content.decode(), f"id_answer_{q1}") == text
        assert not Checkin.objects.exists()

    def test_500_characters_with_line_breaks_sent_as_crlf_are_accepted_as_500(self, client, cast):
        client.force_login(cast.author)
        q1, *_ = todays_question_ids(cast.author)
        text = words(CHECKIN_ANSWER_MAX, lines=5)
        sent = text.replace("\n", "\r\n")  # what a browser submits
        assert len(sent) == CHECKIN_ANSWER_MAX + 5
        response = client.post(
            "/checkin/", {"mood": "3", "visibility": "shared", f"answer_{q1}": sent}
        )
        assert response.status_code == 302
        assert CheckinAnswer.objects.get().text == text  # stored with LF, nothing cut

    def test_the_form_shows_the_limit_and_never_lets_the_browser_cut_a_paste(self, client, cast):
        client.force_login(cast.author)
        q1, *_ = todays_question_ids(cast.author)
        page = client.get("/checkin/").content.decode()
        field = re.search(rf'<textarea[^>]*id="id_answer_{q1}"[^>]*>', page)
        assert field
        assert "maxlength" not in field.group(0)
        assert f'data-limit="{CHECKIN_ANSWER_MAX}"' in field.group(0)
        assert f'aria-describedby="id_answer_{q1}_count"' in field.group(0)
        assert f'id="id_answer_{q1}_count">Up to 500 characters.' in page

    def test_the_api_refuses_an_over_long_answer_and_stores_nothing(self, api, cast):
        q1, *_ = todays_question_ids(cast.author)
        response = api(cast.author).put(
            "/api/v1/checkins/today",
            {"mood": 3, "answers": [{"question_id": q1, "text": words(CHECKIN_ANSWER_MAX + 3)}]},
            format="json",
        )
        assert response.status_code == 400
        assert "3 too many" in response.json()["answers"][0]["text"][0]
        assert not Checkin.objects.exists()

    def test_the_api_counts_a_crlf_as_one_character_and_stores_lf(self, api, cast):
        q1, *_ = todays_question_ids(cast.author)
        text = words(CHECKIN_ANSWER_MAX, lines=4)
        response = api(cast.author).put(
            "/api/v1/checkins/today",
            {"mood": 3, "answers": [{"question_id": q1, "text": text.replace("\n", "\r\n")}]},
            format="json",
        )
        assert response.status_code == 201
        assert CheckinAnswer.objects.get().text == text


# --- Replies to a partner's check-in ------------------------------------------------------


class TestReplies:
    @pytest.fixture
    def checkin(self, cast):
        return checkin_submit(user=cast.author, mood=4).checkin

    def test_an_over_long_reply_comes_back_in_the_card_with_htmx(self, client, cast, checkin):
        client.force_login(cast.partner)
        text = words(REPLY_MAX_LENGTH + 7)
        response = client.post(
            f"/checkins/{checkin.pk}/respond/",
            {"text": text, "layout": "today", "next": "/"},
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 400
        content = response.content.decode()
        assert "7 too many" in content
        assert f'value="{text}"' in content
        assert 'aria-invalid="true"' in content
        assert not CheckinResponse.objects.exists()

    def test_without_javascript_it_comes_back_on_a_page_of_its_own(self, client, cast, checkin):
        client.force_login(cast.partner)
        text = words(REPLY_MAX_LENGTH + 1)
        response = client.post(
            f"/checkins/{checkin.pk}/respond/", {"text": text, "next": f"/#checkin-{checkin.pk}"}
        )
        assert response.status_code == 400
        content = response.content.decode()
        assert "Your reply wasn't sent yet" in content
        assert "1 too many" in content
        assert f'value="{text}"' in content
        # Sending it again from there goes back where it came from.
        assert 'name="next" value="/#checkin-' in content
        assert not CheckinResponse.objects.exists()

    def test_a_reply_field_shows_its_limit_and_has_no_maxlength(self, client, cast, checkin):
        client.force_login(cast.partner)
        page = client.get("/").content.decode()
        field = re.search(rf'<input[^>]*id="reply-{checkin.pk}"[^>]*>', page)
        assert field
        assert "maxlength" not in field.group(0)
        assert f'data-limit="{REPLY_MAX_LENGTH}"' in field.group(0)
        assert f'id="reply-{checkin.pk}-count">Up to {REPLY_MAX_LENGTH} characters.' in page

    def test_the_api_refuses_an_over_long_reply_and_stores_nothing(self, api, cast, checkin):
        response = api(cast.partner).post(
            f"/api/v1/checkins/{checkin.pk}/responses",
            {"reaction": "hug", "text": words(REPLY_MAX_LENGTH + 1)},
            format="json",
        )
        assert response.status_code == 400
        assert TOO_MANY in response.json()["text"][0]
        assert not CheckinResponse.objects.exists()


# --- Daily-question answers ---------------------------------------------------------------


class TestQuestionAnswers:
    def test_an_over_long_answer_comes_back_in_the_card_with_htmx(self, client, cast, question):
        client.force_login(cast.author)
        text = words(QUESTION_ANSWER_MAX + 5)
        response = client.post(
            f"/questions/{question.pk}/answer/", {"text": text}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 400
        content = response.content.decode()
        assert "Please keep this to 2,000 characters: it has 2,005, 5 too many." in content
        assert textarea_text(content, f"answer-{question.pk}") == text
        assert not QuestionAnswer.objects.exists()

    def test_without_javascript_it_comes_back_on_a_page_of_its_own(self, client, cast, question):
        client.force_login(cast.author)
        text = words(QUESTION_ANSWER_MAX + 1, lines=3).replace("\n", "\r\n")
        response = client.post(
            f"/questions/{question.pk}/answer/",
            {"text": text, "next": f"/question/#question-{question.pk}"},
        )
        assert response.status_code == 400
        content = response.content.decode()
        assert "Your answer isn't saved yet" in content
        assert "1 too many" in content
        assert textarea_text(content, f"answer-{question.pk}").replace("\r\n", "\n") == (
            text.replace("\r\n", "\n")
        )
        assert 'name="next" value="/question/#question-' in content
        assert not QuestionAnswer.objects.exists()

    def test_an_empty_answer_is_explained_where_it_was_written(self, client, cast, question):
        client.force_login(cast.author)
        response = client.post(f"/questions/{question.pk}/answer/", {"text": "   "})
        assert response.status_code == 400
        assert "Write an answer first." in response.content.decode()

    def test_2000_characters_with_crlf_line_breaks_are_accepted(self, client, cast, question):
        client.force_login(cast.author)
        text = words(QUESTION_ANSWER_MAX, lines=9)
        response = client.post(
            f"/questions/{question.pk}/answer/", {"text": text.replace("\n", "\r\n")}
        )
        assert response.status_code == 302
        assert QuestionAnswer.objects.get().text == text

    def test_the_api_refuses_an_over_long_answer_and_stores_nothing(self, api, cast, question):
        response = api(cast.author).post(
            f"/api/v1/questions/{question.pk}/answer",
            {"text": words(QUESTION_ANSWER_MAX + 1)},
            format="json",
        )
        assert response.status_code == 400
        assert TOO_MANY in response.json()["text"][0]
        assert not QuestionAnswer.objects.exists()


# --- Love-map answers and guesses ---------------------------------------------------------


class TestLovemap:
    def test_an_over_long_answer_comes_back_whole_with_the_reason(self, client, cast, topic):
        client.force_login(cast.author)
        text = words(LOVEMAP_ANSWER_MAX + 2, lines=2).replace("\n", "\r\n")
        response = client.post(
            f"/lovemap/mine/{topic.pk}/",
            {"answer": text, "next": f"/lovemap/mine/#topic-{topic.pk}"},
        )
        assert response.status_code == 400
        content = response.content.decode()
        assert "Your answer isn't saved yet" in content
        assert topic.text in content
        assert "2 too many" in content
        assert textarea_text(content, "id_answer") == text
        assert 'name="next" value="/lovemap/mine/#topic-' in content
        assert not LovemapEntry.objects.exists()

    def test_1000_characters_with_crlf_line_breaks_are_accepted(self, client, cast, topic):
        client.force_login(cast.author)
        text = words(LOVEMAP_ANSWER_MAX, lines=3)
        response = client.post(f"/lovemap/mine/{topic.pk}/", {"answer": text.replace("\n", "\r\n")})
        assert response.status_code == 302
        assert LovemapEntry.objects.get().text == text

    def test_an_over_long_guess_reveals_nothing_and_comes_back(self, client, cast, topic):
        lovemap_answer(user=cast.author, topic_id=topic.pk, text="Tea by the window")
        client.force_login(cast.partner)
        text = words(GUESS_MAX_LENGTH + 1)
        response = client.post(f"/lovemap/partner/{topic.pk}/reveal/", {"guess": text})
        assert response.status_code == 400
        content = response.content.decode()
        assert "Not revealed yet" in content
        assert textarea_text(content, "id_guess") == text
        assert "Tea by the window" not in content  # still hidden: nothing was revealed
        assert not LovemapReveal.objects.exists()

    def test_the_pages_show_limits_and_have_no_maxlength(self, client, cast, topic):
        lovemap_answer(user=cast.author, topic_id=topic.pk, text="Tea by the window")
        client.force_login(cast.author)
        mine = client.get("/lovemap/mine/").content.decode()
        client.force_login(cast.partner)
        theirs = client.get("/lovemap/partner/").content.decode()
        assert "maxlength" not in mine + theirs
        assert f'data-limit="{LOVEMAP_ANSWER_MAX}"' in mine
        assert f'data-limit="{GUESS_MAX_LENGTH}"' in theirs
        assert "Up to 1,000 characters." in mine
        assert "Up to 1,000 characters." in theirs

    def test_the_api_refuses_an_over_long_answer_and_stores_nothing(self, api, cast, topic):
        response = api(cast.author).put(
            f"/api/v1/lovemap/mine/{topic.pk}",
            {"answer": words(LOVEMAP_ANSWER_MAX + 1)},
            format="json",
        )
        assert response.status_code == 400
        assert TOO_MANY in response.json()["answer"][0]
        assert not LovemapEntry.objects.exists()

    def test_the_api_refuses_an_over_long_guess_and_reveals_nothing(self, api, cast, topic):
        lovemap_answer(user=cast.author, topic_id=topic.pk, text="Tea by the window")
        response = api(cast.partner).post(
            f"/api/v1/lovemap/partner/{topic.pk}/reveal",
            {"guess": words(GUESS_MAX_LENGTH + 1)},
            format="json",
        )
        assert response.status_code == 400
        assert TOO_MANY in response.json()["guess"][0]
        assert "Tea by the window" not in response.content.decode()
        assert not LovemapReveal.objects.exists()


# --- Display names ------------------------------------------------------------------------


class TestDisplayNames:
    def test_an_over_long_name_at_sign_up_is_an_error_and_comes_back_whole(self, client):
        name = "Ada " + "x" * 50
        response = client.post(
            "/signup/",
            {
                "display_name": name,
                "email": "ada@example.com",
                "password": "a calm evening walk",
                "timezone": "UTC",
            },
        )
        content = response.content.decode()
        assert "Please keep this to 50 characters: it has 54, 4 too many." in content
        assert f'value="{name}"' in content
        assert 'maxlength="50"' not in content
        assert not User.objects.filter(email="ada@example.com").exists()

    def test_the_account_page_keeps_an_over_long_name_in_its_field(self, client, cast):
        client.force_login(cast.author)
        name = "y" * 51
        response = client.post("/account/", {"display_name": name, "timezone": "Europe/London"})
        content = response.content.decode()
        assert "1 too many" in content
        assert f'value="{name}"' in content
        assert 'data-limit="50"' in content
        cast.author.refresh_from_db()
        assert cast.author.display_name == "Robin"

    def test_the_api_refuses_an_over_long_name_and_stores_nothing(self, api, cast):
        response = api(cast.author).patch("/api/v1/me", {"display_name": "z" * 51}, format="json")
        assert response.status_code == 400
        assert "display_name" in response.json()
        cast.author.refresh_from_db()
        assert cast.author.display_name == "Robin"
