"""Who is eligible for each nudge kind (the checks the feature apps register), what
each check costs, the `partner_answered` event, the activity mark, and one tick end to
end with the real checks.

Time is frozen at NOW for every test (the cast is created then too): Friday 1 May
for everyone. 11:30 in Auckland (the author, and the cast couple's shared zone), 00:30
in London (the other couple) and 16:30 on Thursday in Los Angeles (the partner), whose
Thursday belongs to the couple's Friday (docs/days.md). Before noon in every shared
zone, so a sweep at NOW assigns the question of the couple day everyone is living.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from checkins.models import Visibility
from checkins.services import checkin_submit
from lovemaps.services import lovemap_answer, lovemap_confirm, lovemap_reveal
from nuzzle.couples.models import User
from nuzzle.couples.services import couple_end
from nuzzle.lib.errors import NotFound
from nuzzle.lib.timezones import local_date, local_day_for
from nuzzle.nudges import kinds
from nuzzle.nudges.kinds import Kind, Recipient
from nuzzle.nudges.models import Nudge, NudgePreferences, NudgeSchedule
from nuzzle.nudges.planning import nudges_tick
from nuzzle.nudges.services import activity_note
from prompts.assignment import closes_at_for
from prompts.models import DailyQuestion, Prompt
from prompts.services import question_answer, question_pass, question_react
from prompts.sweep import daily_question_sweep
from tests.factories import (
    PASSWORD,
    PromptFactory,
    as_prompt,
    couple_of,
    new_checkin,
    new_daily_question,
    new_user,
)
from tests.queries import capture_queries

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 4, 30, 23, 30, tzinfo=UTC)
TODAY = date(2026, 5, 1)  # the couple day of all of them


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    # Autouse fixtures come first, so the cast is created at NOW as well.
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def bank() -> list[Prompt]:
    return [as_prompt(prompt) for prompt in PromptFactory.create_batch(8)]


@pytest.fixture
def topics() -> list[Prompt]:
    return [
        as_prompt(
            PromptFactory(kind=Prompt.Kind.LOVEMAP, domain=Prompt.Domain.JOYS, half_life_days=14)
        )
        for _ in range(3)
    ]


def fresh(user: User) -> User:
    """The user again, without a cached couple context."""
    return User.objects.get(pk=user.pk)


def asked(*users: User, now: datetime = NOW) -> list[Recipient]:
    return [Recipient(user.pk, local_date(user.timezone, now)) for user in users]


def everyone(cast) -> list[Recipient]:
    return asked(cast.author, cast.partner, cast.other, cast.other_partner, cast.unpaired)


def check(kind: Kind, recipients: list[Recipient], now: datetime = NOW) -> dict[int, dict]:
    """Ask the check the owning app registered (not the function directly: this also
    proves it is registered)."""
    return kinds.eligible(kind.value, recipients, now)


def todays_question(couple) -> DailyQuestion:
    return DailyQuestion.objects.get(
        couple=couple, couple_date=TODAY, status=DailyQuestion.Status.OPEN
    )


def partner_answered_due(user: User) -> datetime | None:
    return NudgeSchedule.objects.get(user=user, kind=Kind.PARTNER_ANSWERED).next_due_at


# --- question_ready ---------------------------------------------------------------------


class TestQuestionReady:
    def test_it_asks_whoever_has_not_answered_todays_question_yet(self, cast, bank):
        daily_question_sweep(now=NOW)
        question_answer(user=cast.partner, question_id=todays_question(cast.couple).pk, text="Hi")
        assert check(Kind.QUESTION_READY, everyone(cast)) == {
            cast.author.pk: {"partner_answered": True},
            cast.other.pk: {"partner_answered": False},
            cast.other_partner.pk: {"partner_answered": False},
        }

    def test_nobody_is_asked_before_the_couple_has_a_question_today(self, cast, bank):
        daily_question_sweep(now=NOW - timedelta(days=1))  # yesterday's is still open
        assert check(Kind.QUESTION_READY, everyone(cast)) == {}

    def test_a_passed_question_does_not_count_but_its_replacement_does(self, cast, bank):
        daily_question_sweep(now=NOW)
        question_pass(user=cast.author, question_id=todays_question(cast.couple).pk)
        replacement = todays_question(cast.couple)
        question_answer(user=cast.author, question_id=replacement.pk, text="Done")
        assert check(Kind.QUESTION_READY, asked(cast.author, cast.partner)) == {
            cast.partner.pk: {"partner_answered": True}
        }
        replacement.status = DailyQuestion.Status.PASSED  # as if passed with none to follow
        replacement.save()
        assert check(Kind.QUESTION_READY, asked(cast.author, cast.partner)) == {}

    def test_a_closed_question_asks_nobody(self, cast, bank):
        daily_question_sweep(now=NOW)
        DailyQuestion.objects.update(closes_at=NOW)
        assert check(Kind.QUESTION_READY, everyone(cast)) == {}

    def test_after_unpairing_nobody_is_asked(self, cast, bank):
        daily_question_sweep(now=NOW)
        couple_end(user=fresh(cast.author))
        assert check(Kind.QUESTION_READY, asked(cast.author, cast.partner)) == {}

    def test_it_never_assigns_a_question(self, cast, bank):
        check(Kind.QUESTION_READY, everyone(cast))
        assert not DailyQuestion.objects.exists()


# --- partner_answered -------------------------------------------------------------------


class TestPartnerAnswered:
    def test_it_tells_me_my_partner_answered_and_later_that_it_is_revealed(self, cast, bank):
        daily_question_sweep(now=NOW)
        question = todays_question(cast.couple)
        assert check(Kind.PARTNER_ANSWERED, everyone(cast)) == {}
        question_answer(user=cast.partner, question_id=question.pk, text="Mine first")
        assert check(Kind.PARTNER_ANSWERED, everyone(cast)) == {cast.author.pk: {"revealed": False}}
        question_answer(user=cast.author, question_id=question.pk, text="Then mine")
        assert check(Kind.PARTNER_ANSWERED, asked(cast.author, cast.partner)) == {
            cast.author.pk: {"revealed": True},
            cast.partner.pk: {"revealed": True},  # I had answered first: now revealed
        }

    def test_an_answer_to_an_earlier_question_still_open_counts(self, cast, bank):
        daily_question_sweep(now=NOW - timedelta(days=1))
        daily_question_sweep(now=NOW)
        yesterday = DailyQuestion.objects.get(couple=cast.couple, couple_date=TODAY - timedelta(1))
        question_answer(user=cast.partner, question_id=yesterday.pk, text="Late")
        assert check(Kind.PARTNER_ANSWERED, asked(cast.author)) == {
            cast.author.pk: {"revealed": False}
        }

    def test_an_answer_to_a_question_that_has_closed_tells_no_one(self, cast, bank):
        daily_question_sweep(now=NOW)
        question = todays_question(cast.couple)
        question_answer(user=cast.partner, question_id=question.pk, text="Alone")
        later = closes_at_for(TODAY, cast.couple.timezone) + timedelta(minutes=1)
        assert check(Kind.PARTNER_ANSWERED, asked(cast.author, now=later), later) == {}

    def test_unpaired_people_are_never_eligible(self, cast, bank):
        assert check(Kind.PARTNER_ANSWERED, asked(cast.unpaired)) == {}


# --- checkin_reminder -------------------------------------------------------------------


class TestCheckinReminder:
    def test_it_reminds_whoever_has_not_checked_in_on_their_own_today(self, cast):
        checkin_submit(user=cast.author, mood=4)
        new_checkin(
            author=cast.other, couple=cast.other_couple, local_date=TODAY - timedelta(1), mood=3
        )
        assert check(Kind.CHECKIN_REMINDER, everyone(cast)) == {
            cast.partner.pk: {},
            cast.other.pk: {},  # yesterday's check-in is not today's
            cast.other_partner.pk: {},
            cast.unpaired.pk: {},
        }

    def test_a_private_check_in_counts_as_checked_in(self, cast):
        checkin_submit(user=cast.partner, mood=2, visibility=Visibility.PRIVATE)
        assert check(Kind.CHECKIN_REMINDER, asked(cast.partner)) == {}


# --- love maps ----------------------------------------------------------------------------


class TestLovemapStale:
    def test_it_counts_my_answers_past_their_half_life_until_i_confirm_them(self, cast, topics):
        with time_machine.travel(NOW - timedelta(days=30), tick=False):
            lovemap_answer(user=cast.author, topic_id=topics[0].pk, text="Old")
            lovemap_answer(user=cast.author, topic_id=topics[1].pk, text="Also old")
        lovemap_answer(user=cast.author, topic_id=topics[2].pk, text="Fresh")
        lovemap_answer(user=cast.unpaired, topic_id=topics[2].pk, text="Fresh too")
        assert check(Kind.LOVEMAP_STALE, everyone(cast)) == {cast.author.pk: {"stale": 2}}
        lovemap_confirm(user=cast.author, topic_id=topics[0].pk)
        assert check(Kind.LOVEMAP_STALE, everyone(cast)) == {cast.author.pk: {"stale": 1}}


class TestLovemapCatchup:
    def test_it_counts_partner_answers_new_or_changed_since_i_looked(self, cast, topics):
        lovemap_answer(user=cast.author, topic_id=topics[0].pk, text="One")
        lovemap_answer(user=cast.author, topic_id=topics[1].pk, text="Two")
        lovemap_answer(user=cast.other, topic_id=topics[0].pk, text="Elsewhere")
        assert check(Kind.LOVEMAP_CATCHUP, everyone(cast)) == {
            cast.partner.pk: {"updates": 2},
            cast.other_partner.pk: {"updates": 1},
        }
        lovemap_reveal(user=cast.partner, topic_id=topics[0].pk)
        assert check(Kind.LOVEMAP_CATCHUP, asked(cast.partner)) == {cast.partner.pk: {"updates": 1}}
        lovemap_reveal(user=cast.partner, topic_id=topics[1].pk)
        assert check(Kind.LOVEMAP_CATCHUP, asked(cast.partner)) == {}
        lovemap_answer(user=cast.author, topic_id=topics[1].pk, text="Two, changed")
        assert check(Kind.LOVEMAP_CATCHUP, asked(cast.partner)) == {cast.partner.pk: {"updates": 1}}

    def test_an_unpaired_persons_answers_reach_no_one(self, cast, topics):
        lovemap_answer(user=cast.unpaired, topic_id=topics[0].pk, text="Alone")
        assert check(Kind.LOVEMAP_CATCHUP, everyone(cast)) == {}


# --- weekly_recap ---------------------------------------------------------------------------


def checked_in(user: User, couple, day: date, visibility: str = Visibility.SHARED) -> None:
    """A check-in toward the couple day `day`, on the author's own day that belongs to
    it (their local date when unpaired)."""
    new_checkin(
        author=user,
        couple=couple,
        local_date=local_day_for(day, user.timezone, couple.timezone) if couple else day,
        couple_date=day,
        mood=3,
        visibility=visibility,
    )


def revealed(couple, prompt: Prompt, day: date, at: datetime) -> None:
    new_daily_question(
        couple=couple,
        prompt=prompt,
        couple_date=day,
        closes_at=closes_at_for(day, couple.timezone),
        revealed_at=at,
    )


class TestWeeklyRecap:
    def test_it_counts_each_persons_last_seven_local_days(self, cast, bank, topics):
        couple, days = cast.couple, [TODAY - timedelta(days=n) for n in range(10)]
        for person in (cast.author, cast.partner):
            checked_in(person, couple, days[0])  # today: counts
            checked_in(person, couple, days[1])  # counts
            checked_in(person, couple, days[7])  # eight days ago: outside the week
        checked_in(cast.author, couple, days[2])
        checked_in(cast.partner, couple, days[2], Visibility.PRIVATE)  # private: never counts
        checked_in(cast.author, couple, days[3])  # only one of them
        revealed(couple, bank[0], days[4], datetime(2026, 4, 27, 20, 0, tzinfo=UTC))
        revealed(couple, bank[1], days[9], datetime(2026, 4, 23, 9, 0, tzinfo=UTC))
        # Friday 24 April at 03:00 in Los Angeles (in the partner's week, which began at
        # its midnight), 22:00 in Auckland (before the author's week began).
        revealed(couple, bank[2], days[7], datetime(2026, 4, 24, 10, 0, tzinfo=UTC))
        with time_machine.travel(NOW - timedelta(days=3), tick=False):
            lovemap_answer(user=cast.partner, topic_id=topics[0].pk, text="New")
            lovemap_answer(user=cast.author, topic_id=topics[2].pk, text="Mine")
        with time_machine.travel(NOW - timedelta(days=2), tick=False):
            lovemap_answer(user=cast.partner, topic_id=topics[0].pk, text="New, changed")
        with time_machine.travel(NOW - timedelta(days=10), tick=False):
            lovemap_answer(user=cast.partner, topic_id=topics[1].pk, text="Long ago")
        assert check(Kind.WEEKLY_RECAP, everyone(cast)) == {
            cast.author.pk: {"days_together": 2, "questions_revealed": 1, "lovemap_updates": 1},
            cast.partner.pk: {"days_together": 2, "questions_revealed": 2, "lovemap_updates": 1},
        }

    def test_there_is_no_empty_recap_and_nothing_private_shows_through(self, cast):
        checked_in(cast.author, cast.couple, TODAY)
        checked_in(cast.partner, cast.couple, TODAY, Visibility.PRIVATE)
        checked_in(cast.unpaired, None, TODAY)
        assert check(Kind.WEEKLY_RECAP, everyone(cast)) == {}

    def test_unpaired_people_get_no_recap(self, cast, topics):
        checked_in(cast.unpaired, None, TODAY)
        lovemap_answer(user=cast.unpaired, topic_id=topics[0].pk, text="Mine")
        assert check(Kind.WEEKLY_RECAP, asked(cast.unpaired)) == {}


# --- Cost: a fixed number of queries per batch ------------------------------------------


@pytest.fixture
def crowd(bank, topics) -> list[User]:
    """Ten couples with something for every kind: today's question answered by one of
    each pair, a stale love-map answer the partner has not seen, and check-ins shared by
    both on the last three days."""
    people: list[User] = []
    for _ in range(10):
        first, second = new_user(), new_user()
        couple = couple_of(first, second)
        for offset in (1, 2, 3):
            checked_in(first, couple, TODAY - timedelta(days=offset))
            checked_in(second, couple, TODAY - timedelta(days=offset))
        with time_machine.travel(NOW - timedelta(days=30), tick=False):
            lovemap_answer(user=first, topic_id=topics[0].pk, text="Old")
        people += [first, second]
    daily_question_sweep(now=NOW)
    for first in people[::2]:
        question = DailyQuestion.objects.get(couple__memberships__user=first)
        question_answer(user=first, question_id=question.pk, text="Answered")
    return people


QUERIES = {
    Kind.QUESTION_READY: 1,  # pairs with their open questions and who answered
    Kind.PARTNER_ANSWERED: 1,  # the same one
    Kind.CHECKIN_REMINDER: 1,
    Kind.LOVEMAP_STALE: 1,
    Kind.LOVEMAP_CATCHUP: 1,
    Kind.WEEKLY_RECAP: 4,  # couples, check-ins, reveals, love-map versions
}


@pytest.mark.parametrize("kind", list(QUERIES))
def test_each_check_costs_the_same_for_2_or_20_people(crowd, kind):
    def cost(people: list[User]) -> tuple[int, int]:
        queries = capture_queries(lambda: check(kind, asked(*people)))
        return len(queries), len(queries.result)

    few, found_few = cost(crowd[:2])
    many, found_many = cost(crowd)
    assert found_few > 0
    assert found_many == 10 * found_few  # the checks had real work to do
    assert few == many == QUERIES[kind]


# --- The partner_answered event ------------------------------------------------------------


class TestPartnerAnsweredEvent:
    def test_a_first_answer_makes_the_partner_due_at_their_nudge_time(self, cast, bank):
        daily_question_sweep(now=NOW)
        question_answer(user=cast.author, question_id=todays_question(cast.couple).pk, text="Hi")
        # 19:00 on the same evening in Los Angeles, the partner's zone (PDT: UTC-7).
        assert partner_answered_due(cast.partner) == datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
        assert partner_answered_due(cast.author) is None
        assert partner_answered_due(cast.other) is None

    def test_a_rolled_back_answer_tells_no_one(self, cast, bank):
        daily_question_sweep(now=NOW)
        question = todays_question(cast.couple)

        def answer_then_fail() -> None:
            with transaction.atomic():
                question_answer(user=cast.author, question_id=question.pk, text="Hi")
                raise RuntimeError("the request failed after the answer")

        with pytest.raises(RuntimeError):
            answer_then_fail()
        assert partner_answered_due(cast.partner) is None
        assert not question.answers.exists()

    def test_an_edit_is_not_news(self, cast, bank):
        daily_question_sweep(now=NOW)
        question = todays_question(cast.couple)
        question_answer(user=cast.author, question_id=question.pk, text="Hi")
        NudgeSchedule.objects.filter(kind=Kind.PARTNER_ANSWERED).update(next_due_at=None)
        _, created = question_answer(user=cast.author, question_id=question.pk, text="Hello")
        assert not created
        assert partner_answered_due(cast.partner) is None

    def test_an_unpaired_person_cannot_answer_and_nobody_hears_of_it(self, cast, bank):
        daily_question_sweep(now=NOW)
        with pytest.raises(NotFound):
            question_answer(
                user=cast.unpaired, question_id=todays_question(cast.couple).pk, text="Hi"
            )
        assert not NudgeSchedule.objects.filter(
            kind=Kind.PARTNER_ANSWERED, next_due_at__isnull=False
        ).exists()


# --- Activity --------------------------------------------------------------------------------


def last_active(user: User) -> datetime:
    return NudgePreferences.objects.get(user=user).last_active_at


def quiet_since(user: User, when: datetime) -> None:
    NudgePreferences.objects.filter(user=user).update(last_active_at=when)


def test_the_activity_mark_moves_at_most_hourly(cast):
    quiet_since(cast.author, NOW - timedelta(minutes=59))
    activity_note(user_id=cast.author.pk, now=NOW)
    assert last_active(cast.author) == NOW - timedelta(minutes=59)
    quiet_since(cast.author, NOW - timedelta(minutes=61))
    activity_note(user_id=cast.author.pk, now=NOW)
    assert last_active(cast.author) == NOW


def test_every_main_write_counts_as_activity(cast, bank, topics):
    def moves(user: User, write: Callable[[], object]) -> bool:
        quiet_since(user, NOW - timedelta(days=3))
        write()
        return last_active(user) == NOW

    daily_question_sweep(now=NOW)
    author, partner = cast.author, cast.partner
    first = todays_question(cast.couple).pk
    assert moves(author, lambda: checkin_submit(user=author, mood=4))
    assert moves(author, lambda: question_pass(user=author, question_id=first))
    question = todays_question(cast.couple).pk
    assert moves(author, lambda: question_answer(user=author, question_id=question, text="A"))
    assert moves(partner, lambda: question_answer(user=partner, question_id=question, text="B"))
    assert moves(
        author, lambda: question_react(user=author, question_id=question, reaction="heart")
    )
    topic = topics[0].pk
    assert moves(author, lambda: lovemap_answer(user=author, topic_id=topic, text="Me"))
    assert moves(author, lambda: lovemap_answer(user=author, topic_id=topic, text="Me"))  # same
    assert moves(author, lambda: lovemap_confirm(user=author, topic_id=topic))
    assert moves(partner, lambda: lovemap_reveal(user=partner, topic_id=topic))


def test_a_failed_write_is_not_activity(cast, bank):
    quiet_since(cast.unpaired, NOW - timedelta(days=3))
    daily_question_sweep(now=NOW)
    with pytest.raises(NotFound):
        question_answer(user=cast.unpaired, question_id=todays_question(cast.couple).pk, text="x")
    assert last_active(cast.unpaired) == NOW - timedelta(days=3)


def test_an_api_token_log_in_counts_as_activity(cast, api):
    quiet_since(cast.author, NOW - timedelta(days=3))
    response = api().post(
        "/api/v1/auth/token", {"email": cast.author.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    assert last_active(cast.author) == NOW
    assert fresh(cast.author).last_login == NOW  # Django's own receiver runs too


def test_a_refused_api_log_in_is_not_activity(cast, api):
    quiet_since(cast.author, NOW - timedelta(days=3))
    response = api().post(
        "/api/v1/auth/token", {"email": cast.author.email, "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert last_active(cast.author) == NOW - timedelta(days=3)


# --- End to end: the tick with the checks the apps registered ------------------------------


def test_at_the_nudge_time_the_tick_asks_only_whoever_has_not_answered(bank):
    created = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)  # 09:00 in London; nudges at 19:00
    with time_machine.travel(created, tick=False):
        answered, partner = new_user(), new_user()
        waiting, waiting_partner = new_user(), new_user()
        couple_of(answered, partner)
        couple_of(waiting, waiting_partner)
        daily_question_sweep(now=created)
        question = DailyQuestion.objects.get(couple__memberships__user=answered)
        question_answer(user=answered, question_id=question.pk, text="Done early")
    nudge_time = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)  # 19:00 BST
    with time_machine.travel(nudge_time, tick=False):
        nudges_tick(now=nudge_time)
    planned = {
        (nudge.user_id, nudge.kind): nudge
        for nudge in Nudge.objects.filter(status=Nudge.Status.PENDING)
    }
    assert (answered.pk, Kind.QUESTION_READY) not in planned
    for person in (waiting, waiting_partner):
        nudge = planned[(person.pk, Kind.QUESTION_READY)]
        assert nudge.context == {"partner_answered": False}
        assert nudge.local_date == TODAY
    # The answered person's partner hears of the answer first (it outranks the question
    # under the daily cap of one), so their question_ready waits.
    assert planned[(partner.pk, Kind.PARTNER_ANSWERED)].context == {"revealed": False}
    assert (partner.pk, Kind.QUESTION_READY) not in planned
