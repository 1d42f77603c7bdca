"""The nudge rules on their own: plain values in, plain values out, no database.

None of these tests is marked for database access, so pytest-django refuses any query
they would make: the module under test must stay pure."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from nuzzle.nudges.decisions import (
    EMAIL,
    PUSH,
    QUIET_PERSON_AFTER,
    RetryPolicy,
    advance,
    channels_for,
    choice_for,
    decide,
    fallback_channel,
    first_due,
    late_reason,
    records_late,
    row_outcome,
    too_late,
)
from nuzzle.nudges.kinds import Cadence
from nuzzle.nudges.schedule import Rules

# 19:00 in New York, Wednesday 2026-06-10 (EDT, UTC-4): 23:00 UTC.
WEDNESDAY_SLOT = datetime(2026, 6, 10, 23, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=120)
DELAY = timedelta(minutes=15)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=UTC)


def rules(**overrides: object) -> Rules:
    values: dict[str, object] = {"timezone": "America/New_York", "nudge_time": time(19, 0)}
    values.update(overrides)
    return Rules(**values)  # type: ignore[arg-type]


class TestFirstDue:
    def test_a_daily_kind_is_due_at_the_next_nudge_time(self):
        due = first_due(
            Cadence.DAILY,
            rules(),
            utc(10, 12),
            last_sent=None,
            pending_event=False,
            event_delay=DELAY,
        )
        assert due == WEDNESDAY_SLOT

    def test_a_daily_kind_past_today_s_time_is_due_tomorrow(self):
        due = first_due(
            Cadence.DAILY,
            rules(),
            utc(10, 23, 1),
            last_sent=None,
            pending_event=False,
            event_delay=DELAY,
        )
        assert due == WEDNESDAY_SLOT + timedelta(days=1)

    def test_a_weekly_kind_keeps_seven_days_from_its_last_send(self):
        last = WEDNESDAY_SLOT - timedelta(days=2)  # Monday
        due = first_due(
            Cadence.WEEKLY,
            rules(),
            utc(10, 12),
            last_sent=last,
            pending_event=False,
            event_delay=DELAY,
        )
        assert due == last + timedelta(days=7)  # the next Monday, same wall time

    def test_the_recap_is_due_on_sunday(self):
        due = first_due(
            Cadence.RECAP,
            rules(),
            utc(10, 12),
            last_sent=None,
            pending_event=False,
            event_delay=DELAY,
        )
        assert due == utc(14, 23)  # Sunday 19:00 EDT

    def test_an_event_kind_is_due_only_while_an_event_waits(self):
        now = utc(10, 12)
        idle = first_due(
            Cadence.EVENT, rules(), now, last_sent=None, pending_event=False, event_delay=DELAY
        )
        waiting = first_due(
            Cadence.EVENT, rules(), now, last_sent=None, pending_event=True, event_delay=DELAY
        )
        assert idle is None
        assert waiting == WEDNESDAY_SLOT  # not before the nudge time


class TestAdvance:
    @pytest.mark.parametrize("outcome", ["send", "late", "held", "idle"])
    def test_every_outcome_moves_a_daily_row_past_now(self, outcome):
        now = WEDNESDAY_SLOT + timedelta(minutes=1)
        moved = advance(Cadence.DAILY, rules(), WEDNESDAY_SLOT, now, outcome)
        assert moved == WEDNESDAY_SLOT + timedelta(days=1)
        assert moved > now

    def test_a_sent_weekly_kind_waits_a_week_and_a_held_one_tries_tomorrow(self):
        now = WEDNESDAY_SLOT
        sent = advance(Cadence.WEEKLY, rules(), WEDNESDAY_SLOT, now, "send")
        held = advance(Cadence.WEEKLY, rules(), WEDNESDAY_SLOT, now, "held")
        assert sent == WEDNESDAY_SLOT + timedelta(days=7)
        assert held == WEDNESDAY_SLOT + timedelta(days=1)

    def test_a_held_recap_tries_again_the_next_day_and_a_sent_one_next_sunday(self):
        sunday = utc(14, 23)
        assert advance(Cadence.RECAP, rules(), sunday, sunday, "held") == utc(15, 23)
        assert advance(Cadence.RECAP, rules(), sunday, sunday, "send") == utc(21, 23)

    def test_an_event_row_rests_until_the_next_event(self):
        assert advance(Cadence.EVENT, rules(), WEDNESDAY_SLOT, WEDNESDAY_SLOT, "send") is None

    def test_only_daily_and_event_kinds_record_a_late_nudge(self):
        assert [c for c in Cadence if records_late(c)] == [Cadence.DAILY, Cadence.EVENT]


class TestTooLate:
    def test_within_the_window_it_may_still_go(self):
        now = WEDNESDAY_SLOT + WINDOW
        assert not too_late(rules(quiet_start=time(23, 0)), WEDNESDAY_SLOT, now, WINDOW)

    def test_past_the_window_it_is_late_with_the_minutes_as_its_reason(self):
        now = WEDNESDAY_SLOT + WINDOW + timedelta(minutes=1)
        quiet_late = rules(quiet_start=time(23, 0))
        assert too_late(quiet_late, WEDNESDAY_SLOT, now, WINDOW)
        assert late_reason(quiet_late, WEDNESDAY_SLOT, now) == "not sent: 121 minutes late"

    def test_quiet_hours_stop_it_even_inside_the_window(self):
        now = WEDNESDAY_SLOT + timedelta(minutes=10)  # 19:10, quiet from 19:05
        quiet = rules(quiet_start=time(19, 5), quiet_end=time(8, 0))
        assert too_late(quiet, WEDNESDAY_SLOT, now, WINDOW)
        assert late_reason(quiet, WEDNESDAY_SLOT, now) == (
            "not sent: it was already quiet hours when it could go out"
        )

    def test_a_later_local_day_is_too_late_whatever_the_window(self):
        slot = datetime(2026, 6, 11, 3, 30, tzinfo=UTC)  # 23:30 on Wednesday in New York
        now = slot + timedelta(minutes=40)  # 00:10 on Thursday
        no_quiet = rules(quiet_start=time(0, 0), quiet_end=time(0, 0))
        assert too_late(no_quiet, slot, now, timedelta(days=1))


class TestDecide:
    NOW = WEDNESDAY_SLOT

    def ask(self, **overrides: object) -> str:
        values: dict[str, object] = {
            "eligible": True,
            "said_this_period": False,
            "late": False,
            "sent_today": 0,
            "daily_cap": 1,
            "last_active_at": self.NOW - timedelta(days=1),
            "last_nudged": None,
            "now": self.NOW,
        }
        values.update(overrides)
        return decide(**values)  # type: ignore[arg-type]

    def test_an_eligible_person_under_their_cap_gets_it(self):
        assert self.ask() == "send"

    def test_nothing_to_say_or_already_said_is_idle_even_when_late(self):
        assert self.ask(eligible=False, late=True) == "idle"
        assert self.ask(said_this_period=True, late=True) == "idle"

    def test_late_comes_before_the_cap(self):
        assert self.ask(late=True, sent_today=5) == "late"

    def test_the_daily_cap_holds_the_rest(self):
        assert self.ask(sent_today=1, daily_cap=1) == "held"
        assert self.ask(sent_today=1, daily_cap=2) == "send"

    def test_a_person_gone_quiet_gets_at_most_one_a_week(self):
        gone = self.NOW - QUIET_PERSON_AFTER - timedelta(minutes=1)
        recently = self.NOW - timedelta(days=3)
        long_ago = self.NOW - QUIET_PERSON_AFTER
        assert self.ask(last_active_at=gone, last_nudged=recently) == "held"
        assert self.ask(last_active_at=gone, last_nudged=long_ago) == "send"
        assert self.ask(last_active_at=gone, last_nudged=None) == "send"
        active = self.NOW - timedelta(days=1)
        assert self.ask(last_active_at=active, last_nudged=recently) == "send"


class TestRetryPolicy:
    POLICY = RetryPolicy((timedelta(minutes=1), timedelta(minutes=5)))

    def test_each_failure_waits_its_turn_and_the_try_after_the_last_wait_is_final(self):
        assert self.POLICY.max_attempts == 3
        assert self.POLICY.after_failure(1) == timedelta(minutes=1)
        assert self.POLICY.after_failure(2) == timedelta(minutes=5)
        assert self.POLICY.after_failure(3) is None

    def test_no_waits_means_one_try(self):
        assert RetryPolicy(()).after_failure(1) is None


def test_the_next_nudge_time_is_read_in_the_person_s_zone():
    auckland = rules(timezone="Pacific/Auckland")
    due = first_due(
        Cadence.DAILY, auckland, utc(10, 0), last_sent=None, pending_event=False, event_delay=DELAY
    )
    assert due == datetime(2026, 6, 10, 7, 0, tzinfo=UTC)  # 19:00 NZST on the 10th


# --- Which channels ---------------------------------------------------------------

# Every stored choice × whether the person has a device: push goes first (so it can
# fall back to email in the same row), and nobody is ever left with no channel.
CHANNELS = [
    ("auto", True, (PUSH,)),
    ("auto", False, (EMAIL,)),
    ("email", True, (EMAIL,)),
    ("email", False, (EMAIL,)),
    ("push", True, (PUSH,)),
    ("push", False, (EMAIL,)),
    ("both", True, (PUSH, EMAIL)),
    ("both", False, (EMAIL,)),
]


@pytest.mark.parametrize(("choice", "has_device", "expected"), CHANNELS)
def test_each_choice_with_and_without_a_device_names_its_channels_push_first(
    choice, has_device, expected
):
    assert channels_for(choice, has_device) == expected


def test_the_table_covers_every_stored_choice():
    from nuzzle.nudges.models import Channels  # the choices only: no query is made

    assert {choice for choice, _, _ in CHANNELS} == set(Channels.values)


@pytest.mark.parametrize(
    ("email", "push", "expected"),
    [(True, True, "both"), (True, False, "email"), (False, True, "push"), (False, False, None)],
)
def test_channels_picked_by_hand_are_stored_as_one_choice(email, push, expected):
    assert choice_for(email, push) == expected


@pytest.mark.parametrize(("email", "push"), [(True, True), (True, False), (False, True)])
def test_a_choice_made_by_hand_reads_back_as_the_same_channels_with_a_device(email, push):
    choice = choice_for(email, push)
    assert choice is not None
    chosen = channels_for(choice, True)
    assert (EMAIL in chosen, PUSH in chosen) == (email, push)


def test_push_with_no_working_device_falls_back_to_email_once():
    assert fallback_channel((PUSH,)) == EMAIL
    assert fallback_channel(()) == EMAIL
    # Email was tried already (a "both" row): nothing more, never a second email.
    assert fallback_channel((PUSH, EMAIL)) is None
    assert fallback_channel((EMAIL,)) is None


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (["sent"], "sent"),
        (["retry", "sent"], "sent"),
        (["sent", "fail"], "sent"),
        (["suppress", "sent"], "sent"),
        (["fail", "suppress", "retry", "sent"], "sent"),
        (["retry"], "retry"),
        (["suppress", "retry"], "retry"),
        (["fail", "retry"], "retry"),
        (["suppress"], "suppress"),
        (["fail", "suppress"], "suppress"),
        (["fail"], "fail"),
        (["fail", "fail"], "fail"),
    ],
)
def test_a_row_reached_on_any_channel_is_sent_else_retry_beats_suppress_beats_fail(
    answers, expected
):
    assert row_outcome(answers) == expected
