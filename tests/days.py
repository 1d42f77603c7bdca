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


def together(a: User, b: User, *, after: datetime | None = None) -> datetime:
    """The first whole hour (from `after`, by default now) at which both live the same
    couple day: for "both today cards show" tests."""
    zone = shared_zone(a)
    start = (after or datetime.now(UTC)).replace(minute=30, second=0, microsecond=0)
    for hours in range(48):
        instant = start + timedelta(hours=hours)
        if couple_day(local_date(a.timezone, instant), a.timezone, zone) == couple_day(
            local_date(b.timezone, instant), b.timezone, zone
        ):
            return instant
    raise AssertionError("the two never share a couple day")


def apart(a: User, b: User, *, after: datetime | None = None) -> datetime:
    """The first whole hour at which the two live different couple days (for partners
    more than twelve hours apart there is one every day)."""
    zone = shared_zone(a)
    start = (after or datetime.now(UTC)).replace(minute=30, second=0, microsecond=0)
    for hours in range(48):
        instant = start + timedelta(hours=hours)
        if couple_day(local_date(a.timezone, instant), a.timezone, zone) != couple_day(
            local_date(b.timezone, instant), b.timezone, zone
        ):
            return instant
    raise AssertionError("the two always share a couple day")


def frozen(instant: datetime) -> time_machine.travel:
    return time_machine.travel(instant, tick=False)
