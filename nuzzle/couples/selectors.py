"""Reads about people, couples and invites."""

from __future__ import annotations

from django.utils import timezone

from nuzzle.couples.models import Invite, User, normalize_invite_code
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
