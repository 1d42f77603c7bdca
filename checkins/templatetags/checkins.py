from __future__ import annotations

from django import template

from checkins.models import Mood, Reaction

register = template.Library()


@register.filter
def mood_label(value: int | None) -> str:
    return Mood(value).label if value else "—"


@register.simple_tag
def reaction_choices() -> list[tuple[str, str]]:
    return list(Reaction.choices)
