"""Choosing a couple's daily question: a pure function over plain data, so the sweep
can decide for thousands of couples from a few batched queries, and tests can pin
every rule down without a database.

Rules (docs/product.md, the daily question): published, matching locale; never
repeated for a couple until the bank is exhausted; rotates dimensions; starts light and
deepens as the couple answers more; sensitive prompts only when both partners opted in;
leans toward the love-map domain where the couple's knowledge is stalest.

The rules run over a `CandidateIndex`: the bank as bitmaps over prompt ids (bit n set:
prompt n is in the set), built once per sweep. Filtering the bank for one couple is
then a handful of integer operations instead of list comprehensions over every
prompt, and one hash per couple and day draws among the few prompts left at the end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

DIMENSIONS = ("emotional", "intellectual", "physical", "experiential")


@dataclass(frozen=True)
class Candidate:
    id: int  # a prompt id: positive, unique in a bank
    dimension: str
    depth: int
    domain: str
    sensitive: bool


@dataclass
class CoupleHistory:
    """What the selection needs to know about one couple."""

    asked: set[int] = field(default_factory=set)  # prompt ids ever asked (incl. passed)
    # More prompt ids ever asked, as a bitmap (`prompt_bits`): the form the sweep's
    # history summary keeps. The asked prompts are the union of both.
    asked_bits: int = 0
    recent_dimensions: list[str] = field(default_factory=list)  # most recent first
    answered: int = 0  # questions both partners answered
    allow_sensitive: bool = False  # both partners opted in
    stalest_domain: str = ""  # from love maps, when known


def prompt_bits(ids: Iterable[int]) -> int:
    """A set of prompt ids as a bitmap: bit n is set when prompt n is in the set."""
    bits = 0
    for prompt_id in ids:
        bits |= 1 << prompt_id
    return bits


def max_depth_for(answered: int) -> int:
    """Light for the first week of answers, medium for the next few weeks, then deep."""
    if answered < 7:
        return 1
    if answered < 28:
        return 2
    return 3


def target_depth(answered: int) -> int:
    """Under the ceiling, a gentle cycle (deep, medium, light, medium for a couple
    past the ramp): depth is welcome, but not every single day."""
    ceiling = max_depth_for(answered)
    cycle = {1: (1,), 2: (2, 1), 3: (3, 2, 1, 2)}[ceiling]
    return cycle[answered % len(cycle)]


def _pick(couple_id: int, day: date, count: int) -> int:
    """A stable pseudo-random index in range(count) per couple and day (reproducible,
    no RNG state): the same couple and day always draw the same, couples differ."""
    digest = hashlib.blake2b(f"{couple_id}:{day.isoformat()}".encode(), digest_size=8).digest()
    return int.from_bytes(digest) % count


@lru_cache(maxsize=1024)
def dimension_order(recent_dimensions: tuple[str, ...]) -> tuple[str, ...]:
    """Least recently used dimension first; dimensions never asked come first of all
    (in `DIMENSIONS` order). A dimension seen twice counts at its older position."""
    recency = {dim: index for index, dim in enumerate(recent_dimensions)}
    return tuple(sorted(DIMENSIONS, key=lambda dim: -recency.get(dim, len(DIMENSIONS) + 1)))


class CandidateIndex:
    """A bank of candidates as bitmaps over prompt ids: by sensitivity, depth,
    dimension and love-map domain. Immutable once built; `choose` is pure."""

    def __init__(self, candidates: Sequence[Candidate]) -> None:
        self.by_id: dict[int, Candidate] = {}
        self.all = self.plain = 0  # every candidate / the ones that are not sensitive
        self.by_depth: dict[int, int] = {}
        self.by_dimension: dict[str, int] = {}
        self.by_domain: dict[str, int] = {}
        for candidate in candidates:
            if candidate.id <= 0:
                raise ValueError(f"prompt ids are positive: {candidate.id}")
            if candidate.id in self.by_id:  # ids are primary keys: a repeat is ignored
                continue
            self.by_id[candidate.id] = candidate
            bit = 1 << candidate.id
            self.all |= bit
            if not candidate.sensitive:
                self.plain |= bit
            self.by_depth[candidate.depth] = self.by_depth.get(candidate.depth, 0) | bit
            self.by_dimension[candidate.dimension] = (
                self.by_dimension.get(candidate.dimension, 0) | bit
            )
            self.by_domain[candidate.domain] = self.by_domain.get(candidate.domain, 0) | bit
        self.depths = sorted(self.by_depth)  # ascending: the lightest first
        self._within: dict[int, int] = {
            ceiling: self._depths_up_to(ceiling) for ceiling in (1, 2, 3)
        }

    def _depths_up_to(self, ceiling: int) -> int:
        bits = 0
        for depth in self.depths:
            if depth <= ceiling:
                bits |= self.by_depth[depth]
        return bits

    def choose(
        self,
        history: CoupleHistory,
        *,
        couple_id: int,
        day: date,
        exclude: frozenset[int] = frozenset(),
    ) -> Candidate | None:
        """The prompt for this couple on this day, or None when nothing is eligible."""
        eligible = self.all if history.allow_sensitive else self.plain
        if exclude:
            eligible &= ~prompt_bits(exclude)
        asked = history.asked_bits
        if history.asked:
            asked |= prompt_bits(history.asked)
        # Exhausted: start over rather than stop (the bank keeps growing meanwhile).
        pool = (eligible & ~asked) or eligible
        if not pool:
            return None
        within = pool & self._within_depth(max_depth_for(history.answered))
        if not within:  # nothing light enough: the lightest there is
            within = next(pool & self.by_depth[d] for d in self.depths if pool & self.by_depth[d])
        for dimension in dimension_order(tuple(history.recent_dimensions)):
            group = within & self.by_dimension.get(dimension, 0)
            if not group:
                continue
            if history.stalest_domain:
                group = (group & self.by_domain.get(history.stalest_domain, 0)) or group
            # The depth of the day if this dimension has it, else the nearest one(s).
            depths = self._nearest_depths(group, target_depth(history.answered))
            return self.by_id[self._draw(group, depths, couple_id, day)]
        return None

    def _within_depth(self, ceiling: int) -> int:
        bits = self._within.get(ceiling)
        return self._depths_up_to(ceiling) if bits is None else bits

    def _nearest_depths(self, group: int, wanted: int) -> list[int]:
        if group & self.by_depth.get(wanted, 0):
            return [wanted]
        present = [d for d in self.depths if group & self.by_depth[d]]
        nearest = min(abs(d - wanted) for d in present)
        return [d for d in present if abs(d - wanted) == nearest]

    def _draw(self, group: int, depths: list[int], couple_id: int, day: date) -> int:
        """One prompt of `group` of `depths`, drawn uniformly by `_pick` from those
        prompts in id order: one hash per couple and day, and the drawn prompt's bit
        found with integer operations, whatever the size of the group."""
        members = 0
        for depth in depths:
            members |= group & self.by_depth[depth]
        for _ in range(_pick(couple_id, day, members.bit_count())):
            members &= members - 1  # drop the lowest member
        return (members & -members).bit_length() - 1


def choose(
    candidates: Sequence[Candidate],
    history: CoupleHistory,
    *,
    couple_id: int,
    day: date,
    exclude: frozenset[int] = frozenset(),
) -> Candidate | None:
    """The prompt for this couple on this day, or None when nothing is eligible.
    (For many couples, build one `CandidateIndex` and call its `choose`.)"""
    return CandidateIndex(candidates).choose(history, couple_id=couple_id, day=day, exclude=exclude)
