"""factory_boy factories. Pairing in factories skips the invite flow (that flow has its
own tests); use `couple_of(a, b)` to pair two people directly."""

from __future__ import annotations

from typing import cast

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from nuzzle.couples.models import Couple, Invite, Membership, User
from prompts.models import Prompt

PASSWORD = "a calm evening 42"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    display_name = factory.Faker("first_name")
    timezone = "Europe/London"
    password = factory.django.Password(PASSWORD)


class InviteFactory(factory.django.DjangoModelFactory[Invite]):
    class Meta:
        model = Invite

    inviter = factory.SubFactory(UserFactory)


def new_user(**fields: object) -> User:
    """A saved user, typed as one (factory_boy types its result as the factory)."""
    return cast(User, UserFactory(**fields))


def new_curator(**fields: object) -> User:
    """A curator, set up as `manage.py curator_add` does: staff in the "curator" group
    (created by prompts/migrations/0003), in no couple, never a superuser."""
    user = new_user(**{"display_name": "Curator", **fields})
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(Group.objects.get(name="curator"))
    return user


def couple_of(first: User, second: User, *, tz: str | None = None) -> Couple:
    """A couple of two people, its shared zone the first one's (the inviter's, as
    accepting an invite proposes) unless `tz` says otherwise."""
    now = timezone.now()
    couple = Couple.objects.create(timezone=tz or first.timezone, created_at=now)
    Membership.objects.bulk_create(
        [
            Membership(couple=couple, user=first, joined_at=now),
            Membership(couple=couple, user=second, joined_at=now),
        ]
    )
    return couple


class PromptFactory(factory.django.DjangoModelFactory[Prompt]):
    class Meta:
        model = Prompt

    key = factory.Sequence(lambda n: f"q-test-{n}")
    text = factory.Sequence(lambda n: f"Test question number {n}?")
    kind = Prompt.Kind.QUESTION
    dimension = factory.Iterator(["emotional", "intellectual", "physical", "experiential"])
    depth = 1
    status = Prompt.Status.PUBLISHED


def as_prompt(value: object) -> Prompt:
    """A factory_boy result, typed as the Prompt it is."""
    return cast(Prompt, value)
