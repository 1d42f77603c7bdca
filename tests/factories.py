"""factory_boy factories. Pairing in factories skips the invite flow (that flow has its
own tests); use `couple_of(a, b)` to pair two people directly.

Rows that the services write (check-ins, answers, reveals, nudges) can be made here
directly, as data only: no service runs, nothing is enqueued, no nudge is due. Each
model has a factory (`CheckinFactory.build(...)` for `bulk_create`) and a `new_...`
helper that saves one and is typed as the model. Fields the model gives a default keep
it; the rest get a plain value that passes the model's constraints."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from checkins.models import Checkin, CheckinAnswer, CheckinResponse
from lovemaps.models import LovemapEntry, LovemapReveal
from nuzzle.couples.models import Couple, Invite, Membership, User
from nuzzle.lib.timezones import couple_day, local_date
from nuzzle.nudges.kinds import SPECS, Kind
from nuzzle.nudges.models import Nudge
from nuzzle.nudges.schedule import period_key
from prompts.assignment import closes_at_for
from prompts.models import DailyQuestion, Prompt, QuestionAnswer, QuestionReaction

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


class CoupleFactory(factory.django.DjangoModelFactory[Couple]):
    """A couple row alone, with no members: `couple_of(a, b)` makes a couple of two."""

    class Meta:
        model = Couple

    timezone = "Europe/London"
    created_at = factory.LazyFunction(lambda: timezone.now())  # the module, not the field


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    couple = factory.SubFactory(CoupleFactory)
    user = factory.SubFactory(UserFactory)
    joined_at = factory.LazyFunction(timezone.now)


def new_user(**fields: object) -> User:
    """A saved user, typed as one (factory_boy types its result as the factory)."""
    return cast(User, UserFactory(**fields))


def new_invite(**fields: object) -> Invite:
    return InviteFactory.create(**fields)


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
    couple = CoupleFactory.create(timezone=tz or first.timezone, created_at=now)
    Membership.objects.bulk_create(
        [
            MembershipFactory.build(couple=couple, user=first, joined_at=now),
            MembershipFactory.build(couple=couple, user=second, joined_at=now),
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


def new_prompt(**fields: object) -> Prompt:
    return PromptFactory.create(**fields)


# --- Check-ins --------------------------------------------------------------------------


class CheckinFactory(factory.django.DjangoModelFactory[Checkin]):
    """A check-in on its author's today; its couple day by the rule in docs/days.md (the
    local date when there is no couple), as `Checkin.save` would fill it in."""

    class Meta:
        model = Checkin

    author = factory.SubFactory(UserFactory)
    couple = None
    local_date = factory.LazyAttribute(lambda o: local_date(o.author.timezone))
    couple_date = factory.LazyAttribute(
        lambda o: (
            couple_day(o.local_date, o.author.timezone, o.couple.timezone)
            if o.couple is not None
            else o.local_date
        )
    )
    mood = 3


class CheckinAnswerFactory(factory.django.DjangoModelFactory[CheckinAnswer]):
    class Meta:
        model = CheckinAnswer

    checkin = factory.SubFactory(CheckinFactory)
    prompt = factory.SubFactory(PromptFactory, kind=Prompt.Kind.CHECKIN)
    text = "A quiet evening."


class CheckinResponseFactory(factory.django.DjangoModelFactory[CheckinResponse]):
    """A partner's response: a reaction unless told otherwise (a response with neither a
    reaction nor a reply is refused by the database)."""

    class Meta:
        model = CheckinResponse

    checkin = factory.SubFactory(CheckinFactory)
    checkin_date = factory.LazyAttribute(lambda o: o.checkin.local_date)
    author = factory.SubFactory(UserFactory)
    reaction = "heart"


def new_checkin(**fields: object) -> Checkin:
    return CheckinFactory.create(**fields)


def new_checkin_answer(**fields: object) -> CheckinAnswer:
    return CheckinAnswerFactory.create(**fields)


def new_checkin_response(**fields: object) -> CheckinResponse:
    return CheckinResponseFactory.create(**fields)


# --- Daily questions --------------------------------------------------------------------


class DailyQuestionFactory(factory.django.DjangoModelFactory[DailyQuestion]):
    """A question open on its couple's today, closing when such a question closes."""

    class Meta:
        model = DailyQuestion

    couple = factory.SubFactory(CoupleFactory)
    prompt = factory.SubFactory(PromptFactory)
    couple_date = factory.LazyAttribute(lambda o: local_date(o.couple.timezone))
    closes_at = factory.LazyAttribute(lambda o: closes_at_for(o.couple_date, o.couple.timezone))


class QuestionAnswerFactory(factory.django.DjangoModelFactory[QuestionAnswer]):
    class Meta:
        model = QuestionAnswer

    question = factory.SubFactory(DailyQuestionFactory)
    author = factory.SubFactory(UserFactory)
    text = "A walk by the sea."


class QuestionReactionFactory(factory.django.DjangoModelFactory[QuestionReaction]):
    class Meta:
        model = QuestionReaction

    question = factory.SubFactory(DailyQuestionFactory)
    author = factory.SubFactory(UserFactory)
    reaction = "heart"


def new_daily_question(**fields: object) -> DailyQuestion:
    return DailyQuestionFactory.create(**fields)


def new_question_answer(**fields: object) -> QuestionAnswer:
    return QuestionAnswerFactory.create(**fields)


def new_question_reaction(**fields: object) -> QuestionReaction:
    return QuestionReactionFactory.create(**fields)


# --- Love maps --------------------------------------------------------------------------


class LovemapEntryFactory(factory.django.DjangoModelFactory[LovemapEntry]):
    """The current first version of an answer, written now, stale after its topic's
    half-life."""

    class Meta:
        model = LovemapEntry

    author = factory.SubFactory(UserFactory)
    topic = factory.SubFactory(
        PromptFactory, kind=Prompt.Kind.LOVEMAP, domain=Prompt.Domain.JOYS, half_life_days=30
    )
    couple = None
    text = "Rain on the window."
    created_at = factory.LazyFunction(timezone.now)
    confirmed_at = factory.SelfAttribute("created_at")
    stale_at = factory.LazyAttribute(
        lambda o: o.confirmed_at + timedelta(days=o.topic.half_life_days)
    )


class LovemapRevealFactory(factory.django.DjangoModelFactory[LovemapReveal]):
    """A reveal of an entry written in a couple, in that couple, without a guess."""

    class Meta:
        model = LovemapReveal

    viewer = factory.SubFactory(UserFactory)
    entry = factory.SubFactory(LovemapEntryFactory, couple=factory.SubFactory(CoupleFactory))
    topic = factory.SelfAttribute("entry.topic")
    couple = factory.SelfAttribute("entry.couple")
    revealed_at = factory.LazyFunction(timezone.now)


def new_lovemap_entry(**fields: object) -> LovemapEntry:
    return LovemapEntryFactory.create(**fields)


def new_lovemap_reveal(**fields: object) -> LovemapReveal:
    return LovemapRevealFactory.create(**fields)


# --- Nudges -----------------------------------------------------------------------------


class NudgeFactory(factory.django.DjangoModelFactory[Nudge]):
    """An outbox row scheduled now, on the person's local date, keyed by its kind's
    period (the date, or the ISO week for weekly kinds), pending."""

    class Meta:
        model = Nudge

    user = factory.SubFactory(UserFactory)
    kind = Kind.QUESTION_READY
    scheduled_for = factory.LazyFunction(timezone.now)
    local_date = factory.LazyAttribute(lambda o: local_date(o.user.timezone, o.scheduled_for))
    period = factory.LazyAttribute(lambda o: period_key(SPECS[o.kind].cadence, o.local_date))


def new_nudge(**fields: object) -> Nudge:
    return NudgeFactory.create(**fields)
