"""Writes for love maps: answering (a new version), "still true", revealing with an
optional guess, and rating a guess."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from lovemaps.models import GuessRating, LovemapEntry, LovemapReveal, PartnerEntry
from nuzzle.couples.models import User
from nuzzle.couples.scoping import couple_context
from nuzzle.lib.errors import Invalid, NotFound, as_invalid
from nuzzle.nudges.services import activity_note
from prompts.models import Prompt

logger = logging.getLogger(__name__)


def _topic(topic_id: int) -> Prompt:
    topic = Prompt.objects.filter(
        pk=topic_id, kind=Prompt.Kind.LOVEMAP, status=Prompt.Status.PUBLISHED
    ).first()
    if topic is None:
        raise NotFound("No such love-map topic.")
    return topic


def _stale_at(topic: Prompt, confirmed_at: datetime) -> datetime:
    return confirmed_at + timedelta(days=topic.half_life_days or 365)


def _lock_author(user: User) -> None:
    """Serialise one person's love-map writes on their own user row, which always
    exists. Locking the current entry is not enough: before a first answer there is
    none, and a concurrent edit replaces it, so two requests would both write
    version 1 (a unique-constraint error, i.e. a 500, for the second)."""
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk"))


def lovemap_answer(*, user: User, topic_id: int, text: str) -> LovemapEntry:
    """Answer a topic about myself. A changed answer is a new version (my partner then
    sees the topic as `changed`); the same text again just re-confirms it."""
    topic = _topic(topic_id)
    text = text.strip()
    with as_invalid():
        LovemapEntry(text=text).full_clean(
            exclude=["author", "topic", "couple", "created_at", "confirmed_at", "stale_at"],
            validate_unique=False,
            validate_constraints=False,
        )
    context = couple_context(user)
    now = timezone.now()
    with transaction.atomic():
        _lock_author(user)
        current = LovemapEntry.objects.mine(user).filter(topic=topic, is_current=True).first()
        if current is not None and current.text == text:
            entry = _confirm(current, context.couple if context else None, now)
        else:
            if current is not None:
                current.is_current = False
                current.save(update_fields=["is_current"])
            entry = LovemapEntry.objects.create(
                author=user,
                topic=topic,
                couple=context.couple if context else None,
                version=(current.version + 1) if current else 1,
                text=text,
                created_at=now,
                confirmed_at=now,
                stale_at=_stale_at(topic, now),
            )
            logger.info("lovemap answered: entry=%s user=%s", entry.pk, user.pk)
    # Outside the transaction: the entry's row lock is not held while the activity
    # mark (one conditional UPDATE, at most hourly) is written.
    activity_note(user_id=user.pk)
    return entry


def _confirm(entry: LovemapEntry, couple: object, now: datetime) -> LovemapEntry:
    entry.confirmed_at = now
    entry.stale_at = _stale_at(entry.topic, now)
    # Confirming says "this is me now": it is shared with my current partner.
    entry.couple = couple  # type: ignore[assignment]
    entry.save(update_fields=["confirmed_at", "stale_at", "couple"])
    return entry


def lovemap_confirm(*, user: User, topic_id: int) -> LovemapEntry:
    """ "Still true": re-confirm my current answer (no new version)."""
    context = couple_context(user)
    with transaction.atomic():
        _lock_author(user)
        entry = (
            LovemapEntry.objects.mine(user)
            .select_related("topic")
            .filter(topic_id=topic_id, is_current=True)
            .first()
        )
        if entry is None:
            raise NotFound("You haven't answered this topic yet.")
        entry = _confirm(entry, context.couple if context else None, timezone.now())
    activity_note(user_id=user.pk)
    return entry


def lovemap_reveal(*, user: User, topic_id: int, guess: str | None = None) -> LovemapReveal:
    """Reveal my partner's current answer to a topic, optionally after a guess.
    Revealing the same version again changes nothing (the first guess stays)."""
    context = couple_context(user)
    if context is None:
        raise NotFound("No such topic in your partner's map.")
    guess = (guess or "").strip()
    with as_invalid():
        LovemapReveal(guess=guess).full_clean(
            exclude=["viewer", "entry", "topic", "couple", "revealed_at"], validate_unique=False
        )
    # What I may reveal is what the `PartnerEntry` view shows me of my partner's map.
    shown = PartnerEntry.objects.filter(viewer=user, topic_id=topic_id).values("entry")
    entry = LovemapEntry.objects.filter(pk__in=shown).first()
    if entry is None:
        raise NotFound("No such topic in your partner's map.")
    reveal, created = LovemapReveal.objects.get_or_create(
        viewer=user,
        entry=entry,
        defaults={
            "couple": context.couple,
            "topic_id": entry.topic_id,
            "revealed_at": timezone.now(),
            "guess": guess,
        },
    )
    if created:
        logger.info("lovemap revealed: entry=%s viewer=%s", entry.pk, user.pk)
    activity_note(user_id=user.pk)
    return reveal


def lovemap_guess_rate(*, user: User, guess_id: int, rating: str) -> LovemapReveal:
    """Rate my partner's guess about me. Only the person guessed about can; anyone
    else (and a guess from another couple) gets a 404."""
    if rating not in GuessRating.values:
        raise Invalid.from_fields({"rating": [f"Choose one of: {', '.join(GuessRating.values)}."]})
    context = couple_context(user)
    if context is None:
        raise NotFound("No such guess.")
    with transaction.atomic():
        reveal = (
            LovemapReveal.objects.select_for_update()
            .filter(pk=guess_id, entry__author=user, couple=context.couple)
            .exclude(guess="")
            .first()
        )
        if reveal is None:
            raise NotFound("No such guess.")
        reveal.rating = rating
        reveal.rated_at = timezone.now()
        reveal.save(update_fields=["rating", "rated_at"])
    activity_note(user_id=user.pk)
    return reveal
