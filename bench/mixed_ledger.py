"""What the mixed load wrote and saw: the marker every piece of free text carries, the
record of each acknowledged write, and the failures found on the way.

Plain Python, no Django: the simulation (`mixed_client`) fills it in the event loop
(one thread, so no locks), the checks (`mixed_verify`) read it after the load.

A marker is ``nz<couple:06d>q<serial>z``: the couple is the benchmark's own number for
the couple (1..N, known before the couple exists, so display names carry it too), the
serial is unique over the whole run and names the write that introduced the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MARKER = re.compile(r"nz(\d{6})q(\d+)z")
MAX_FAILURES_KEPT = 200


@dataclass(frozen=True)
class Text:
    """One piece of free text a client wrote (or tried to write)."""

    couple: int  # the benchmark's couple number
    author: int  # user id
    kind: str  # checkin_answer, question_answer, lovemap_answer, guess, reply, name
    text: str
    private: bool = False  # a private check-in's answer: never shown to the partner
    question_id: int | None = None  # question_answer: which question


@dataclass
class Seen:
    """A partner's text that is only allowed to reach me under a condition checked
    against the database after the load (a revealed answer, a revealed love-map
    version)."""

    viewer: int
    serial: int
    where: str


@dataclass
class CheckinWrite:
    mood: int
    energy: int | None
    visibility: str
    answers: dict[int, str]


@dataclass
class KeyState:
    """The acknowledged writes of one object, in order, plus writes whose outcome is
    unknown (no answer from the server): those may or may not be stored."""

    acked: list[Any] = field(default_factory=list)
    unknown: list[Any] = field(default_factory=list)  # since the last acknowledged one
    uncertain: bool = False  # some write of this object had no answer
    created: int = 0  # how many acknowledgements said "201 created"

    def ack(self, value: Any, *, created: bool = False) -> None:
        self.acked.append(value)
        self.unknown.clear()  # a later acknowledged write supersedes them
        self.created += int(created)

    def maybe(self, value: Any) -> None:
        self.unknown.append(value)
        self.uncertain = True

    @property
    def last(self) -> Any:
        return self.acked[-1] if self.acked else None


class Ledger:
    def __init__(self) -> None:
        self.serial = 0
        self.texts: dict[int, Text] = {}
        # Acknowledged writes, keyed by the object they wrote.
        self.checkins: dict[tuple[int, str], KeyState] = {}  # (user, local date)
        self.answers: dict[tuple[int, int], KeyState] = {}  # (question, user)
        self.question_reactions: dict[tuple[int, int], KeyState] = {}  # (question, user)
        self.responses: dict[tuple[int, int], KeyState] = {}  # (check-in, user)
        self.lovemap: dict[tuple[int, int], KeyState] = {}  # (user, topic): texts
        self.reveals: dict[int, tuple[int, str]] = {}  # reveal id: (viewer, guess)
        self.ratings: dict[int, KeyState] = {}  # guess id: ratings
        # Partner texts seen under a condition (checked after the load).
        self.seen_answers: list[Seen] = []
        self.seen_lovemap: list[Seen] = []
        self.failures: list[str] = []
        self.failure_count = 0
        self.leaks = 0

    def mark(
        self,
        *,
        couple: int,
        author: int,
        kind: str,
        words: str,
        private: bool = False,
        question_id: int | None = None,
    ) -> str:
        """A fresh marked text, recorded before it is sent."""
        self.serial += 1
        text = f"{words} nz{couple:06d}q{self.serial}z"
        self.texts[self.serial] = Text(couple, author, kind, text, private, question_id)
        return text

    def fail(self, message: str) -> None:
        self.failure_count += 1
        if len(self.failures) < MAX_FAILURES_KEPT:
            self.failures.append(message)

    @staticmethod
    def key(table: dict[Any, KeyState], key: Any) -> KeyState:
        state = table.get(key)
        if state is None:
            state = table[key] = KeyState()
        return state
