"""Time-zone helpers: IANA names are stored; conversion happens at the edges."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from functools import cache

from django.core.exceptions import ValidationError
from django.utils import timezone


@cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA zone name this Python knows, sorted (cached: the set is static)."""
    return tuple(sorted(zoneinfo.available_timezones()))


@cache
def _name_set() -> frozenset[str]:
    return frozenset(timezone_names())


def validate_timezone(value: str) -> None:
    if value not in _name_set():
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
