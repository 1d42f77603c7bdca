"""Time-zone helpers: IANA names are stored; conversion happens at the edges."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from functools import cache

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
