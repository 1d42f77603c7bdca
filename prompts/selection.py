"""Choosing a couple's daily question: a pure function over plain data, so the sweep
can decide for thousands of couples from a few batched queries, and tests can pin
every rule down without a database.

Rules (PRODUCT.md §3): published, matching locale; never repeated for a couple until
the bank is exhausted; rotates dimensions; starts light and deepens as the couple
answers more; sensitive prompts only when both partners opted in; leans toward the
love-map domain where the couple's knowledge is stalest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

DIMENSIONS = ("emotional", "intellectual", "physical", "experiential")


@dataclass(frozen=True)
class Candidate:
    id: int
    dimension: str
    depth: int
    domain: str
    sensitive: bool


@dataclass
class CoupleHistory:
    """What the selection needs to know about one couple."""

    asked: set[int] = field(default_factory=set)  # prompt ids ever asked (incl. passed)
    recent_dimensions: list[str] = field(default_factory=list)  # most recent first
    answered: int = 0  # questions both partners answered
    allow_sensitive: bool = False  # both partners opted in
    stalest_domain: str = ""  # from love maps, when known


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


def _rank(couple_id: int, day: date, prompt_id: int) -> str:
    """A stable pseudo-random order per couple and day (reproducible, no RNG state)."""
    digest = hashlib.blake2b(f"{couple_id}:{day.isoformat()}:{prompt_id}".encode(), digest_size=8)
    return digest.hexdigest()


def choose(
    candidates: Sequence[Candidate],
    history: CoupleHistory,
    *,
    couple_id: int,
    day: date,
    exclude: frozenset[int] = frozenset(),
) -> Candidate | None:
    """The prompt for this couple on this day, or None when nothing is eligible."""
    eligible = [
        c
        for c in candidates
        if (history.allow_sensitive or not c.sensitive) and c.id not in exclude
    ]
    fresh = [c for c in eligible if c.id not in history.asked]
    # Exhausted: start over rather than stop (the bank keeps growing meanwhile).
    pool = fresh or eligible
    if not pool:
        return None
    ceiling = max_depth_for(history.answered)
    within_depth = [c for c in pool if c.depth <= ceiling] or [
        c for c in pool if c.depth == min(x.depth for x in pool)
    ]
    # Least recently used dimension first; dimensions never asked come first of all.
    recency = {dim: index for index, dim in enumerate(history.recent_dimensions)}
    order = sorted(DIMENSIONS, key=lambda dim: -recency.get(dim, len(DIMENSIONS) + 1))
    for dimension in order:
        group = [c for c in within_depth if c.dimension == dimension]
        if not group:
            continue
        if history.stalest_domain:
            leaning = [c for c in group if c.domain == history.stalest_domain]
            group = leaning or group
        # The depth of the day if this dimension has it, else the nearest one.
        wanted = target_depth(history.answered)
        nearest = min(abs(c.depth - wanted) for c in group)
        group = [c for c in group if abs(c.depth - wanted) == nearest]
        return min(group, key=lambda c: _rank(couple_id, day, c.id))
    return None
