"""My map and my map of my partner. A status on one of my partner's answers (unseen,
changed, current) comes from two versions read in SQL (the current one, the newest one
I revealed) and is decided here, in `reveal_status`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.utils import timezone

from lovemaps.models import LovemapEntry, LovemapReveal
from lovemaps.selectors.topics import DOMAIN_ORDER, domain_order, lovemap_topics
from nuzzle.couples.models import User
from nuzzle.couples.scoping import CoupleContext, couple_context
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


def _partner_entries(user: User) -> QuerySet[LovemapEntry]:
    """My partner's current answers in our couple, each annotated with `seen_version`:
    the newest version of that topic I revealed (None: never). `reveal_status` turns the
    two versions into my status; it is computed in Python, from one evaluation of the
    subquery per answer (in SQL, each use of a status repeated it)."""
    entries = LovemapEntry.objects.from_partner(user).filter(is_current=True)
    context = couple_context(user)
    if context is None:
        # Empty (no partner), but shaped like the paired case, so callers need no
        # special case.
        return entries.annotate(seen_version=Value(None, output_field=IntegerField()))
    return entries.annotate(seen_version=newest_revealed_version(user, context))


def newest_revealed_version(user: User, context: CoupleContext) -> Subquery:
    """For one of my partner's answers (the outer row): the newest version of its topic
    I revealed in our couple, or NULL."""
    seen = LovemapReveal.objects.filter(
        viewer=user,
        couple=context.couple,
        entry__author=context.partner,
        entry__topic=OuterRef("topic"),
    ).order_by("-entry__version")
    return Subquery(seen.values("entry__version")[:1])


def reveal_status(version: int, seen_version: int | None) -> str:
    """Mine on one of my partner's answers (its current `version`; `seen_version`, the
    newest I revealed): never revealed, revealed as it is now, or revealed in an older
    version."""
    if seen_version is None:
        return "unseen"
    return "current" if seen_version == version else "changed"


# What needs attention first: changed, then new to me, then what I know.
STATUS_ORDER = {"changed": 0, "unseen": 1, "current": 2}


def partner_map(*, user: User, domain: str = "") -> list[PartnerTopic]:
    """Every topic my partner answered (in one area, if given), changed first, with my
    status; text only where `current`. One query: the answers with their topics, the
    newest version I revealed, and my reveal (guess, rating) of the current version."""
    entries = _partner_entries(user)
    if domain:
        entries = entries.filter(topic__domain=domain)
    rows = []
    for entry in (
        entries.select_related("topic")
        .alias(mine=FilteredRelation("reveals", condition=Q(reveals__viewer=user)))
        .annotate(mine_id=F("mine__id"), mine_guess=F("mine__guess"), mine_rating=F("mine__rating"))
    ):
        status = reveal_status(entry.version, entry.seen_version)  # type: ignore[attr-defined]
        current = status == "current"
        guess = entry.mine_guess if current else None
        rows.append(
            PartnerTopic(
                topic=entry.topic,
                status=status,
                answer=entry.text if current else None,
                updated_at=entry.created_at,
                guess_id=entry.mine_id if guess else None,
                guess=guess or None,
                rating=(entry.mine_rating or None) if current else None,
            )
        )
    rows.sort(
        key=lambda row: (
            STATUS_ORDER[row.status],
            DOMAIN_ORDER.get(row.topic.domain, len(DOMAIN_ORDER)),
            row.topic.pk,
        )
    )
    return rows
