from datetime import date

import pytest
import time_machine

from checkins.models import Checkin, CheckinResponse
from checkins.services import AnswerInput, checkin_respond, checkin_submit
from nuzzle.couples.models import User
from nuzzle.couples.services import couple_end, invite_accept, invite_create
from nuzzle.lib.errors import Invalid, NotFound
from tests.checkins.helpers import todays_question_ids
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    return User.objects.get(pk=user.pk)


class TestSubmit:
    def test_the_first_submit_creates_and_the_next_updates_the_same_row(self, cast):
        q1, q2, _ = todays_question_ids(cast.author)
        first = checkin_submit(user=cast.author, mood=2, answers=[AnswerInput(q1, "Tired")])
        second = checkin_submit(
            user=cast.author, mood=4, energy=5, answers=[AnswerInput(q2, "Better now")]
        )
        assert first.created
        assert not second.created
        assert first.checkin.pk == second.checkin.pk
        checkin = Checkin.objects.get()
        assert (checkin.mood, checkin.energy) == (4, 5)
        assert [a.text for a in checkin.answers.all()] == ["Better now"]
        assert checkin.couple == cast.couple

    def test_a_check_in_at_2359_and_at_0001_local_fall_on_different_days(self, cast):
        cast.author.timezone = "America/New_York"
        cast.author.save()
        with time_machine.travel("2026-06-01 03:59:00Z", tick=False):  # 23:59 in New York
            late = checkin_submit(user=fresh(cast.author), mood=3)
        with time_machine.travel("2026-06-01 04:01:00Z", tick=False):  # 00:01 next day
            early = checkin_submit(user=fresh(cast.author), mood=4)
        assert late.checkin.local_date == date(2026, 5, 31)
        assert early.checkin.local_date == date(2026, 6, 1)
        assert early.created

    def test_partners_in_different_zones_each_get_their_own_day(self, cast):
        cast.author.timezone = "Pacific/Auckland"
        cast.author.save()
        cast.partner.timezone = "America/Los_Angeles"
        cast.partner.save()
        with time_machine.travel("2026-03-10 20:00:00Z", tick=False):
            mine = checkin_submit(user=fresh(cast.author), mood=3).checkin
            theirs = checkin_submit(user=fresh(cast.partner), mood=3).checkin
        assert mine.local_date == date(2026, 3, 11)  # Auckland is already tomorrow
        assert theirs.local_date == date(2026, 3, 10)

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"mood": 0}, "mood"),
            ({"mood": 6}, "mood"),
            ({"mood": 3, "energy": 9}, "energy"),
            ({"mood": 3, "visibility": "public"}, "visibility"),
        ],
    )
    def test_out_of_range_input_is_refused_and_nothing_is_stored(self, cast, fields, field):
        with pytest.raises(Invalid) as caught:
            checkin_submit(user=cast.author, **fields)
        assert field in caught.value.by_field()
        assert not Checkin.objects.exists()

    def test_answers_must_be_to_todays_questions_once_each(self, cast):
        q1, *_ = todays_question_ids(cast.author)
        for answers in (
            [AnswerInput(999_999, "hm")],
            [AnswerInput(q1, "a"), AnswerInput(q1, "b")],
        ):
            with pytest.raises(Invalid) as caught:
                checkin_submit(user=cast.author, mood=3, answers=answers)
            assert "answers" in caught.value.by_field()
        assert not Checkin.objects.exists()

    def test_an_overlong_answer_or_control_characters_store_nothing(self, cast):
        q1, *_ = todays_question_ids(cast.author)
        for text in ("x" * 501, "bell\x07"):
            with pytest.raises(Invalid):
                checkin_submit(user=cast.author, mood=3, answers=[AnswerInput(q1, text)])
        assert not Checkin.objects.exists()

    def test_blank_answers_are_dropped(self, cast):
        q1, q2, _ = todays_question_ids(cast.author)
        result = checkin_submit(
            user=cast.author, mood=3, answers=[AnswerInput(q1, "  "), AnswerInput(q2, " ok ")]
        )
        assert [a.text for a in result.checkin.answers.all()] == ["ok"]

    def test_a_solo_check_in_joins_the_couple_formed_later_that_day(self):
        inviter, joiner = UserFactory(), UserFactory()
        solo = checkin_submit(user=joiner, mood=3).checkin
        assert solo.couple is None
        couple = invite_accept(user=joiner, code=invite_create(user=inviter).code)
        checkin_submit(user=fresh(joiner), mood=4)
        solo.refresh_from_db()
        assert solo.couple == couple

    def test_a_check_in_never_moves_to_a_later_couple(self, cast):
        written = checkin_submit(user=cast.author, mood=3).checkin
        couple_end(user=cast.author)
        new_couple = invite_accept(
            user=cast.unpaired, code=invite_create(user=fresh(cast.author)).code
        )
        checkin_submit(user=fresh(cast.author), mood=5)
        written.refresh_from_db()
        assert written.couple == cast.couple != new_couple


class TestRespond:
    def test_the_partner_responds_and_a_second_response_updates_it(self, cast):
        checkin = checkin_submit(user=cast.author, mood=4).checkin
        checkin_respond(user=cast.partner, checkin_id=checkin.pk, reaction="hug")
        checkin_respond(user=cast.partner, checkin_id=checkin.pk, text="Proud of you")
        response = CheckinResponse.objects.get()
        assert (response.reaction, response.text) == ("hug", "Proud of you")

    def test_you_cannot_respond_to_your_own_check_in(self, cast):
        checkin = checkin_submit(user=cast.author, mood=4).checkin
        with pytest.raises(Invalid):
            checkin_respond(user=cast.author, checkin_id=checkin.pk, reaction="heart")

    @pytest.mark.parametrize("who", ["other", "unpaired"])
    def test_another_couples_check_in_is_not_found(self, cast, who):
        checkin = checkin_submit(user=cast.author, mood=4).checkin
        with pytest.raises(NotFound):
            checkin_respond(user=getattr(cast, who), checkin_id=checkin.pk, reaction="heart")

    def test_a_private_check_in_is_not_found_for_the_partner(self, cast):
        checkin = checkin_submit(user=cast.author, mood=4, visibility="private").checkin
        with pytest.raises(NotFound):
            checkin_respond(user=cast.partner, checkin_id=checkin.pk, reaction="heart")

    def test_after_unpairing_the_old_partner_can_no_longer_respond(self, cast):
        checkin = checkin_submit(user=cast.author, mood=4).checkin
        couple_end(user=cast.author)
        with pytest.raises(NotFound):
            checkin_respond(user=fresh(cast.partner), checkin_id=checkin.pk, reaction="heart")

    @pytest.mark.parametrize(
        "fields", [{}, {"reaction": "shrug"}, {"text": "x" * 501}, {"text": "\x00"}]
    )
    def test_empty_unknown_or_overlong_responses_store_nothing(self, cast, fields):
        checkin = checkin_submit(user=cast.author, mood=4).checkin
        with pytest.raises(Invalid):
            checkin_respond(user=cast.partner, checkin_id=checkin.pk, **fields)
        assert not CheckinResponse.objects.exists()
