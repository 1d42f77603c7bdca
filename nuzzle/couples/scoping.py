"""Couple scoping, in one place.

Every selector of couple content starts here: `couple_context(user)` tells who the
requester's partner is in their *active* couple (one query, cached on the user object
for the rest of the request), and `CoupleScopedQuerySet` narrows any model that has
`couple` and `author` foreign keys to what the requester may see. Views and APIs never
filter by ids from the request without going through these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.db import models

from nuzzle.couples.models import Couple, Membership

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from nuzzle.couples.models import User

_CACHE_ATTR = "_nuzzle_couple_context"


@dataclass(frozen=True)
class CoupleContext:
    couple: Couple
    me: User
    partner: User


def couple_context(user: User | AnonymousUser) -> CoupleContext | None:
    """The requester's active couple and partner, or None when unpaired or anonymous."""
    if not user.is_authenticated:
        return None
    if hasattr(user, _CACHE_ATTR):
        cached: CoupleContext | None = getattr(user, _CACHE_ATTR)
        return cached
    # Both active memberships of the couple I am actively in: one query.
    rows = list(
        Membership.objects.select_related("couple", "user").filter(
            ended_at__isnull=True,
            couple__memberships__user=user,
            couple__memberships__ended_at__isnull=True,
        )
    )
    context = None
    partner_rows = [row for row in rows if row.user_id != user.pk]
    if len(rows) == 2 and len(partner_rows) == 1:
        context = CoupleContext(couple=rows[0].couple, me=user, partner=partner_rows[0].user)
    setattr(user, _CACHE_ATTR, context)
    return context


def forget_couple_context(*users: Any) -> None:
    """Drop the cached context after pairing or unpairing changed it."""
    for user in users:
        if hasattr(user, _CACHE_ATTR):
            delattr(user, _CACHE_ATTR)


M = TypeVar("M", bound=models.Model)


class CoupleScopedQuerySet(models.QuerySet[M, M]):
    """For content with `author` (a user) and a couple it was written in: its own
    `couple` field, or one reached through a relation (`couple_field`, e.g.
    "question__couple" for an answer to a couple's daily question).

    - `mine(user)`: everything the user wrote, in any couple (it stays theirs).
    - `from_partner(user)`: what the partner wrote *in the current couple*; empty when
      unpaired. Feature apps narrow this further (e.g. shared only).
    - `mine_or_in_current_couple(user)`: mine anywhere, and both partners' in the
      current couple (what a page may fetch before its own rules, such as sealing,
      decide what to show).
    """

    couple_field = "couple"

    def mine(self, user: User) -> Self:
        return self.filter(author=user)

    def from_partner(self, user: User) -> Self:
        context = couple_context(user)
        if context is None:
            return self.none()
        return self.filter(**{self.couple_field: context.couple}, author=context.partner)

    def mine_or_in_current_couple(self, user: User) -> Self:
        context = couple_context(user)
        readable = models.Q(author=user)
        if context is not None:
            readable |= models.Q(**{self.couple_field: context.couple})
        return self.filter(readable)
