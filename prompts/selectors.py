"""Reads from the prompt bank."""

from __future__ import annotations

from datetime import date

from prompts.models import Prompt

CHECKIN_QUESTIONS_PER_DAY = 3


def checkin_questions_for(*, day: date, locale: str = "en") -> list[Prompt]:
    """The check-in questions offered on a given local date: three published `checkin`
    prompts, rotating daily through the set (the same for everyone on that date, so
    partners in one zone answer the same questions side by side)."""
    pool = list(
        Prompt.objects.filter(
            kind=Prompt.Kind.CHECKIN, status=Prompt.Status.PUBLISHED, locale=locale
        ).order_by("id")
    )
    if not pool:
        return []
    count = min(CHECKIN_QUESTIONS_PER_DAY, len(pool))
    start = (day.toordinal() * CHECKIN_QUESTIONS_PER_DAY) % len(pool)
    return [pool[(start + offset) % len(pool)] for offset in range(count)]
