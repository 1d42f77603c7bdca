"""Couple scoping: who the requester's partner is, and their own words.

`couple_context(user)` tells who the requester's partner is in their *active* couple
(one query, cached on the user object for the rest of the request): pages and APIs use
it to say "you are not paired" and to name the partner. What a person may see of
couple content is decided once, in the database: the who-sees-what views keyed by the
viewer (`couples_partnership` and the views built on it, docs/architecture.md rule 2).
`CoupleScopedQuerySet.mine(user)` is a person's own words, in any couple. Views and
APIs never filter by ids from the request without going through these.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.db import models

from nuzzle.couples.models import Couple, Membership, User
from nuzzle.lib.prepared import Statement

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

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
    if Statement.available():
        context = _context_prepared(user)
        setattr(user, _CACHE_ATTR, context)
        return context
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


@cache
def context_select() -> str:
    """The columns of my couple (`k`) and my partner (`u`), every column of each, for a
    statement joining `couples_partnership p` to them (`_context_statement`, or a hot
    path's own statement that reads the context with something else): built once the
    models are loaded, not on every request."""
    return ", ".join(
        [f"k.{f.column}" for f in Couple._meta.concrete_fields]
        + [f"u.{f.column}" for f in User._meta.concrete_fields]
    )


CONTEXT_FROM = """
    FROM couples_partnership p
    JOIN couples_couple k ON k.id = p.couple_id
    JOIN couples_user u ON u.id = p.partner_id
    WHERE p.user_id = $1
"""


@cache
def _context_statement() -> Statement:
    """My couple and my partner, from the `couples_partnership` view."""
    return Statement(
        name="nuzzle_couple_context",
        types=("bigint",),
        sql=f"SELECT {context_select()} {CONTEXT_FROM}",
    )


@cache
def _context_fields() -> tuple[list[str], list[str]]:
    return (
        [f.attname for f in Couple._meta.concrete_fields],
        [f.attname for f in User._meta.concrete_fields],
    )


def context_of(user: User, rows: list[tuple[Any, ...]]) -> CoupleContext | None:
    """The context from the rows of `context_select` (whole model instances, as the
    ORM query makes them): one row, or none (unpaired)."""
    if len(rows) != 1 or rows[0][0] is None:
        return None
    couple_fields, user_fields = _context_fields()
    row, split = rows[0], len(couple_fields)
    couple = Couple.from_db("default", couple_fields, row[:split])
    partner = User.from_db("default", user_fields, row[split:])
    return CoupleContext(couple=couple, me=user, partner=partner)


def _context_prepared(user: User) -> CoupleContext | None:
    """`couple_context` on PostgreSQL: one prepared statement."""
    return context_of(user, _context_statement().rows([user.pk]))


def remember_couple_context(user: User, context: CoupleContext | None) -> None:
    """Cache a context read another way (a hot endpoint's one statement reads it with
    everything else) so that `couple_context(user)` costs no query for the rest of the
    request. Its couple and partner carry the fields that statement reads."""
    setattr(user, _CACHE_ATTR, context)


def forget_couple_context(*users: Any) -> None:
    """Drop the cached context after pairing or unpairing changed it."""
    for user in users:
        if hasattr(user, _CACHE_ATTR):
            delattr(user, _CACHE_ATTR)


M = TypeVar("M", bound=models.Model)


class CoupleScopedQuerySet(models.QuerySet[M, M]):
    """For content with an `author` (a user): `mine(user)` is everything the user
    wrote, in any couple (it stays theirs: their history, their export, their own
    edits). What anyone else may see of it is not decided here but by the database's
    who-sees-what views (docs/architecture.md, rule 2), read through their unmanaged
    models: `checkins.VisibleCheckin` and `VisibleResponse`, `prompts.VisibleQuestion`,
    `lovemaps.PartnerEntry`, all built on `couples.Partnership`."""

    def mine(self, user: User) -> Self:
        return self.filter(author=user)
