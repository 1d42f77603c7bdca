"""Reads about people, couples and invites."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from nuzzle.couples.models import Invite, Membership, User, normalize_invite_code
from nuzzle.couples.scoping import CoupleContext, couple_context
from nuzzle.lib.timezones import couple_today, local_date


def couple_get(*, user: User) -> CoupleContext | None:
    """The requester's active couple (with the partner), or None."""
    return couple_context(user)


def couple_day_today(*, user: User, at: datetime | None = None) -> date:
    """The couple day the requester is living now (docs/days.md): the date in the
    couple's shared zone that their own local day belongs to. Unpaired, their own
    local date. No query beyond the (cached) couple context."""
    context = couple_context(user)
    if context is None:
        return local_date(user.timezone, at)
    return couple_today(user.timezone, context.couple.timezone, at)


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


def export_account(*, user: User) -> dict[str, Any]:
    """My account, for my data export."""
    return {
        "email": user.email,
        "display_name": user.display_name,
        "timezone": user.timezone,
        "joined_at": user.date_joined,
        "allow_sensitive_questions": user.allow_sensitive_questions,
    }


def export_couples(*, user: User) -> list[dict[str, Any]]:
    """For my data export: every couple I have been in, oldest first, with my
    partner's display name (one query: both memberships of each of my couples)."""
    rows = (
        Membership.objects.filter(couple__memberships__user=user)
        .select_related("couple", "user")
        .order_by("couple__created_at", "couple_id", "id")
    )
    couples: dict[int, dict[str, Any]] = {}
    for row in rows:
        couple = couples.setdefault(
            row.couple_id,
            {
                "id": row.couple_id,
                "started_at": row.couple.created_at,
                "ended_at": row.couple.ended_at,
                "ended_by_me": row.couple.ended_by_id == user.pk,
                "timezone": row.couple.timezone,
                "joined_at": None,
                "partner_display_name": None,
            },
        )
        if row.user_id == user.pk:
            couple["joined_at"] = row.joined_at
        else:
            couple["partner_display_name"] = row.user.display_name
    return list(couples.values())
