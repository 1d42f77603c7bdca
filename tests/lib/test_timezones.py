"""The one rule for "today" across two zones (docs/days.md): pure functions of dates and
zone names, tested without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest

from nuzzle.lib.timezones import couple_day, couple_today, local_date, local_day_for

AUCKLAND, LOS_ANGELES = "Pacific/Auckland", "America/Los_Angeles"

# Every offset extreme and oddity: UTC-12 and UTC+14 (26 hours apart), half and quarter
# hours, southern and northern DST, a zone that changed its offset by a whole day.
ZONES = [
    "Etc/GMT+12",
    "Pacific/Pago_Pago",
    LOS_ANGELES,
    "America/Santiago",
    "America/St_Johns",
    "UTC",
    "Europe/London",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Australia/Adelaide",
    AUCKLAND,
    "Pacific/Chatham",
    "Pacific/Kiritimati",
    "Pacific/Apia",
]


def test_in_the_shared_zone_the_couple_day_is_the_date():
    assert couple_day(date(2026, 12, 7), AUCKLAND, AUCKLAND) == date(2026, 12, 7)


def test_los_angeles_sunday_belongs_to_aucklands_monday_and_back():
    assert couple_day(date(2026, 12, 6), LOS_ANGELES, AUCKLAND) == date(2026, 12, 7)
    assert local_day_for(date(2026, 12, 7), LOS_ANGELES, AUCKLAND) == date(2026, 12, 6)
    # With Los Angeles as the shared zone, Auckland's Monday is the couple's Sunday.
    assert couple_day(date(2026, 12, 7), AUCKLAND, LOS_ANGELES) == date(2026, 12, 6)


def test_five_hours_apart_the_dates_match():
    assert couple_day(date(2026, 12, 7), "America/New_York", "Europe/London") == date(2026, 12, 7)


def test_twenty_six_hours_apart_the_day_that_overlaps_most_is_taken():
    # Kiritimati (UTC+14) and UTC-12: one's 8 December is 22 hours of the other's 7th.
    assert couple_day(date(2026, 12, 8), "Pacific/Kiritimati", "Etc/GMT+12") == date(2026, 12, 7)
    assert couple_day(date(2026, 12, 7), "Etc/GMT+12", "Pacific/Kiritimati") == date(2026, 12, 8)


def test_an_exact_tie_goes_to_the_same_date():
    # July: Auckland is UTC+12, so each of its days is half of two UTC days.
    assert couple_day(date(2026, 7, 7), AUCKLAND, "UTC") == date(2026, 7, 7)
    assert couple_day(date(2026, 7, 7), "UTC", AUCKLAND) == date(2026, 7, 7)
    # December: UTC+13, thirteen hours of the UTC day before.
    assert couple_day(date(2026, 12, 7), AUCKLAND, "UTC") == date(2026, 12, 6)


def test_couple_today_follows_the_instant():
    at = datetime(2026, 12, 7, 3, 20, tzinfo=UTC)  # Monday in Auckland, Sunday in LA
    assert couple_today(LOS_ANGELES, AUCKLAND, at) == date(2026, 12, 7)
    assert couple_today(AUCKLAND, AUCKLAND, at) == date(2026, 12, 7)
    later = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # 22:00 Monday; 01:00 Monday in LA
    assert couple_today(LOS_ANGELES, AUCKLAND, later) == date(2026, 12, 8)
    assert couple_today(AUCKLAND, AUCKLAND, later) == date(2026, 12, 7)


@pytest.mark.parametrize("mine", ZONES)
def test_for_every_pair_of_zones_a_year_of_days_maps_sensibly(mine):
    """For every shared zone: each of my days belongs to a couple day at most one date
    away (two for UTC-12 and UTC+14), in order, never going back; and each couple day
    that has a day of mine maps back to it."""
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(366)]
    for shared in ZONES:
        mapped = [couple_day(day, mine, shared) for day in days]
        for day, couple in zip(days, mapped, strict=True):
            assert abs((couple - day).days) <= 1, (mine, shared, day, couple)
            assert couple_day(local_day_for(couple, mine, shared), mine, shared) == couple
        for earlier, later in pairwise(mapped):
            assert later >= earlier, (mine, shared, earlier, later)


@pytest.mark.parametrize("shared", ZONES)
def test_at_any_hour_partners_are_at_most_one_couple_day_apart(shared):
    """Two people living in any zones, every hour of a year: their couple days differ
    by at most one, so each partner's card is of today or of a neighbouring day."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for hours in range(0, 24 * 365, 5):
        at = start + timedelta(hours=hours)
        days = {couple_today(zone, shared, at) for zone in ZONES}
        assert (max(days) - min(days)).days <= 1, (shared, at, sorted(days))


def test_local_date_is_the_wall_calendar():
    assert local_date(AUCKLAND, datetime(2026, 12, 7, 11, 0, tzinfo=UTC)) == date(2026, 12, 8)
