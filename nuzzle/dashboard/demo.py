"""The demo couple that `make run` creates: two people, already paired, with three
weeks of check-ins so the dashboard has something to show. Lives at the top layer
because it touches every feature.

The history is meant to read like a real couple's: they joined Nuzzle a few days
before their first check-in (so "Together on Nuzzle since" comes before the history),
mood and energy move from day to day, and every answer was written for the check-in
question it answers (`DEMO_ANSWERS`, keyed by the bank's stable prompt keys).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction

from checkins.models import Checkin, CheckinAnswer, CheckinResponse, Reaction, Visibility
from nuzzle.couples.models import Couple, Invite, Membership, User
from nuzzle.couples.scoping import couple_context
from nuzzle.couples.services import invite_accept, invite_create
from nuzzle.lib.timezones import couple_day, local_date
from prompts.models import Prompt
from prompts.selectors import checkin_questions_for

DEMO_PASSWORD = "nuzzle-demo"  # noqa: S105  (documented demo login, local use only)
DEMO_PEOPLE = (
    ("sam@example.com", "Sam", "Europe/London"),
    ("alex@example.com", "Alex", "Europe/London"),
)
HISTORY_DAYS = 21
# The couple signed up and paired this many days ago, a few days before their first
# check-in (HISTORY_DAYS ago): people look around before they start.
JOINED_DAYS_AGO = HISTORY_DAYS + 3
# Deterministic, gently varying moods (1-5) and energies (1-5; "-": not given, as the
# form allows), one per day, oldest first. Energy follows mood loosely: a good day can
# still be a tired one. Alex skips every sixth day (see _seed_history).
SAM_MOODS = [4, 3, 4, 5, 4, 2, 3, 3, 4, 4, 5, 4, 3, 2, 3, 4, 4, 5, 5, 4, 3]
ALEX_MOODS = [3, 3, 2, 3, 4, 4, 4, 3, 5, 4, 3, 3, 4, 4, 2, 3, 4, 4, 3, 5, 4]
SAM_ENERGY = "324432234354312344533"
ALEX_ENERGY = "4323-53344233423-4354"


def _level(digit: str) -> int | None:
    return None if digit == "-" else int(digit)


# Answers written for each bundled check-in question, keyed by its stable `key`: one
# for Sam, one for Alex. A question without an entry (say, a newly added one) is simply
# left unanswered by the demo couple.
DEMO_ANSWERS: dict[str, tuple[str, str]] = {
    "checkin-mental-space": (
        "Mostly the move, if I'm honest. Boxes everywhere, in my head too.",
        "The presentation on Thursday. I keep rehearsing it in the shower.",
    ),
    "checkin-looking-forward": (
        "Dinner with you on Friday.",
        "The first coffee tomorrow, in the quiet before everyone wakes up.",
    ),
    "checkin-need-from-me": (
        "A hug when I get home, before we talk about anything practical.",
        "Could you take the bins out? And maybe ask me about my day tonight.",
    ),
    "checkin-body-feels": (
        "Tense in the shoulders. Too long at the desk.",
        "Rested, for once. The early night helped.",
    ),
    "checkin-small-win": (
        "The landlord finally answered, and it was good news.",
        "My bread actually rose this time.",
    ),
    "checkin-on-your-mind-idea": (
        "That podcast about how cities plant trees. I keep thinking about our street.",
        "Something my sister said about slowing down. I think she's right.",
    ),
    "checkin-energy-drain": (
        "Three meetings in a row drained me; the walk home filled me back up.",
        "The train delays, again. Your message at lunch helped.",
    ),
    "checkin-grateful": (
        "That you made tea without me asking.",
        "Sunshine at lunchtime, long enough to eat outside.",
    ),
    "checkin-want-to-talk": (
        "The holiday. Shall we finally pick a week?",
        "Nothing big. I'd just like to sit together for a bit.",
    ),
    "checkin-thought-like-set-before": (
        "That the move doesn't have to be perfect, just done.",
        "I said no to the extra project, and that was fine.",
    ),
    "checkin-sleep-last-night-honestly": (
        "Badly. I woke at four and started making lists.",
        "Like a log. Eight hours, no alarm.",
    ),
    "checkin-moment-today-like-keep": (
        "Laughing in the kitchen while the pasta boiled over.",
        "The quiet walk by the river after work.",
    ),
    "checkin-make-tomorrow-little-easier": (
        "Packing lunch tonight so the morning is calmer.",
        "Leaving my laptop at work for once.",
    ),
    "checkin-enjoy-talking-today": (
        "Priya at work. She always asks the right question.",
        "My mum. We talked for an hour about nothing in particular.",
    ),
    "checkin-eat-today-liked": (
        "The soup from the new place on the corner.",
        "Your leftover curry. Even better the second day.",
    ),
    "checkin-bugging-like-get-off": (
        "A bit stung that nobody noticed the work I did. It's passing.",
        "The washing machine noise. Silly, but it's been on my mind.",
    ),
    "checkin-made-laugh-today": (
        "The neighbour's cat sitting on our doorstep like it owned the place.",
        "Your voice message about the pigeon.",
    ),
    "checkin-thing-today-feel-good": (
        "I finally called the bank instead of putting it off.",
        "I went for a run even though I didn't feel like it.",
    ),
    "checkin-wheres-energy-right-now": (
        "About half charged. Enough for a film, not for the gym.",
        "Low battery. Sofa, please.",
    ),
    "checkin-manage-get-outside-today": (
        "Only to the shop and back, but it counted.",
        "Yes, a long lunch walk in the park.",
    ),
    "checkin-noticed-learned-today": (
        "The cherry tree on our street is about to flower.",
        "That octopuses dream, apparently. I can't stop thinking about it.",
    ),
    "checkin-small-job-take-off": (
        "Could you book the car in for its service?",
        "Picking up the parcel from the post office would be lovely.",
    ),
    "checkin-word-sums-day": (
        "Scattered.",
        "Gentle.",
    ),
    "checkin-curious-moment": (
        "How people learn a language as adults. I'd like to try Spanish.",
        "Whether we could grow tomatoes on the balcony.",
    ),
    "checkin-part-today-went-too": (
        "Breakfast with you. It always goes too fast on weekdays.",
        "The afternoon, deep in a good problem.",
    ),
    "checkin-feel-like-treat-evening": (
        "A bath and an early night.",
        "Takeaway and the next episode.",
    ),
    "checkin-meaning-tell": (
        "Just that I noticed how patient you've been with me lately. Thank you.",
        "I'd like to visit my dad more often, and I'd love you to come.",
    ),
    "checkin-thing-like-together-week": (
        "Cook something new together on Saturday.",
        "A walk somewhere we've never been.",
    ),
    "checkin-feeling-tomorrow": (
        "A bit nervous, mostly ready.",
        "Calm. It's an easy day.",
    ),
    "checkin-today": (
        "Twenty minutes with my book in the café.",
        "A long shower with music on.",
    ),
    "checkin-problem-solve-today-big": (
        "Worked out why the spreadsheet kept crashing.",
        "Got the wobbly chair to stop wobbling.",
    ),
    "checkin-anyone-surprise-today": (
        "My manager said thank you, out of the blue.",
        "An old friend messaged to say she's in town next month.",
    ),
    "checkin-have-moved-body-today": (
        "A short yoga video. Stiff at first, better after.",
        "Cycled to work. My legs know about it.",
    ),
    "checkin-kind-thing-today": (
        "A stranger held the door and waited while I juggled the boxes.",
        "You left me the last biscuit.",
    ),
}


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
    tz = ZoneInfo(sam.timezone)
    today = local_date(sam.timezone)
    _backdate_couple(context.couple, sam, alex, today - timedelta(days=JOINED_DAYS_AGO), tz)
    for offset in range(HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=offset)
        index = HISTORY_DAYS - offset
        questions = checkin_questions_for(day=day)
        evening = datetime.combine(day, time(20, 30), tzinfo=tz)
        days = [(sam, SAM_MOODS, SAM_ENERGY), (alex, ALEX_MOODS, ALEX_ENERGY)]
        for order, (person, moods, energies) in enumerate(days):
            if person is alex and offset % 6 == 0:
                continue  # nobody shows up every day, and that's fine
            checkin = _checkin_create(
                author=person,
                couple=context.couple,
                day=day,
                mood=moods[index],
                energy=_level(energies[index]),
                at=evening + timedelta(minutes=25 * order),
            )
            for position, prompt in enumerate(_answered(questions, offset, order)):
                CheckinAnswer.objects.create(
                    checkin=checkin,
                    prompt=prompt,
                    position=position,
                    text=DEMO_ANSWERS[prompt.key][order],
                )
            if person is sam and offset % 4 == 0:
                response = CheckinResponse.objects.create(
                    checkin=checkin, checkin_date=day, author=alex, reaction=Reaction.HUG
                )
                later = evening + timedelta(hours=1)
                CheckinResponse.objects.filter(pk=response.pk).update(
                    created_at=later, updated_at=later
                )


def _backdate_couple(couple: Couple, sam: User, alex: User, day: date, tz: ZoneInfo) -> None:
    """Move the couple's start, both sign-ups and the invite that paired them to `day`
    (services stamp them with the current time), so every date the app shows about
    the couple comes before its first check-in: Sam signs up and invites, Alex joins
    the same evening."""
    signed_up = datetime.combine(day, time(19, 0), tzinfo=tz)
    paired = signed_up + timedelta(minutes=40)
    User.objects.filter(pk=sam.pk).update(date_joined=signed_up)
    User.objects.filter(pk=alex.pk).update(date_joined=signed_up + timedelta(minutes=30))
    Couple.objects.filter(pk=couple.pk).update(created_at=paired)
    Membership.objects.filter(couple=couple).update(joined_at=paired)
    Invite.objects.filter(couple=couple).update(
        created_at=signed_up + timedelta(minutes=5),
        expires_at=signed_up + timedelta(days=7),
        accepted_at=paired,
    )


def _checkin_create(
    *, author: User, couple: Couple, day: date, mood: int, energy: int | None, at: datetime
) -> Checkin:
    """The one place the demo builds a check-in row. Not through `checkin_submit`: the
    service only writes today's check-in, and the demo's are in the past (with
    timestamps from that day)."""
    checkin = Checkin.objects.create(
        author=author,
        couple=couple,
        local_date=day,
        couple_date=couple_day(day, author.timezone, couple.timezone),
        mood=mood,
        energy=energy,
        visibility=Visibility.SHARED,
    )
    # created_at/updated_at are auto fields: stamped "now" on create, moved after.
    Checkin.objects.filter(pk=checkin.pk).update(created_at=at, updated_at=at)
    return checkin


def _answered(questions: list[Prompt], offset: int, order: int) -> list[Prompt]:
    """Which of the day's questions a person answered: one on most days, two now and
    then, none on some (answers are optional), always ones the demo has words for."""
    if not questions or (offset + order) % 4 == 3:
        return []
    count = 2 if (offset + order) % 5 == 0 else 1
    start = (offset + 2 * order) % len(questions)
    chosen = [questions[(start + step) % len(questions)] for step in range(count)]
    return [prompt for prompt in chosen if prompt.key in DEMO_ANSWERS]
