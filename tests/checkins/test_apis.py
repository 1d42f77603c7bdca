"""The Check-ins and Dashboard parts of docs/api.md."""

from datetime import date

import pytest
import time_machine
from django.test import Client

from checkins.models import Checkin
from tests.checkins.helpers import todays_question_ids

pytestmark = pytest.mark.django_db

TODAY = "/api/v1/checkins/today"


def put_checkin(client, **body):
    body.setdefault("mood", 4)
    return client.put(TODAY, body, format="json")


class TestQuestions:
    def test_todays_three_questions(self, cast, api):
        response = api(cast.author).get("/api/v1/checkins/questions")
        assert response.status_code == 200
        body = response.json()
        assert len(body) == 3
        assert set(body[0]) == {"id", "text"}


class TestPutToday:
    def test_201_the_first_time_and_200_after_with_one_row(self, cast, api):
        client = api(cast.author)
        q1, q2, _ = todays_question_ids(cast.author)
        first = put_checkin(client, answers=[{"question_id": q1, "text": "A full day"}])
        second = put_checkin(client, mood=5, answers=[{"question_id": q2, "text": "Lighter"}])
        assert (first.status_code, second.status_code) == (201, 200)
        assert Checkin.objects.count() == 1
        body = second.json()
        assert body["mood"] == 5
        assert body["author"] == "me"
        assert body["visibility"] == "shared"
        assert [a["text"] for a in body["answers"]] == ["Lighter"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"mood": 0}, "mood"),
            ({"mood": 6}, "mood"),
            ({"mood": "happy"}, "mood"),
            ({"mood": 3, "energy": 7}, "energy"),
            ({"mood": 3, "visibility": "everyone"}, "visibility"),
            ({"mood": 3, "answers": "nope"}, "answers"),
            ({"mood": 3, "answers": [{"question_id": 1}]}, "answers"),
            ({"mood": 3, "answers": [{"question_id": 99999, "text": "x"}]}, "answers"),
            ({"mood": 3, "answers": [{"question_id": 1, "text": 5}]}, "answers"),
            ({}, "mood"),
        ],
    )
    def test_bad_input_gets_400_with_field_errors_and_stores_nothing(self, cast, api, body, field):
        response = api(cast.author).put(TODAY, body, format="json")
        assert response.status_code == 400
        assert field in response.json()
        assert not Checkin.objects.exists()

    def test_an_overlong_answer_gets_400(self, cast, api):
        q1, *_ = todays_question_ids(cast.author)
        response = put_checkin(api(cast.author), answers=[{"question_id": q1, "text": "x" * 501}])
        assert response.status_code == 400

    def test_more_than_three_answers_get_400(self, cast, api):
        answers = [{"question_id": i, "text": "x"} for i in range(1, 5)]
        assert put_checkin(api(cast.author), answers=answers).status_code == 400

    def test_markup_is_stored_as_text_and_returned_as_is(self, cast, api):
        q1, *_ = todays_question_ids(cast.author)
        text = "<b>{{ secret }}</b>{% now 'Y' %}"
        body = put_checkin(api(cast.author), answers=[{"question_id": q1, "text": text}]).json()
        assert body["answers"][0]["text"] == text

    def test_smuggled_author_couple_and_date_are_ignored(self, cast, api):
        response = put_checkin(
            api(cast.author),
            author=cast.partner.pk,
            couple=cast.other_couple.pk,
            date="2020-01-01",
            local_date="2020-01-01",
        )
        checkin = Checkin.objects.get(pk=response.json()["id"])
        assert (checkin.author, checkin.couple) == (cast.author, cast.couple)
        assert checkin.local_date.year != 2020


class TestGetToday:
    def test_partner_is_null_until_they_share_today(self, cast, same_couple_day, api):
        assert api(cast.author).get(TODAY).json()["partner"] is None
        put_checkin(api(cast.partner), visibility="private")
        assert api(cast.author).get(TODAY).json()["partner"] is None
        put_checkin(api(cast.partner), visibility="shared")
        body = api(cast.author).get(TODAY).json()
        assert body["partner"]["author"] == "partner"
        assert body["mine"] is None

    def test_the_date_is_the_requesters_local_date(self, cast, api):
        cast.author.timezone = "Pacific/Kiritimati"  # UTC+14
        cast.author.save()
        with time_machine.travel("2026-07-01 11:00:00Z", tick=False):
            assert api(cast.author).get(TODAY).json()["date"] == "2026-07-02"


class TestList:
    def test_mine_all_and_partners_shared_only(self, cast, api):
        put_checkin(api(cast.author), visibility="private")
        put_checkin(api(cast.partner), visibility="private")
        put_checkin(api(cast.other))
        body = api(cast.author).get("/api/v1/checkins").json()
        assert body["count"] == 1
        assert body["results"][0]["author"] == "me"
        assert set(body) == {"count", "next", "previous", "results"}

    @pytest.mark.parametrize("query", ["from=yesterday", "to=2026-13-01", "from=2026-02-30"])
    def test_malformed_dates_get_400(self, cast, api, query):
        response = api(cast.author).get(f"/api/v1/checkins?{query}")
        assert response.status_code == 400

    def test_a_date_range(self, cast, api):
        put_checkin(api(cast.author))
        today = api(cast.author).get(TODAY).json()["date"]
        assert (
            api(cast.author).get(f"/api/v1/checkins?from={today}&to={today}").json()["count"] == 1
        )
        assert api(cast.author).get("/api/v1/checkins?to=2000-01-01").json()["count"] == 0


class TestResponses:
    def respond(self, client, checkin_id, **body):
        return client.post(f"/api/v1/checkins/{checkin_id}/responses", body, format="json")

    def test_the_partner_responds_with_201_and_the_author_sees_it(self, cast, api):
        checkin_id = put_checkin(api(cast.author)).json()["id"]
        response = self.respond(api(cast.partner), checkin_id, reaction="hug", text="Here for you")
        assert response.status_code == 201
        assert response.json()["reaction"] == "hug"
        mine = api(cast.author).get(TODAY).json()["mine"]
        assert mine["responses"][0]["author"] == "partner"
        assert mine["responses"][0]["text"] == "Here for you"

    def test_responding_to_my_own_check_in_is_400(self, cast, api):
        checkin_id = put_checkin(api(cast.author)).json()["id"]
        assert self.respond(api(cast.author), checkin_id, reaction="heart").status_code == 400

    @pytest.mark.parametrize("who", ["other", "unpaired"])
    def test_another_couples_check_in_is_404_never_403(self, cast, api, who):
        checkin_id = put_checkin(api(cast.author)).json()["id"]
        response = self.respond(api(getattr(cast, who)), checkin_id, reaction="heart")
        assert response.status_code == 404

    def test_a_private_check_in_is_404_for_the_partner(self, cast, api):
        checkin_id = put_checkin(api(cast.author), visibility="private").json()["id"]
        assert self.respond(api(cast.partner), checkin_id, reaction="heart").status_code == 404

    @pytest.mark.parametrize("body", [{}, {"reaction": "meh"}, {"text": ""}, {"text": "y" * 501}])
    def test_empty_or_bad_responses_get_400(self, cast, api, body):
        checkin_id = put_checkin(api(cast.author)).json()["id"]
        assert self.respond(api(cast.partner), checkin_id, **body).status_code == 400


class TestDashboardApi:
    def test_it_carries_today_moods_counts_and_the_slots(self, cast, same_couple_day, api):
        put_checkin(api(cast.author), mood=5)
        put_checkin(api(cast.partner), mood=2)
        body = api(cast.author).get("/api/v1/dashboard").json()
        assert body["couple"]["partner"]["display_name"] == "Sam"
        assert body["checkins"]["mine"]["mood"] == 5
        assert body["checkins"]["partner"]["mood"] == 2
        assert len(body["moods"]) == 30
        assert body["days_both_showed_up"] == {"this_month": 1, "all_time": 1}
        assert body["question"]["state"] == "unanswered"
        assert body["question"]["partner_answer"] is None
        assert body["freshness"]["mine"] == {"stale": 0, "total": 0}

    def test_unpaired_people_get_their_own_data_only(self, cast, api):
        put_checkin(api(cast.unpaired), mood=3)
        body = api(cast.unpaired).get("/api/v1/dashboard").json()
        assert body["couple"] is None
        assert body["days_both_showed_up"] is None
        assert body["checkins"]["mine"]["mood"] == 3
        assert {day["partner"] for day in body["moods"]} == {None}

    def test_couple_content_is_never_cached(self, cast, api):
        assert api(cast.author).get("/api/v1/dashboard")["Cache-Control"] == "no-store"


@pytest.mark.parametrize("query", ["form=2026-01-01", "page_size=", "page_size=0", "page=0"])
def test_unknown_empty_or_out_of_range_list_parameters_get_400(cast, api, query):
    response = api(cast.author).get(f"/api/v1/checkins?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


@pytest.mark.parametrize("mood", ["3", 3.0, True])
def test_a_mood_that_is_not_a_json_integer_is_refused(cast, api, mood):
    """`true` used to be read as mood 1, and "3" as 3; the schema says integer."""
    response = api(cast.author).put("/api/v1/checkins/today", {"mood": mood}, format="json")
    assert response.status_code == 400
    assert "mood" in response.json()


class TestPastDaysStayClosed:
    def test_a_zone_change_that_moves_today_back_cannot_reach_a_past_day(self, cast, api):
        # 03:00 UTC on Monday 7 December is 16:00 on Sunday in Pago Pago (UTC-11).
        robin = api(cast.unpaired)
        cast.unpaired.timezone = "UTC"
        cast.unpaired.save()
        with time_machine.travel("2026-12-07 03:00:00Z", tick=False):
            assert put_checkin(robin, mood=4).status_code == 201
            changed = robin.patch("/api/v1/me", {"timezone": "Pacific/Pago_Pago"}, format="json")
            assert changed.status_code == 200
            response = put_checkin(robin, mood=1)
            page = Client()
            page.force_login(cast.unpaired)
            form = page.post("/checkin/", {"mood": "2", "visibility": "shared"})
        assert response.status_code == 409
        assert "Monday 7 December" in response.json()["detail"]
        assert "Past days can&#x27;t be changed" in form.content.decode()
        assert list(Checkin.objects.values_list("local_date", "mood")) == [(date(2026, 12, 7), 4)]
