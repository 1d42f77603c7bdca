"""Dates in the zones the tests use, by the one rule (docs/days.md), so that no test
depends on the hour it runs at.

The cast's couple lives 21 hours apart (Pacific/Auckland, America/Los_Angeles), its
couple days in Auckland's dates: Los Angeles's Sunday belongs to the couple's Monday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import time_machine

from nuzzle.couples.models import User
from nuzzle.couples.scoping import couple_context
from nuzzle.lib.timezones import couple_day, local_date, local_day_for, local_midnight


def as_date(day: date | str) -> date:
    return date.fromisoformat(day) if isinstance(day, str) else day


def local_time(day: date | str, zone: str, hour: int = 12, minute: int = 0) -> datetime:
    """The instant (UTC) of a wall-clock time on a local date."""
    return local_midnight(as_date(day), zone) + timedelta(hours=hour, minutes=minute)


def fresh(user: User) -> User:
    """The user re-read: no cached couple context from before a pairing changed."""
    return User.objects.get(pk=user.pk)


def shared_zone(user: User) -> str:
    context = couple_context(fresh(user))
    return context.couple.timezone if context else user.timezone


def day_of(shared: date | str, user: User) -> date:
    """`user`'s own local date that belongs to the couple day `shared`."""
    return local_day_for(as_date(shared), user.timezone, shared_zone(user))


def couple_day_of(day: date | str, user: User) -> date:
    """The couple day `user`'s local date `day` belongs to."""
    return couple_day(as_date(day), user.timezone, shared_zone(user))


def at_couple_day(shared: date | str, user: User, hour: int = 12) -> datetime:
    """An instant (local `hour`, noon by default) of the local day of `user` that
    belongs to the couple day `shared`."""
    return local_time(day_of(shared, user), user.timezone, hour)


def _first_hour(
    zones: tuple[str, ...], shared: str, *, same: bool, after: datetime | None
) -> datetime:
    start = (after or datetime.now(UTC)).replace(minute=30, second=0, microsecond=0)
    for hours in range(48):
        instant = start + timedelta(hours=hours)
        days = {couple_day(local_date(zone, instant), zone, shared) for zone in zones}
        if (len(days) == 1) == same:
            return instant
    raise AssertionError(f"no hour when {zones} {'share' if same else 'split'} a couple day")


def together_in(*zones: str, shared: str, after: datetime | None = None) -> datetime:
    """The first half past the hour (from `after`, by default now) at which people in
    these zones all live the same couple day of the shared zone."""
    return _first_hour(zones, shared, same=True, after=after)


def together(a: User, b: User, *, after: datetime | None = None) -> datetime:
    """The first half past the hour at which the two live the same couple day: for
    "both today cards show" tests."""
    return together_in(a.timezone, b.timezone, shared=shared_zone(a), after=after)


def apart(a: User, b: User, *, after: datetime | None = None) -> datetime:
    """The first half past the hour at which the two live different couple days (for
    partners more than twelve hours apart there is one every day)."""
    return _first_hour((a.timezone, b.timezone), shared_zone(a), same=False, after=after)


def frozen(instant: datetime) -> time_machine.travel:
    return time_machine.travel(instant, tick=False)
