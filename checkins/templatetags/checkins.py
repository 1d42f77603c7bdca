from __future__ import annotations

from django import template

from checkins.models import Checkin, Mood, Reaction
from nuzzle.couples.models import User

register = template.Library()


@register.filter
def mood_label(value: int | None) -> str:
    return Mood(value).label if value else "—"


@register.simple_tag
def reaction_choices() -> list[tuple[str, str]]:
    return list(Reaction.choices)


@register.simple_tag
def reaction_of(checkin: Checkin, user: User) -> str:
    """The reaction `user` gave this check-in, or "" (from its prefetched responses:
    one response per person and check-in)."""
    return next((r.reaction for r in checkin.responses.all() if r.author_id == user.pk), "")
