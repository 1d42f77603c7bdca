"""Everything I wrote in love maps, for the export of my data (docs/product.md: Your
data): my answers in every version, my guesses, the ratings I gave."""

from __future__ import annotations

from typing import Any

from lovemaps.models import LovemapEntry, LovemapReveal
from lovemaps.selectors.topics import domain_order
from nuzzle.couples.models import User


def export_lovemap_entries(*, user: User) -> list[dict[str, Any]]:
    """Every version of every answer I gave about myself, by topic then version, with
    the topic's text (one query)."""
    entries = (
        LovemapEntry.objects.mine(user)
        .select_related("topic")
        .order_by(domain_order("topic__domain"), "topic_id", "version")
    )
    return [
        {
            "topic_id": entry.topic_id,
            "topic": entry.topic.text,
            "domain": entry.topic.domain,
            "domain_label": entry.topic.get_domain_display(),
            "version": entry.version,
            "current": entry.is_current,
            "text": entry.text,
            "created_at": entry.created_at,
            "confirmed_at": entry.confirmed_at,
        }
        for entry in entries
    ]


def export_lovemap_guesses(*, user: User) -> list[dict[str, Any]]:
    """The guesses I wrote about my partners' topics, with the rating each got, oldest
    first (one query). Never the answer I revealed: that is my partner's words. The
    topic is the one copied onto the reveal: the answer may be gone (its author deleted
    their account), and my guess stays mine."""
    reveals = (
        LovemapReveal.objects.filter(viewer=user)
        .exclude(guess="")
        .select_related("topic")
        .order_by("revealed_at", "id")
    )
    return [
        {
            "topic": reveal.topic.text,
            "couple_id": reveal.couple_id,
            "guess": reveal.guess,
            "guessed_at": reveal.revealed_at,
            "rating": reveal.rating or None,
            "rated_at": reveal.rated_at,
        }
        for reveal in reveals
    ]


def export_lovemap_ratings(*, user: User) -> list[dict[str, Any]]:
    """The ratings I gave to guesses about me, oldest first (one query). Never the
    guess itself: that is my partner's words."""
    reveals = (
        LovemapReveal.objects.filter(entry__author=user)
        .exclude(rating="")
        .select_related("entry", "topic")
        .order_by("rated_at", "id")
    )
    return [
        {
            "topic": reveal.topic.text,
            "version": entry.version,
            "couple_id": reveal.couple_id,
            "rating": reveal.rating,
            "rated_at": reveal.rated_at,
        }
        for reveal in reveals
        # Always there (the filter is on the entry's author); said for the type checker.
        if (entry := reveal.entry) is not None
    ]
