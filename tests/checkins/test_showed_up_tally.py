"""The "days both showed up" tallies the database keeps (`ShowedUpMonth`, checkins
migration 0004) against the rule recomputed from scratch, after every kind of write
that changes it: a check-in written, its visibility changed, an unpairing and a new
couple, an account deleted, and writes outside the services (the admin, a cascade)."""

from __future__ import annotations

import contextlib
import random
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from checkins import selectors
from checkins.models import Checkin, ShowedUpMonth, Visibility
from checkins.services import checkin_submit
from nuzzle.couples.models import User
from nuzzle.couples.services import couple_end, invite_accept, invite_create, user_delete
from nuzzle.lib.errors import Conflict, NotFound
from tests.concurrency import race
from tests.factories import PASSWORD, couple_of, new_checkin, new_user


def recomputed() -> dict[tuple[int, date], int]:
    """Every couple-month with a day both shared a check-in for, from the check-ins
    themselves, by the selectors' own rule (`_days_both_shared`)."""
    days = selectors._days_both_shared(
        Checkin.objects.filter(couple__isnull=False), "couple_id"
    ).values_list("couple_id", "couple_date")
    return dict(Counter((couple_id, day.replace(day=1)) for couple_id, day in days))


def kept() -> dict[tuple[int, date], int]:
    """What the database keeps, leaving out months it recounted down to nothing."""
    return {
        (row.couple_id, row.month): row.days for row in ShowedUpMonth.objects.filter(days__gt=0)
    }


def test_a_shared_day_counts_once_both_have_checked_in_and_a_private_one_takes_it_back(cast):
    day = date(2026, 12, 7)
    new_checkin(author=cast.author, couple=cast.couple, local_date=day, couple_date=day, mood=4)
    assert kept() == {}
    partners = new_checkin(
        author=cast.partner, couple=cast.couple, local_date=day, couple_date=day, mood=3
    )
    assert kept() == {(cast.couple.pk, date(2026, 12, 1)): 1}
    partners.visibility = Visibility.PRIVATE
    partners.save(update_fields=["visibility"])
    assert kept() == {}
    partners.visibility = Visibility.SHARED
    partners.save(update_fields=["visibility"])
    partners.delete()
    assert kept() == recomputed() == {}


def test_the_tally_follows_a_check_in_moved_to_another_couple_month(cast):
    day = date(2026, 11, 30)
    new_checkin(author=cast.author, couple=cast.couple, local_date=day, couple_date=day, mood=4)
    moving = new_checkin(
        author=cast.partner, couple=cast.couple, local_date=day, couple_date=day, mood=4
    )
    assert kept() == {(cast.couple.pk, date(2026, 11, 1)): 1}
    Checkin.objects.filter(pk=moving.pk).update(couple_date=date(2026, 12, 1))
    assert kept() == recomputed() == {}
    Checkin.objects.filter(pk=moving.pk).update(couple_date=day)
    assert kept() == recomputed() == {(cast.couple.pk, date(2026, 11, 1)): 1}


def _check_in(user: User, rng: random.Random) -> None:
    checkin_submit(
        user=user,
        mood=rng.randint(1, 5),
        visibility=rng.choice([Visibility.SHARED, Visibility.SHARED, Visibility.PRIVATE]),
    )


def test_no_drift_after_a_random_sequence_of_every_write_that_changes_it(db):
    """Two hundred steps over four months, seeded (the seed is in the failure), of
    check-ins and edits by four people who pair, unpair, pair anew and delete their
    accounts; after each step the kept tallies equal the recount."""
    seed = 20261207
    rng = random.Random(seed)
    zones = ["Pacific/Auckland", "America/Los_Angeles", "Europe/London", "Asia/Kolkata"]
    people = [new_user(display_name=f"P{i}", timezone=zones[i]) for i in range(4)]
    couple_of(people[0], people[1])
    couple_of(people[2], people[3])
    start = datetime(2026, 9, 28, 6, 0, tzinfo=UTC)
    for step in range(200):
        at = start + timedelta(hours=13 * step + rng.randint(0, 5))
        with time_machine.travel(at, tick=False):
            # Fresh rows each step: a user object caches its couple for a request.
            people = list(User.objects.filter(pk__in=[p.pk for p in people]).order_by("pk"))
            action = rng.random()
            person = rng.choice(people)
            if action < 0.75:
                with contextlib.suppress(Conflict):  # a day already moved past: refused
                    _check_in(person, rng)
            elif action < 0.85:
                with contextlib.suppress(NotFound):  # not paired
                    couple_end(user=person)
            elif action < 0.95:
                single = [
                    p for p in people if not p.memberships.filter(ended_at__isnull=True).exists()
                ]
                if len(single) >= 2:
                    first, second = rng.sample(single, 2)
                    invite = invite_create(user=first)
                    invite_accept(user=second, code=invite.code)
            elif len(people) > 2:
                user_delete(user=person, password=PASSWORD)
        assert kept() == recomputed(), f"drift after step {step} (seed {seed})"
    assert recomputed(), "the sequence never made a day both showed up: it tests nothing"


def test_the_dashboard_count_reads_the_tally(cast, same_couple_day):
    today = selectors.checkin_today(user=cast.author).couple_date
    for user in (cast.author, cast.partner):
        checkin_submit(user=user, mood=4)
    shown = selectors.days_both_showed_up(user=cast.author, today=today)
    assert shown == selectors.ShowedUp(this_month=1, all_time=1)
    ShowedUpMonth.objects.filter(couple=cast.couple).update(days=7)
    assert selectors.days_both_showed_up(user=cast.author, today=today).all_time == 7


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_partners_checking_in_at_the_same_instant_count_their_day(cast, same_couple_day):
    """Each check-in's recount waits for the other's on the couple-month's row, so two
    partners checking in at once do not each miss the other's. Each write is held
    open until the other has written too (or a second has passed, when the other is
    waiting on the lock), so both recounts would run before either commits."""
    both_written = threading.Barrier(2)

    def check_in_and_hold(user: User) -> None:
        with transaction.atomic():
            checkin_submit(user=user, mood=4)
            with contextlib.suppress(threading.BrokenBarrierError):
                both_written.wait(timeout=1)

    for _ in range(3):
        Checkin.objects.all().delete()
        both_written.reset()
        outcomes = race([lambda u=u: check_in_and_hold(u) for u in (cast.author, cast.partner)])
        assert outcomes == ["ok", "ok"]
        assert kept() == recomputed()
        assert sum(kept().values()) == 1
