"""The daily question: the sweep, first-view assignment, answers and the reveal,
passing, reactions and quiet closing."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from nuzzle.couples.models import User
from nuzzle.lib.errors import Conflict, Invalid, NotFound
from nuzzle.lib.timezones import local_midnight
from prompts.assignment import closes_at_for
from prompts.models import DailyQuestion, QuestionAnswer, QuestionSchedule
from prompts.selectors import question_view_today
from prompts.services import (
    daily_question_ensure,
    question_answer,
    question_pass,
    question_react,
)
from prompts.sweep import daily_question_sweep
from tests.factories import PromptFactory, UserFactory, couple_of
from tests.queries import assert_num_queries, assert_queries_do_not_grow, capture_queries

pytestmark = pytest.mark.django_db


def fresh(user):
    return User.objects.get(pk=user.pk)


@pytest.fixture
def bank():
    return PromptFactory.create_batch(8)


class TestSweep:
    def test_it_assigns_each_couple_one_question_and_running_twice_assigns_once(self, cast, bank):
        with time_machine.travel("2026-05-01 12:00:00Z", tick=False):
            first = daily_question_sweep()
            second = daily_question_sweep()
        assert first.couples == 2
        assert second.couples == 0
        assert DailyQuestion.objects.count() == 2

    def test_even_when_schedules_are_reset_it_never_doubles_a_couple_day(self, cast, bank):
        with time_machine.travel("2026-05-01 12:00:00Z", tick=False):
            daily_question_sweep()
            QuestionSchedule.objects.all().delete()  # e.g. a second beat racing the first
            daily_question_sweep()
        assert DailyQuestion.objects.count() == 2

    def test_a_couple_day_is_assigned_twelve_hours_before_it_begins_in_the_shared_zone(
        self, cast, bank
    ):
        cast.couple.timezone = "Asia/Tokyo"
        cast.couple.save()
        with time_machine.travel("2026-05-01 02:00:00Z", tick=False):  # 11:00 in Tokyo
            daily_question_sweep()
        schedule = QuestionSchedule.objects.get(couple=cast.couple)
        assert schedule.due_at == datetime(2026, 5, 1, 3, 0, tzinfo=UTC)  # 12:00 Tokyo
        with time_machine.travel("2026-05-01 02:59:00Z", tick=False):
            assert daily_question_sweep().couples == 0
        with time_machine.travel("2026-05-01 03:00:00Z", tick=False):
            assert daily_question_sweep().couples == 1
        dates = sorted(
            DailyQuestion.objects.filter(couple=cast.couple).values_list("couple_date", flat=True)
        )
        assert [str(d) for d in dates] == ["2026-05-01", "2026-05-02"]

    def test_a_partner_whose_day_begins_first_finds_the_question_waiting(self, cast, bank):
        # Auckland's Monday 7 December begins at 11:00 UTC on Sunday; Sam's Sunday in Los
        # Angeles, which belongs to it, began at 08:00 UTC. The sweep of 23:00 UTC on
        # Saturday (Sunday noon in Auckland) has assigned it by then.
        with time_machine.travel("2026-12-05 23:00:00Z", tick=False):
            daily_question_sweep()
        with time_machine.travel("2026-12-06 08:00:00Z", tick=False):
            view = question_view_today(user=fresh(cast.partner))
            assert daily_question_sweep().couples == 0
        assert view is not None
        assert (view.date, view.day) == (date(2026, 12, 7), date(2026, 12, 6))

    def test_questions_close_quietly_after_three_couple_days(self, cast, bank):
        cast.couple.timezone = "Europe/London"
        cast.couple.save()
        with time_machine.travel("2026-05-01 08:00:00Z", tick=False):
            daily_question_sweep()
        question = DailyQuestion.objects.get(couple=cast.couple)
        assert question.closes_at == datetime(2026, 5, 3, 23, 0, tzinfo=UTC)  # BST midnight
        with time_machine.travel("2026-05-03 22:59:59Z", tick=False):
            assert daily_question_sweep().closed == 0
        with time_machine.travel("2026-05-03 23:00:00Z", tick=False):
            assert daily_question_sweep().closed == 2
        question.refresh_from_db()
        assert question.status == DailyQuestion.Status.CLOSED

    # A minute past the hour new couples are looked for among the newest, on the hour
    # among all (one query fewer): each holds whatever the number of couples. The clock
    # stands still, so both sweeps of a case are in the same minute.
    @pytest.mark.parametrize("at", ["2026-05-01 12:31:00Z", "2026-05-01 13:00:00Z"])
    def test_the_number_of_queries_does_not_grow_with_the_number_of_couples(self, bank, at):
        def sweep_queries():
            DailyQuestion.objects.all().delete()
            QuestionSchedule.objects.all().delete()
            with time_machine.travel(at, tick=False):
                return capture_queries(lambda: daily_question_sweep(batch_size=1000))

        def grow():
            for _ in range(45):
                couple_of(UserFactory(), UserFactory())

        for _ in range(5):
            couple_of(UserFactory(), UserFactory())
        assert_queries_do_not_grow(sweep_queries, grow)
        assert DailyQuestion.objects.count() == 50

    def test_midnight_that_does_not_exist_starts_the_day_at_the_first_real_instant(self):
        # Chile skips 00:00-01:00 when DST starts (2026-09-06 in America/Santiago).
        start = local_midnight(date(2026, 9, 6), "America/Santiago")
        assert start.astimezone(UTC) == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
        assert closes_at_for(date(2026, 9, 6), "America/Santiago") > start

    def test_ended_couples_get_no_questions(self, cast, bank):
        from nuzzle.couples.services import couple_end

        couple_end(user=cast.author)
        assert daily_question_sweep().couples == 1  # only the other couple


class TestFirstView:
    def test_first_view_assigns_when_the_sweep_has_not_run(self, cast, bank, same_couple_day):
        question = daily_question_ensure(user=cast.author)
        assert question is not None
        assert daily_question_ensure(user=fresh(cast.partner)) == question
        assert DailyQuestion.objects.count() == 1

    def test_the_unpaired_and_an_empty_bank_get_none(self, cast):
        assert daily_question_ensure(user=cast.unpaired) is None
        assert daily_question_ensure(user=cast.author) is None


class TestAnswering:
    @pytest.fixture
    def question(self, cast, bank):
        return daily_question_ensure(user=cast.author)

    def test_the_second_answer_reveals_exactly_once(self, cast, question):
        _, created = question_answer(user=cast.author, question_id=question.pk, text="Mine")
        assert created
        _, created = question_answer(user=cast.author, question_id=question.pk, text="Mine!")
        assert not created
        question.refresh_from_db()
        assert question.revealed_at is None
        question_answer(user=cast.partner, question_id=question.pk, text="Theirs")
        question.refresh_from_db()
        assert question.revealed_at is not None
        assert QuestionAnswer.objects.get(author=cast.author).text == "Mine!"

    def test_answers_are_frozen_after_the_reveal(self, cast, question):
        question_answer(user=cast.author, question_id=question.pk, text="Mine")
        question_answer(user=cast.partner, question_id=question.pk, text="Theirs")
        with pytest.raises(Conflict):
            question_answer(user=cast.author, question_id=question.pk, text="Changed")

    def test_a_closed_question_takes_no_answers(self, cast, question):
        with (
            time_machine.travel(question.closes_at + timedelta(seconds=1)),
            pytest.raises(Conflict),
        ):
            question_answer(user=cast.author, question_id=question.pk, text="Late")

    @pytest.mark.parametrize("who", ["other", "unpaired"])
    def test_another_couples_question_is_not_found(self, cast, question, who):
        with pytest.raises(NotFound):
            question_answer(user=getattr(cast, who), question_id=question.pk, text="Hi")

    def test_empty_overlong_or_control_character_answers_store_nothing(self, cast, question):
        for text in ("", "x" * 2001, "bad\x1b[31m"):
            with pytest.raises(Invalid):
                question_answer(user=cast.author, question_id=question.pk, text=text)
        assert not QuestionAnswer.objects.exists()

    def test_reactions_open_only_after_the_reveal(self, cast, question):
        with pytest.raises(Conflict):
            question_react(user=cast.author, question_id=question.pk, reaction="heart")
        question_answer(user=cast.author, question_id=question.pk, text="Mine")
        question_answer(user=cast.partner, question_id=question.pk, text="Theirs")
        question_react(user=cast.author, question_id=question.pk, reaction="heart")
        reaction = question_react(user=cast.author, question_id=question.pk, reaction="hug")
        assert reaction.reaction == "hug"
        assert question.reactions.count() == 1


class TestPassing:
    def test_pass_once_a_day_before_anyone_answered(self, cast, bank, same_couple_day):
        question = daily_question_ensure(user=cast.author)
        replacement = question_pass(user=cast.partner, question_id=question.pk)
        assert replacement.prompt_id != question.prompt_id
        assert replacement.couple_date == question.couple_date
        question.refresh_from_db()
        assert question.status == DailyQuestion.Status.PASSED
        with pytest.raises(Conflict, match="already passed"):
            question_pass(user=cast.author, question_id=replacement.pk)
        assert daily_question_ensure(user=fresh(cast.author)) == replacement

    def test_no_pass_once_someone_answered(self, cast, bank, same_couple_day):
        question = daily_question_ensure(user=cast.author)
        question_answer(user=cast.author, question_id=question.pk, text="Mine")
        with pytest.raises(Conflict, match="already answered"):
            question_pass(user=cast.partner, question_id=question.pk)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_both_partners_answering_at_the_same_moment_reveal_once(cast, bank):
    from tests.couples.test_concurrency import race

    question = daily_question_ensure(user=cast.author)
    outcomes = race(
        [
            lambda: question_answer(user=fresh(cast.author), question_id=question.pk, text="A"),
            lambda: question_answer(user=fresh(cast.partner), question_id=question.pk, text="B"),
        ]
    )
    assert outcomes == ["ok", "ok"]
    question.refresh_from_db()
    assert question.revealed_at is not None


def test_sensitive_questions_are_asked_only_when_both_opted_in(cast):
    from nuzzle.couples.services import user_update

    PromptFactory(sensitive=True)
    assert daily_question_ensure(user=cast.author) is None  # the only prompt is sensitive
    user_update(user=cast.author, allow_sensitive_questions=True)
    assert daily_question_ensure(user=fresh(cast.author)) is None  # one of two is not enough
    user_update(user=fresh(cast.partner), allow_sensitive_questions=True)
    question = daily_question_ensure(user=fresh(cast.author))
    assert question is not None
    assert question.prompt.sensitive


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_sweep_writes_from_a_second_connection_and_loses_nothing(
    bank, monkeypatch
):
    import threading

    from prompts import assignment

    writers = set()
    write = assignment.plan_write

    def spy(plan):
        writers.add(threading.current_thread().name)
        return write(plan)

    monkeypatch.setattr(assignment, "plan_write", spy)
    for _ in range(7):
        couple_of(UserFactory(), UserFactory())
    with time_machine.travel("2026-05-01 12:00:00Z", tick=False):
        result = daily_question_sweep(batch_size=2)
        assert daily_question_sweep(batch_size=2).couples == 0
    assert (result.couples, result.batches, result.assigned) == (7, 4, 7)
    assert DailyQuestion.objects.count() == QuestionSchedule.objects.count() == 7
    assert all(name.startswith("question-sweep") for name in writers)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_failed_write_stops_the_sweep_and_the_next_sweep_finishes_the_work(bank, monkeypatch):
    from prompts import assignment

    for _ in range(5):
        couple_of(UserFactory(), UserFactory())
    insert = assignment._questions_insert
    calls = []

    def failing(assignments):
        calls.append(len(assignments))
        if len(calls) == 2:
            raise RuntimeError("connection lost")
        return insert(assignments)

    monkeypatch.setattr(assignment, "_questions_insert", failing)
    with time_machine.travel("2026-05-01 12:00:00Z", tick=False):
        with pytest.raises(RuntimeError):
            daily_question_sweep(batch_size=2)
        assert DailyQuestion.objects.count() == 2  # the first batch, committed
        assert daily_question_sweep(batch_size=2).couples == 3
    assert DailyQuestion.objects.count() == 5


class TestWhoIsDue:
    def test_a_new_couple_is_found_in_any_minute(self, cast, bank):
        with time_machine.travel("2026-05-01 12:07:00Z", tick=False):
            assert daily_question_sweep().couples == 2
            couple_of(UserFactory(), UserFactory())
        with time_machine.travel("2026-05-01 12:08:00Z", tick=False):
            assert daily_question_sweep().couples == 1

    def test_a_couple_without_a_schedule_beyond_the_newest_is_found_at_the_top_of_the_hour(
        self, cast, bank, monkeypatch
    ):
        from prompts import sweep

        monkeypatch.setattr(sweep, "NEW_COUPLES_WINDOW", 1)
        with time_machine.travel("2026-05-01 12:07:00Z", tick=False):
            daily_question_sweep()
            QuestionSchedule.objects.filter(couple=cast.couple).delete()  # lost, somehow
            assert daily_question_sweep().couples == 0  # not among the newest one
        with time_machine.travel("2026-05-01 13:00:00Z", tick=False):
            assert daily_question_sweep().couples == 1
        assert DailyQuestion.objects.filter(couple=cast.couple).count() == 1  # same day

    def test_an_ended_couples_schedule_is_dropped_once_due_and_never_read_again(self, cast, bank):
        from nuzzle.couples.services import couple_end

        with time_machine.travel("2026-05-01 12:07:00Z", tick=False):
            daily_question_sweep()
        couple_end(user=cast.author)
        with time_machine.travel("2026-05-02 12:07:00Z", tick=False):
            assert daily_question_sweep().couples == 1
        assert not QuestionSchedule.objects.filter(couple=cast.couple).exists()

    def test_a_minute_with_nothing_due_costs_three_small_queries(self, cast, bank):
        with time_machine.travel("2026-05-01 12:07:00Z", tick=False):
            daily_question_sweep()
            # Closing, the newest couple, who is due.
            assert assert_num_queries(3, daily_question_sweep).couples == 0
