"""My map and my map of my partner. A status on one of my partner's answers (unseen,
changed, current), and whether its text is shown, is decided by the database's
`PartnerEntry` view (lovemaps migration 0003)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Prefetch,
)
from django.utils import timezone

from lovemaps.models import LovemapEntry, LovemapReveal, PartnerEntry
from lovemaps.selectors.topics import DOMAIN_ORDER, domain_order, lovemap_topics
from nuzzle.couples.models import User
from nuzzle.couples.scoping import couple_context
from prompts.models import Prompt

# --- My map -------------------------------------------------------------------------


@dataclass(frozen=True)
class Guess:
    """A guess about one topic (a reveal's), and its rating (None: not rated yet)."""

    id: int
    guess: str
    rating: str | None


@dataclass(frozen=True)
class MyTopic:
    topic: Prompt
    entry: LovemapEntry
    stale: bool
    guesses: list[Guess]  # my partner's guesses about this topic, to rate


def my_map(
    *, user: User, now: datetime | None = None, topic_id: int | None = None
) -> list[MyTopic]:
    """My current answers, or just one (2 queries: entries with topics, and my
    partner's guesses)."""
    now = now or timezone.now()
    context = couple_context(user)
    guesses = LovemapReveal.objects.exclude(guess="").order_by("-revealed_at")
    guesses = guesses.filter(couple=context.couple) if context else guesses.none()
    entries = (
        LovemapEntry.objects.mine(user)
        .filter(is_current=True)
        .select_related("topic")
        .prefetch_related(Prefetch("reveals", queryset=guesses, to_attr="guessed"))
        .order_by(domain_order("topic__domain"), "topic_id")
    )
    if topic_id is not None:
        entries = entries.filter(topic_id=topic_id)
    return [
        MyTopic(
            topic=entry.topic,
            entry=entry,
            stale=entry.stale_at <= now,
            guesses=[
                Guess(id=r.pk, guess=r.guess, rating=r.rating or None)
                # The stubs see `to_attr` on a plain manager's queryset, not on a custom one.
                for r in entry.guessed  # type: ignore[attr-defined]
            ],
        )
        for entry in entries
    ]


def my_topics(*, user: User, domain: str = "") -> list[tuple[Prompt, MyTopic | None]]:
    """Every published topic (of one area, if given) with my answer or None (3 queries)."""
    answered = {row.topic.pk: row for row in my_map(user=user)}
    return [(topic, answered.get(topic.pk)) for topic in lovemap_topics(domain=domain)]


# --- My map of you --------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerTopic:
    topic: Prompt
    status: str  # "unseen", "changed" or "current"
    answer: str | None  # only when `current`: the text is shown after revealing
    updated_at: datetime
    guess_id: int | None
    guess: str | None
    rating: str | None

    @property
    def my_guess(self) -> Guess | None:
        """My guess about the current version, with its rating, if I made one."""
        if self.guess_id is None or self.guess is None:
            return None
        return Guess(id=self.guess_id, guess=self.guess, rating=self.rating)


# What needs attention first: changed, then new to me, then what I know.
STATUS_ORDER = {"changed": 0, "unseen": 1, "current": 2}


def partner_map(*, user: User, domain: str = "") -> list[PartnerTopic]:
    """Every topic my partner answered (in one area, if given), changed first, with my
    status; text only where `current`. One query on the `PartnerEntry` view, which
    decides the status and seals the text (and my guess on it) where it is not
    current."""
    entries = PartnerEntry.objects.filter(viewer=user).select_related("topic")
    if domain:
        entries = entries.filter(topic__domain=domain)
    rows = [
        PartnerTopic(
            topic=entry.topic,
            status=entry.status,
            answer=entry.text,
            updated_at=entry.created_at,
            guess_id=entry.reveal_id if entry.guess else None,
            guess=entry.guess or None,
            rating=entry.rating or None,
        )
        for entry in entries
    ]
    rows.sort(
        key=lambda row: (
            STATUS_ORDER[row.status],
            DOMAIN_ORDER.get(row.topic.domain, len(DOMAIN_ORDER)),
            row.topic.pk,
        )
    )
    return rows
