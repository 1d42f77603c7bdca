"""Seeding for the mixed load: couples formed through Nuzzle's own services (sign-up,
invite, accept), a history of earlier check-ins, a few love-map answers, and the
credentials the simulated partners use.

Import after `bench.common.setup()`.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, replace
from datetime import timedelta

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
from django.test.utils import override_settings
from knox.models import AuthToken

from bench.mixed_ledger import Ledger
from checkins.models import Checkin, CheckinAnswer, Visibility
from lovemaps.services import lovemap_answer
from nuzzle.couples.models import User
from nuzzle.couples.services import invite_accept, invite_create, user_signup
from nuzzle.lib.timezones import couple_day, local_date
from prompts.models import Prompt
from prompts.selectors import checkin_questions_for

PASSWORD = "correct horse battery staple 42"  # noqa: S105 (a benchmark's own accounts)

# Whole, half and quarter hours, both hemispheres' DST rules, and the two ends of the
# date line (Kiritimati +14, Pago Pago -11), so partners are often on different days.
ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Africa/Lagos",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Adelaide",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "America/St_Johns",
    "Atlantic/Azores",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
]

# Markup, template syntax and quotes too: they must come back escaped, as text.
WORDS = [
    "tired but hopeful",
    "the garden",
    "Tom & Jerry's",
    "<b>not bold</b>",
    "a long walk",
    "work deadline",
    "{{ not a template }}",
    "Grandma's soup",
    "quiet evening",
    "new job",
    "the move",
    "dentist on Friday",
    "café au lait",
    "learning Portuguese",
    "the kids' play",
]

HISTORY_DAYS = 14
LOVEMAP_SEED_ANSWERS = 2


class QuickHasher(PBKDF2PasswordHasher):
    """Only while seeding: one iteration, so 500 sign-ups don't take 500 full PBKDF2
    rounds here. Every account then gets one full-strength hash (see `seed`)."""

    iterations = 1


@dataclass
class PartnerSpec:
    index: int  # 0..partners-1
    couple: int  # the benchmark's couple number, 1..couples (the marker's)
    couple_pk: int
    user_id: int
    partner_id: int
    email: str
    timezone: str
    couple_timezone: str
    token: str = ""
    session: str = ""


def words(rng: random.Random) -> str:
    return rng.choice(WORDS)


def zone_pairs(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """A distinct (inviter zone, partner zone) mix per couple: shared zones included."""
    pairs = [(a, b) for a in ZONES for b in ZONES]
    rng.shuffle(pairs)
    if count > len(pairs):
        pairs = pairs * (count // len(pairs) + 1)
    return pairs[:count]


def seed(*, couples: int, rng: random.Random, ledger: Ledger) -> list[PartnerSpec]:
    """Sign up two people per couple, pair them with an invite, give each a history
    of earlier check-ins and a couple of love-map answers. Returns the partners."""
    started = time.monotonic()
    partners: list[PartnerSpec] = []
    with override_settings(PASSWORD_HASHERS=["bench.mixed_seed.QuickHasher"]):
        for number, (zone_a, zone_b) in enumerate(zone_pairs(couples, rng), start=1):
            people = []
            for side, zone in (("a", zone_a), ("b", zone_b)):
                # The display name carries the couple's marker: the partner's name is
                # on every page, so another couple's name showing up is a leak too.
                name = ledger.mark(couple=number, author=0, kind="name", words=f"P{side}")
                user = user_signup(
                    email=f"mixed{number:04d}{side}@bench.example",
                    password=PASSWORD,
                    display_name=name,
                    timezone_name=zone,
                )
                ledger.texts[ledger.serial] = replace(ledger.texts[ledger.serial], author=user.pk)
                people.append(user)
            inviter, joiner = people
            invite = invite_create(user=inviter)
            couple = invite_accept(user=joiner, code=invite.code)
            for me, other in ((inviter, joiner), (joiner, inviter)):
                partners.append(
                    PartnerSpec(
                        index=len(partners),
                        couple=number,
                        couple_pk=couple.pk,
                        user_id=me.pk,
                        partner_id=other.pk,
                        email=me.email,
                        timezone=me.timezone,
                        couple_timezone=couple.timezone,
                    )
                )
    # One full-strength hash (the server's default hasher) shared by every account, so
    # a log-in costs the server exactly what a real one costs and no hash is upgraded.
    User.objects.filter(pk__in=[p.user_id for p in partners]).update(
        password=make_password(PASSWORD)
    )
    print(f"  {couples} couples ({len(partners)} people) signed up and paired")
    _seed_history(partners, rng, ledger)
    _seed_lovemaps(partners, rng, ledger)
    print(f"  seeded in {time.monotonic() - started:.1f} s")
    return partners


def _seed_history(partners: list[PartnerSpec], rng: random.Random, ledger: Ledger) -> None:
    """Earlier days' check-ins (bulk inserted, as if written on those days): a quarter
    private, each with one marked answer, so history, charts and the dashboard have
    content to leak."""
    questions: dict[object, int] = {}
    checkins, answers = [], []
    for spec in partners:
        today = local_date(spec.timezone)
        for back in range(1, HISTORY_DAYS + 1):
            day = today - timedelta(days=back)
            if rng.random() < 0.2:
                continue  # missing a day is fine
            if day not in questions:
                questions[day] = checkin_questions_for(day=day)[0].pk
            private = rng.random() < 0.25
            checkins.append(
                Checkin(
                    author_id=spec.user_id,
                    couple_id=spec.couple_pk,
                    local_date=day,
                    couple_date=couple_day(day, spec.timezone, spec.couple_timezone),
                    mood=rng.randint(1, 5),
                    energy=rng.randint(1, 5),
                    visibility=Visibility.PRIVATE if private else Visibility.SHARED,
                )
            )
            answers.append(
                (
                    questions[day],
                    ledger.mark(
                        couple=spec.couple,
                        author=spec.user_id,
                        kind="checkin_answer",
                        words=words(rng),
                        private=private,
                    ),
                )
            )
    with transaction.atomic():
        created = Checkin.objects.bulk_create(checkins, batch_size=1000)
        CheckinAnswer.objects.bulk_create(
            [
                CheckinAnswer(checkin=checkin, prompt_id=prompt_id, text=text)
                for checkin, (prompt_id, text) in zip(created, answers, strict=True)
            ],
            batch_size=1000,
        )
    print(f"  {len(created)} earlier check-ins")


def _seed_lovemaps(partners: list[PartnerSpec], rng: random.Random, ledger: Ledger) -> None:
    """A couple of love-map answers each, through the service (recorded like the
    load's own writes and checked the same way)."""
    topics = lovemap_topic_ids()
    users = {u.pk: u for u in User.objects.filter(pk__in=[p.user_id for p in partners])}
    count = 0
    for spec in partners:
        for topic_id in rng.sample(topics[:12], LOVEMAP_SEED_ANSWERS):
            text = ledger.mark(
                couple=spec.couple, author=spec.user_id, kind="lovemap_answer", words=words(rng)
            )
            lovemap_answer(user=users[spec.user_id], topic_id=topic_id, text=text)
            ledger.key(ledger.lovemap, (spec.user_id, topic_id)).ack(text)
            count += 1
    print(f"  {count} love-map answers")


def lovemap_topic_ids() -> list[int]:
    return list(
        Prompt.objects.filter(kind=Prompt.Kind.LOVEMAP, status=Prompt.Status.PUBLISHED)
        .order_by("id")
        .values_list("id", flat=True)
    )


def mint_credentials(partners: list[PartnerSpec]) -> None:
    """An API token (as POST /api/v1/auth/token makes it) and a browser session (as
    django.contrib.auth.login stores it) for each partner, without a password check:
    see README ("Log-ins") for why most partners skip the real log-in."""
    users = {u.pk: u for u in User.objects.filter(pk__in=[p.user_id for p in partners])}
    for spec in partners:
        user = users[spec.user_id]
        _, spec.token = AuthToken.objects.create(user=user)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        spec.session = session.session_key or ""
