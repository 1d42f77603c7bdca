"""The history summary the sweep keeps on each couple's schedule row: reading it with
the last few days must give selection exactly what the whole history gives, through
answers, reveals, passes, curators' edits, zone changes, lost rows and racing sweeps."""

import contextlib
import random
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from nuzzle.couples.models import User
from nuzzle.lib.errors import Conflict
from prompts import assignment, selection, services, sweep
from prompts.history import EMPTY_HISTORY, Asked, HistorySummary, history_fold, unfolded_questions
from prompts.models import DailyQuestion, Prompt, QuestionSchedule
from tests.factories import PromptFactory, UserFactory, couple_of
from tests.queries import capture_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank():
    # Few enough to be exhausted within the test (the "start over" path), at every depth.
    return [PromptFactory(depth=1 + n % 3) for n in range(14)]


def fresh(user):
    return User.objects.get(pk=user.pk)


@pytest.fixture
def cast(cast):
    """The cast, living in London for these tests (they follow the sweep's own
    calendar, day by day; zones are moved explicitly where a test needs it)."""
    User.objects.filter(pk__in=[cast.author.pk, cast.partner.pk]).update(timezone="Europe/London")
    cast.couple.timezone = "Europe/London"
    cast.couple.save(update_fields=["timezone"])
    cast.author.refresh_from_db()
    cast.partner.refresh_from_db()
    return cast


def stored_summary(couple) -> HistorySummary:
    row = QuestionSchedule.objects.filter(couple=couple).values_list(
        "history_through", "history_answered", "history_asked", "history_recent"
    )
    return HistorySummary.from_db(*row[0]) if row else EMPTY_HISTORY


def as_read_by_the_sweep(couple, now) -> selection.CoupleHistory:
    summaries = {couple.pk: stored_summary(couple)}
    index = selection.CandidateIndex(assignment.question_candidates())
    return assignment._histories(summaries, now, index.by_id)[0][couple.pk]


def as_read_whole(couple, now) -> selection.CoupleHistory:
    return assignment.couple_histories([couple.pk], now=now)[couple.pk]


def same(a: selection.CoupleHistory, b: selection.CoupleHistory) -> bool:
    asked_a = a.asked_bits | selection.prompt_bits(a.asked)
    asked_b = b.asked_bits | selection.prompt_bits(b.asked)
    return (asked_a, a.recent_dimensions, a.answered, a.allow_sensitive, a.stalest_domain) == (
        asked_b,
        b.recent_dimensions,
        b.answered,
        b.allow_sensitive,
        b.stalest_domain,
    )


def live_question(couple, day):
    return DailyQuestion.objects.exclude(status=DailyQuestion.Status.PASSED).get(
        couple=couple, couple_date=day
    )


def a_day_of_life(cast, rng):
    """What a couple might do with today's question: answer both (the reveal), one of
    them, pass, or nothing. (After a flight back across the date line, today is a day
    they have had already: what they may no longer do is refused.)"""
    couple = cast.couple
    couple.refresh_from_db()
    question = live_question(couple, assignment.zone_day(couple.timezone, datetime.now(UTC)).day)
    roll = rng.random()
    with contextlib.suppress(Conflict):
        if roll < 0.15:
            question = services.question_pass(user=fresh(cast.author), question_id=question.pk)
            roll = rng.random()
        if roll < 0.6:
            services.question_answer(user=fresh(cast.author), question_id=question.pk, text="Mine")
            services.question_answer(
                user=fresh(cast.partner), question_id=question.pk, text="Yours"
            )
        elif roll < 0.75:
            services.question_answer(user=fresh(cast.author), question_id=question.pk, text="Me")


def test_for_sixty_days_the_summary_gives_selection_exactly_what_the_whole_history_gives(
    cast, bank
):
    rng = random.Random(8)
    start = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
    for day_number in range(60):
        now = start + timedelta(days=day_number)
        with time_machine.travel(now, tick=False):
            assert same(as_read_by_the_sweep(cast.couple, now), as_read_whole(cast.couple, now))
            sweep.daily_question_sweep()
            a_day_of_life(cast, rng)
            if day_number == 20:  # a curator moves a prompt the couple has seen
                asked = DailyQuestion.objects.filter(couple=cast.couple).order_by("-id")[6]
                Prompt.objects.filter(pk=asked.prompt_id).update(dimension="physical")
            if day_number == 30:  # ... and retires two (gone from the bank, still asked)
                asked = DailyQuestion.objects.filter(couple=cast.couple).order_by("-id")
                Prompt.objects.filter(pk__in=[asked[5].prompt_id, asked[6].prompt_id]).update(
                    status=Prompt.Status.RETIRED
                )
            if day_number in (35, 36, 45):  # the couple travels across the date line
                cast.couple.timezone = {35: "Pacific/Kiritimati", 36: "Pacific/Niue"}.get(
                    day_number, "Europe/London"
                )
                cast.couple.save(update_fields=["timezone"])
    summary = stored_summary(cast.couple)
    assert summary.through is not None
    assert summary.through > date(2026, 4, 20)  # it kept folding: days, not the history
    assert summary.answered > 20


def test_each_sweep_reads_only_the_last_days_and_folds_what_settled(cast, bank):
    start = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
    for day_number in range(20):
        with time_machine.travel(start + timedelta(days=day_number), tick=False):
            sweep.daily_question_sweep()
    summary = stored_summary(cast.couple)
    # Today is 03-20; the questions of 03-15 and before are folded (SETTLE_LAG_DAYS),
    # those of the last few days are not, settled or not.
    assert summary.through == date(2026, 3, 15)
    now = start + timedelta(days=20)
    unfolded = unfolded_questions({cast.couple.pk: summary}, settled_before=now)
    assert [row.couple_date for row in unfolded[cast.couple.pk]] == [
        date(2026, 3, d) for d in (20, 19, 18, 17, 16)
    ]


def test_a_lost_schedule_row_is_rebuilt_from_the_whole_history(cast, bank):
    start = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
    for day_number in range(12):
        with time_machine.travel(start + timedelta(days=day_number), tick=False):
            sweep.daily_question_sweep()
    before = stored_summary(cast.couple)
    QuestionSchedule.objects.all().delete()
    now = start + timedelta(days=12)
    with time_machine.travel(now, tick=False):
        assert same(as_read_by_the_sweep(cast.couple, now), as_read_whole(cast.couple, now))
        sweep.daily_question_sweep()
    after = stored_summary(cast.couple)
    assert after.through == before.through + timedelta(days=1)
    assert after.asked & before.asked == before.asked


def test_a_sweep_that_read_an_older_summary_writes_an_exact_one_not_a_double_count(cast, bank):
    start = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
    for day_number in range(10):
        now = start + timedelta(days=day_number)
        with time_machine.travel(now, tick=False):
            sweep.daily_question_sweep()
            question = live_question(cast.couple, now.date())
            services.question_answer(user=fresh(cast.author), question_id=question.pk, text="A")
            services.question_answer(user=fresh(cast.partner), question_id=question.pk, text="B")
    now = start + timedelta(days=10)
    with time_machine.travel(now, tick=False):
        stale = stored_summary(cast.couple)  # what a second beat read a moment ago ...
        sweep.daily_question_sweep()  # ... while the first one folded a day more
        ref = assignment.CoupleRef(cast.couple.pk, cast.couple.timezone, stale)
        assignment.questions_assign(couples=[ref], now=now)  # the second beat writes last
        written = stored_summary(cast.couple)
        assert (
            written.answered
            == DailyQuestion.objects.filter(
                couple=cast.couple, couple_date__lte=written.through, revealed_at__isnull=False
            ).count()
        )
        assert same(as_read_by_the_sweep(cast.couple, now), as_read_whole(cast.couple, now))


def test_a_question_revealed_just_before_it_closes_is_counted_once(cast, bank):
    start = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        sweep.daily_question_sweep()
    question = live_question(cast.couple, date(2026, 3, 1))
    for day_number in range(1, 8):
        now = start + timedelta(days=day_number)
        with time_machine.travel(now, tick=False):
            sweep.daily_question_sweep()
            assert same(as_read_by_the_sweep(cast.couple, now), as_read_whole(cast.couple, now))
        if day_number == 2:  # the last second it takes answers (closes 03-04 00:00 London)
            with time_machine.travel(question.closes_at - timedelta(seconds=1), tick=False):
                services.question_answer(user=fresh(cast.author), question_id=question.pk, text="A")
                services.question_answer(
                    user=fresh(cast.partner), question_id=question.pk, text="B"
                )
    assert stored_summary(cast.couple).through >= date(2026, 3, 1)
    assert stored_summary(cast.couple).answered == 1


def test_the_sweeps_queries_per_batch_hold_with_a_long_history(bank):
    couples = [couple_of(UserFactory(), UserFactory()) for _ in range(6)]
    start = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)

    def queries_on(day_number: int) -> int:
        with time_machine.travel(start + timedelta(days=day_number), tick=False):
            queries = capture_queries(lambda: sweep.daily_question_sweep(batch_size=4))
        assert queries.result.couples == len(couples)
        return len(queries)

    early = [queries_on(n) for n in range(0, 3)]
    late = [queries_on(n) for n in range(3, 40)]
    assert set(late) == {early[-1]}  # two batches of at most four, whatever the history


class TestFold:
    """history_fold on plain rows (no database)."""

    day = date(2026, 3, 20)

    def rows(self, *days_settled):
        return [
            Asked(1, 100 + n, 10 + n, "emotional", date(2026, 3, d), n % 2 == 0, settled)
            for n, (d, settled) in enumerate(days_settled)
        ]

    def test_it_folds_up_to_the_day_before_the_first_unsettled_question(self):
        rows = self.rows((19, False), (18, False), (15, True), (14, True), (13, True))
        folded = history_fold(EMPTY_HISTORY, rows, day=self.day, lag_days=4)
        assert folded.through == date(2026, 3, 16)
        assert folded.recent == (12, 13, 14)
        assert folded.asked == selection.prompt_bits([12, 13, 14])
        assert folded.answered == 2  # rows 2 and 4

    def test_an_unsettled_question_stops_the_fold_even_far_back(self):
        rows = self.rows((15, True), (10, False), (9, True))
        folded = history_fold(EMPTY_HISTORY, rows, day=self.day, lag_days=4)
        assert folded.through == date(2026, 3, 9)
        assert folded.recent == (12,)

    def test_it_never_moves_back_nor_reaches_the_last_days(self):
        summary = HistorySummary(date(2026, 3, 17), 5, 1 << 3, (3,))
        assert history_fold(summary, [], day=self.day, lag_days=4) is summary
        moved = history_fold(summary, [], day=date(2026, 3, 25), lag_days=4)
        assert moved.through == date(2026, 3, 21)
        assert moved.answered == 5
        assert moved.recent == (3,)

    def test_recent_keeps_the_newest_four_across_folds(self):
        summary = HistorySummary(date(2026, 3, 10), 0, 0, (7, 6, 5, 4))
        rows = self.rows((14, True), (12, True))
        assert history_fold(summary, rows, day=self.day, lag_days=4).recent == (10, 11, 7, 6)
