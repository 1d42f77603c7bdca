"""The demo couple that `make run` signs you into: two people, already paired."""

from __future__ import annotations

from django.db import transaction

from nuzzle.couples.models import User
from nuzzle.couples.scoping import couple_context
from nuzzle.couples.services import invite_accept, invite_create

DEMO_PASSWORD = "nuzzle-demo"  # noqa: S105  (documented demo login, local use only)
DEMO_PEOPLE = (
    ("sam@example.com", "Sam", "Europe/London"),
    ("alex@example.com", "Alex", "Europe/London"),
)


@transaction.atomic
def demo_couple_ensure() -> tuple[User, User, bool]:
    """Create the demo couple if missing; leave it alone if it exists. Idempotent."""
    people = []
    created = False
    for email, name, tz in DEMO_PEOPLE:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, display_name=name, timezone=tz)
            created = True
        people.append(user)
    first, second = people
    if couple_context(first) is None and couple_context(second) is None:
        invite = invite_create(user=first)
        invite_accept(user=second, code=invite.code)
        created = True
    return first, second, created
