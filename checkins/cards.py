"""A check-in card (templates/checkins/_checkin_card.html) from a check-in the database
has already rendered as the API shows it (`statements.RenderedCheckin`), instead of
reading the check-in again as models with its answers and responses: the dashboard
page's statement brings the card's words with everything else, in one round trip.

The card reads the same attributes from a `Checkin` (with its prefetched answers and
responses) and from a `CheckinCard`, so one template serves both. Who sees what was
decided by the views the statement read (docs/architecture.md, rule 2): the payload
holds only what its viewer may see, and this module only renames it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from checkins.models import Energy, Mood, Reaction
from checkins.statements import RenderedCheckin
from nuzzle.couples.models import User


class Rows(tuple[Any, ...]):
    """A card's answers or responses: a tuple the template reads as it reads a
    prefetched relation (`checkin.answers.all`)."""

    __slots__ = ()

    def all(self) -> Rows:
        return self


@dataclass(frozen=True, slots=True)
class Person:
    pk: int
    display_name: str


@dataclass(frozen=True, slots=True)
class Question:
    pk: int
    text: str


@dataclass(frozen=True, slots=True)
class CardAnswer:
    prompt: Question
    text: str


@dataclass(frozen=True, slots=True)
class CardResponse:
    pk: int
    author_id: int
    author: Person
    reaction: str
    text: str

    def get_reaction_display(self) -> str:
        return str(Reaction(self.reaction).label) if self.reaction else ""


@dataclass(frozen=True, slots=True)
class CheckinCard:
    pk: int
    author_id: int
    author: Person
    couple_id: int | None
    local_date: date
    couple_date: date
    mood: int
    energy: int | None
    visibility: str
    answers: Rows
    responses: Rows

    def get_mood_display(self) -> str:
        return str(Mood(self.mood).label)

    def get_energy_display(self) -> str:
        return str(Energy(self.energy).label) if self.energy else ""


def checkin_card(rendered: RenderedCheckin, *, me: User, partner: User | None) -> CheckinCard:
    """The card of a check-in `me` sees, from its payload. "partner" in a payload is my
    current partner: the only other person whose check-ins and replies I am shown."""
    payload: dict[str, Any] | None = rendered.payload
    if payload is None:
        raise ValueError(f"check-in {rendered.pk} was read without its payload")
    people = {"me": Person(me.pk, me.display_name)}
    if partner is not None:
        people["partner"] = Person(partner.pk, partner.display_name)
    author = people[payload["author"]]
    return CheckinCard(
        pk=rendered.pk,
        author_id=author.pk,
        author=author,
        couple_id=rendered.couple_id,
        local_date=rendered.local_date,
        couple_date=rendered.couple_date,
        mood=payload["mood"],
        energy=payload["energy"],
        visibility=payload["visibility"],
        answers=Rows(
            CardAnswer(Question(a["question_id"], a["question"]), a["text"])
            for a in payload["answers"]
        ),
        responses=Rows(
            CardResponse(
                pk=r["id"],
                author_id=people[r["author"]].pk,
                author=people[r["author"]],
                reaction=r["reaction"] or "",
                text=r["text"],
            )
            for r in payload["responses"]
        ),
    )
