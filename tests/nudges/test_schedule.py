"""The pure time rules: local nudge times, DST gaps and repeats, quiet hours, periods."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from nuzzle.nudges.kinds import Cadence
from nuzzle.nudges.schedule import (
    Rules,
    at_local,
    days_to_mask,
    event_moves,
    event_slot,
    in_quiet_hours,
    mask_to_days,
    next_recap_slot,
    next_slot,
    period_key,
    time_in_quiet_hours,
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def rules(tz: str = "America/New_York", **overrides: object) -> Rules:
    return Rules(timezone=tz, nudge_time=overrides.pop("nudge_time", time(19, 0)), **overrides)  # type: ignore[arg-type]


def test_a_wall_time_that_a_spring_forward_skips_moves_forward_by_the_gap():
    # 2026-03-08 02:30 does not exist in New York: clocks jump 02:00 → 03:00.
    slot = at_local(rules(), date(2026, 3, 8), time(2, 30))
    assert slot == utc(2026, 3, 8, 7, 30)  # = 03:30 EDT


def test_a_wall_time_that_a_fall_back_repeats_means_its_first_occurrence():
    # 2026-11-01 01:30 happens twice in New York; the first is still EDT (UTC-4).
    slot = at_local(rules(), date(2026, 11, 1), time(1, 30))
    assert slot == utc(2026, 11, 1, 5, 30)


@pytest.mark.parametrize(
    ("wall", "quiet"),
    [
        (time(21, 59), False),
        (time(22, 0), True),
        (time(23, 30), True),
        (time(0, 0), True),
        (time(7, 59), True),
        (time(8, 0), False),
        (time(19, 0), False),
    ],
)
def test_quiet_hours_cross_midnight(wall, quiet):
    london = rules("Europe/London")  # 22:00–08:00 by default; UTC+0 in November
    assert in_quiet_hours(london, datetime.combine(date(2026, 11, 20), wall, tzinfo=UTC)) is quiet
    assert time_in_quiet_hours(london, wall) is quiet


def test_quiet_hours_within_one_day_and_none_at_all():
    daytime = rules("UTC", quiet_start=time(9, 0), quiet_end=time(17, 0))
    assert in_quiet_hours(daytime, utc(2026, 11, 20, 12))
    assert not in_quiet_hours(daytime, utc(2026, 11, 20, 18))
    never = rules("UTC", quiet_start=time(0, 0), quiet_end=time(0, 0))
    assert not any(in_quiet_hours(never, utc(2026, 11, 20, hour)) for hour in range(24))


def test_next_slot_is_strictly_after_and_only_on_chosen_days():
    weekdays = rules("UTC", days=days_to_mask([0, 1, 2, 3, 4]))  # Monday–Friday
    friday_evening = utc(2026, 11, 20, 19, 0)  # a Friday, exactly at the nudge time
    assert next_slot(weekdays, friday_evening) == utc(2026, 11, 23, 19, 0)  # Monday
    assert next_slot(weekdays, friday_evening - timedelta(seconds=1)) == friday_evening


def test_no_days_chosen_means_no_slot():
    assert next_slot(rules(days=0), utc(2026, 11, 20)) is None


def test_a_pause_skips_every_day_up_to_and_including_its_date():
    paused = rules("UTC", paused_until=date(2026, 11, 25))
    assert next_slot(paused, utc(2026, 11, 20, 12)) == utc(2026, 11, 26, 19, 0)


def test_a_pause_longer_than_a_week_still_resumes_on_the_day_after():
    paused = rules("UTC", paused_until=date(2027, 1, 31))
    assert next_slot(paused, utc(2026, 11, 20, 12)) == utc(2027, 2, 1, 19, 0)


def test_the_recap_goes_from_sunday_or_the_first_chosen_day_after_it():
    assert next_recap_slot(rules("UTC"), utc(2026, 11, 20, 12)) == utc(2026, 11, 22, 19, 0)
    no_sunday = rules("UTC", days=days_to_mask([0, 1, 2, 3, 4, 5]))
    assert next_recap_slot(no_sunday, utc(2026, 11, 20, 12)) == utc(2026, 11, 23, 19, 0)
    # Already past Sunday's time: the following Sunday.
    assert next_recap_slot(rules("UTC"), utc(2026, 11, 22, 20)) == utc(2026, 11, 29, 19, 0)


def test_an_event_waits_for_the_nudge_time_then_batches_then_respects_quiet_hours():
    london = rules("Europe/London")
    delay = timedelta(minutes=15)
    morning = utc(2026, 11, 20, 10, 0)
    assert event_slot(london, morning, delay) == utc(2026, 11, 20, 19, 0)
    evening = utc(2026, 11, 20, 20, 0)
    assert event_slot(london, evening, delay) == utc(2026, 11, 20, 20, 15)
    # 21:50 + 15 min falls into quiet hours → not tonight: tomorrow's nudge time.
    late = utc(2026, 11, 20, 21, 50)
    assert event_slot(london, late, delay) == utc(2026, 11, 21, 19, 0)


def test_an_event_moves_a_row_only_to_an_earlier_due_time():
    london = rules("Europe/London")
    delay = timedelta(minutes=15)
    morning = utc(2026, 11, 20, 10, 0)
    tonight = utc(2026, 11, 20, 19, 0)
    assert event_moves(london, None, morning, delay) == tonight
    assert event_moves(london, utc(2026, 11, 21, 19, 0), morning, delay) == tonight
    assert event_moves(london, tonight, morning, delay) is None  # already due then
    assert event_moves(london, utc(2026, 11, 20, 12, 0), morning, delay) is None
    paused = rules("Europe/London", paused_until=date.max)
    assert event_moves(paused, None, morning, delay) is None  # nothing may go


def test_periods_are_local_dates_or_iso_weeks_and_a_held_recap_keeps_its_week():
    assert period_key(Cadence.DAILY, date(2026, 11, 21)) == "2026-11-21"
    assert period_key(Cadence.EVENT, date(2026, 11, 21)) == "2026-11-21"
    assert period_key(Cadence.WEEKLY, date(2026, 11, 21)) == "2026-W47"
    sunday, monday = date(2026, 11, 22), date(2026, 11, 23)
    assert period_key(Cadence.RECAP, sunday) == period_key(Cadence.RECAP, monday) == "2026-W47"
    assert period_key(Cadence.RECAP, date(2026, 11, 29)) == "2026-W48"


def test_days_round_trip_through_the_mask():
    assert mask_to_days(days_to_mask([6, 0, 3, 3])) == [0, 3, 6]


def test_a_pause_to_the_end_of_the_calendar_means_never_not_a_crash():
    assert next_slot(rules("UTC", paused_until=date.max), utc(2026, 11, 20)) is None


def test_a_lease_too_short_for_the_send_timeouts_is_a_configuration_error(settings):
    from nuzzle.nudges.checks import lease_outlasts_sends

    settings.EMAIL_TIMEOUT, settings.WEBPUSH_TIMEOUT, settings.NUDGE_LEASE_SECONDS = 10, 5, 600
    assert lease_outlasts_sends() == []
    settings.NUDGE_LEASE_SECONDS = 30
    (error,) = lease_outlasts_sends()
    assert error.id == "nudges.E001"
    # A push row keeps both in hand (it may fall back to email).
    settings.NUDGE_LEASE_SECONDS, settings.WEBPUSH_TIMEOUT = 60, 15
    (error,) = lease_outlasts_sends()
    assert "WEBPUSH_TIMEOUT" in error.msg
