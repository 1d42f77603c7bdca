"""Reads about people, couples and invites."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from django.utils import timezone

from nuzzle.couples.models import Invite, Membership, User, normalize_invite_code
from nuzzle.couples.scoping import CoupleContext, couple_context


def couple_get(*, user: User) -> CoupleContext | None:
    """The requester's active couple (with the partner), or None."""
    return couple_context(user)


def invite_pending_for(*, user: User) -> Invite | None:
    """The requester's own invite that can still be accepted, if any."""
    return (
        Invite.objects.filter(
            inviter=user,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at")
        .first()
    )


def invite_get_by_code(*, code: str) -> Invite | None:
    """An invite by its code, as typed (holding the code is what grants access)."""
    normalized = normalize_invite_code(code)
    if not normalized:
        return None
    return Invite.objects.select_related("inviter").filter(code=normalized).first()


@dataclass(frozen=True)
class ActivePair:
    """One person's side of their active couple, for set-based work (nudges)."""

    couple_id: int
    couple_timezone: str
    timezone: str  # the person's own zone
    partner_id: int
    partner_name: str


def active_pairs(*, user_ids: Collection[int]) -> dict[int, ActivePair]:
    """Each of `user_ids` who is in an active couple, with their partner — in one query
    (both active memberships of every couple one of them is actively in), however many
    people are asked. The unpaired are simply absent."""
    rows = Membership.objects.filter(
        ended_at__isnull=True,
        couple__memberships__user_id__in=user_ids,
        couple__memberships__ended_at__isnull=True,
    ).values_list(
        "couple_id", "couple__timezone", "user_id", "user__timezone", "user__display_name"
    )
    members: dict[int, dict[int, tuple[str, str, str]]] = defaultdict(dict)
    for couple_id, couple_zone, user_id, zone, name in rows:  # repeats when both are asked
        members[couple_id][user_id] = (couple_zone, zone, name)
    pairs: dict[int, ActivePair] = {}
    for couple_id, people in members.items():
        if len(people) != 2:
            continue
        (first, first_row), (second, second_row) = people.items()
        for me, mine, partner, theirs in (
            (first, first_row, second, second_row),
            (second, second_row, first, first_row),
        ):
            if me in user_ids:
                pairs[me] = ActivePair(couple_id, mine[0], mine[1], partner, theirs[2])
    return pairs
