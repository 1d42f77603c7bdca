"""The demo couple that `make run` creates: two people, already paired, with three
weeks of check-ins so the dashboard has something to show. Lives at the top layer
because it touches every feature."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from checkins.models import Checkin, CheckinAnswer, CheckinResponse, Reaction, Visibility
from nuzzle.couples.models import User
from nuzzle.couples.scoping import couple_context
from nuzzle.couples.services import invite_accept, invite_create
from nuzzle.lib.timezones import local_date
from prompts.selectors import checkin_questions_for

DEMO_PASSWORD = "nuzzle-demo"  # noqa: S105  (documented demo login, local use only)
DEMO_PEOPLE = (
    ("sam@example.com", "Sam", "Europe/London"),
    ("alex@example.com", "Alex", "Europe/London"),
)
HISTORY_DAYS = 21
# Deterministic, gently varying moods (1-5) and a few sample answers.
SAM_MOODS = [4, 3, 4, 5, 4, 2, 3, 3, 4, 4, 5, 4, 3, 2, 3, 4, 4, 5, 5, 4, 3]
ALEX_MOODS = [3, 3, 2, 3, 4, 4, 4, 3, 5, 4, 3, 3, 4, 4, 2, 3, 4, 4, 3, 5, 4]
SAMPLE_ANSWERS = [
    "Mostly the move, if I'm honest.",
    "Dinner with you on Friday.",
    "A quiet evening and an early night.",
    "The book club pick — I can't put it down.",
]


@transaction.atomic
def demo_couple_ensure() -> tuple[User, User, bool]:
    """Create the demo couple (and its history) if missing; leave it alone if it
    exists. Idempotent."""
    people = []
    created = False
    for email, name, tz in DEMO_PEOPLE:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, display_name=name, timezone=tz)
            created = True
        people.append(user)
    sam, alex = people
    if couple_context(sam) is None and couple_context(alex) is None:
        invite_accept(user=alex, code=invite_create(user=sam).code)
        created = True
    if not Checkin.objects.filter(author__in=people).exists():
        _seed_history(sam, alex)
        created = True
    return sam, alex, created


def _seed_history(sam: User, alex: User) -> None:
    context = couple_context(User.objects.get(pk=sam.pk))
    if context is None or context.partner.pk != alex.pk:
        return  # the demo people were re-paired by hand: leave their data alone
    today = local_date(sam.timezone)
    for offset in range(HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=offset)
        index = HISTORY_DAYS - offset
        questions = checkin_questions_for(day=day)
        for person, moods in ((sam, SAM_MOODS), (alex, ALEX_MOODS)):
            if person is alex and offset % 6 == 0:
                continue  # nobody shows up every day, and that's fine
            checkin = Checkin.objects.create(
                author=person,
                couple=context.couple,
                local_date=day,
                mood=moods[index],
                energy=3,
                visibility=Visibility.SHARED,
            )
            if questions and offset % 3 == 0:
                CheckinAnswer.objects.create(
                    checkin=checkin,
                    prompt=questions[0],
                    text=SAMPLE_ANSWERS[(index + (person is alex)) % len(SAMPLE_ANSWERS)],
                )
            if person is sam and offset % 4 == 0:
                CheckinResponse.objects.create(
                    checkin=checkin, checkin_date=day, author=alex, reaction=Reaction.HUG
                )
