"""Pairing under real concurrency: threads with their own PostgreSQL connections."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from nuzzle.couples import services
from nuzzle.couples.models import Couple, Invite, Membership, User
from tests.concurrency import race
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("attempt", range(3))
def test_many_people_racing_for_one_invite_make_exactly_one_couple(attempt):
    inviter = UserFactory()
    code = services.invite_create(user=inviter).code
    joiners = [UserFactory() for _ in range(8)]

    def accept(user: User) -> Callable[[], object]:
        return lambda: services.invite_accept(user=User.objects.get(pk=user.pk), code=code)

    outcomes = race([accept(joiner) for joiner in joiners])

    assert Counter(outcomes) == {"ok": 1, "Invalid": 7}
    assert Couple.objects.count() == 1
    couple = Couple.objects.get()
    members = set(couple.members.values_list("pk", flat=True))
    winner = joiners[outcomes.index("ok")]
    assert members == {inviter.pk, winner.pk}
    assert Membership.objects.filter(ended_at__isnull=True).count() == 2


@pytest.mark.parametrize("attempt", range(3))
def test_two_people_accepting_each_others_invites_at_once_make_one_couple(attempt):
    first, second = UserFactory(), UserFactory()
    first_code = services.invite_create(user=first).code
    second_code = services.invite_create(user=second).code

    outcomes = race(
        [
            lambda: services.invite_accept(user=User.objects.get(pk=first.pk), code=second_code),
            lambda: services.invite_accept(user=User.objects.get(pk=second.pk), code=first_code),
        ]
    )

    assert sorted(outcomes) in (["Conflict", "ok"], ["Invalid", "ok"])
    assert Couple.objects.count() == 1
    assert Membership.objects.filter(ended_at__isnull=True).count() == 2


def test_one_person_accepting_two_invites_at_once_joins_one_couple():
    joiner = UserFactory()
    codes = [services.invite_create(user=UserFactory()).code for _ in range(4)]

    outcomes = race(
        [
            (
                lambda code=code: services.invite_accept(
                    user=User.objects.get(pk=joiner.pk), code=code
                )
            )
            for code in codes
        ]
    )

    assert outcomes.count("ok") == 1
    assert set(outcomes) <= {"ok", "Conflict"}
    assert Membership.objects.filter(user=joiner, ended_at__isnull=True).count() == 1
    assert Couple.objects.count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_many_invites_created_at_once_by_one_person_leave_exactly_one_live(attempt):
    inviter = UserFactory()

    def create() -> object:
        return services.invite_create(user=User.objects.get(pk=inviter.pk))

    outcomes = race([create for _ in range(8)])

    assert outcomes == ["ok"] * 8
    live = Invite.objects.filter(inviter=inviter, accepted_at__isnull=True, revoked_at__isnull=True)
    assert live.count() == 1
    assert Invite.objects.filter(inviter=inviter).count() == 8
    # The live one is the newest: every earlier one was revoked by a later call.
    assert live.get() == Invite.objects.filter(inviter=inviter).latest("created_at", "pk")
