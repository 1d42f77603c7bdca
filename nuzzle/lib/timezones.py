"""Time-zone helpers: IANA names are stored; conversion happens at the edges."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache

from django.core.exceptions import ValidationError
from django.utils import timezone

# Legacy country-style links and technical zones: valid, but noise in a picker.
_HIDDEN_PREFIXES = (
    "Etc/",
    "SystemV/",
    "US/",
    "Brazil/",
    "Canada/",
    "Chile/",
    "Mexico/",
    "posix",
    "right/",
)


@cache
def accepted_timezone_names() -> frozenset[str]:
    """Every IANA name this Python knows: all are accepted (cached: the set is static)."""
    return frozenset(zoneinfo.available_timezones())


@cache
def timezone_names() -> tuple[str, ...]:
    """The names offered in pickers: Region/City zones plus UTC, sorted."""
    shown = {
        name
        for name in accepted_timezone_names()
        if "/" in name and not name.startswith(_HIDDEN_PREFIXES)
    }
    return tuple(sorted(shown | {"UTC"}))


def validate_timezone(value: str) -> None:
    if value not in accepted_timezone_names():
        raise ValidationError(
            "“%(value)s” is not a known time zone. Use an IANA name like Europe/Berlin.",
            code="invalid_timezone",
            params={"value": value},
        )


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in timezone_names()]


def local_date(tz_name: str, at: datetime | None = None) -> date:
    """The calendar date in `tz_name` at the instant `at` (default: now)."""
    instant = at or timezone.now()
    return instant.astimezone(zoneinfo.ZoneInfo(tz_name)).date()


def local_midnight(day: date, tz_name: str) -> datetime:
    """The instant (in UTC) a local day starts. A midnight that does not exist (a DST
    jump at 00:00) resolves forward with zoneinfo's fold rule: the day starts at the
    first instant that exists."""
    aware = datetime.combine(day, time.min).replace(tzinfo=zoneinfo.ZoneInfo(tz_name))
    # Round-trip through UTC: a non-existent local time maps to a real instant.
    return aware.astimezone(UTC)


# --- Couple days: one rule for "today" across two zones (docs/days.md) ---------------------
#
# Each person lives by their own local day; a couple's shared things (the daily
# question, "days we both showed up", the pairing of the two "today" cards and the
# chart) are keyed by a *couple day*: a date in the couple's shared zone. A person's
# local day belongs to the couple day it overlaps most, a tie (exactly twelve hours
# each) going to the couple day with the same date. Both functions are pure: plain
# values in, plain values out.

# Zones are at most 26 hours apart (UTC-12 to UTC+14): a day belongs to a couple day
# at most one date away, so its inverse is found among a few nearby dates.
_NEAR = (0, -1, 1, -2, 2)


@lru_cache(maxsize=65536)
def couple_day(day: date, tz_name: str, couple_tz_name: str) -> date:
    """The couple day that `day` (a local date in `tz_name`) belongs to: the date in
    `couple_tz_name` whose day overlaps it most; on a tie, the same date."""
    if tz_name == couple_tz_name:
        return day
    start, end = local_midnight(day, tz_name), local_midnight(day + timedelta(days=1), tz_name)
    couple_zone = zoneinfo.ZoneInfo(couple_tz_name)
    candidate = start.astimezone(couple_zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(couple_zone).date()
    best, best_overlap = candidate, timedelta(0)
    while candidate <= last:
        overlap = min(end, local_midnight(candidate + timedelta(days=1), couple_tz_name)) - max(
            start, local_midnight(candidate, couple_tz_name)
        )
        if overlap > best_overlap or (overlap == best_overlap and candidate == day):
            best, best_overlap = candidate, overlap
        candidate += timedelta(days=1)
    return best


def local_day_for(shared: date, tz_name: str, couple_tz_name: str) -> date:
    """The local date in `tz_name` that belongs to the couple day `shared`: where a
    partner's entry of that couple day is shown in my own calendar. Around a DST change
    a couple day may have no local day of its own (or two): the nearest is taken."""
    for offset in _NEAR:
        day = shared + timedelta(days=offset)
        if couple_day(day, tz_name, couple_tz_name) == shared:
            return day
    return shared - (couple_day(shared, tz_name, couple_tz_name) - shared)


def couple_today(tz_name: str, couple_tz_name: str, at: datetime | None = None) -> date:
    """The couple day a person in `tz_name` is living at the instant `at` (default now)."""
    return couple_day(local_date(tz_name, at), tz_name, couple_tz_name)
