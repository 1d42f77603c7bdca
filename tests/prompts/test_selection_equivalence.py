"""The indexed selection (bitmaps, built once per sweep) chooses exactly the prompt the
plain rules choose, for random banks and random histories (no database).

`reference_choose` is the selection as first written: one pass of list filters over
the whole bank per couple. It is the readable statement of the rules; the fast path
must never disagree with it.
"""

from __future__ import annotations

import random
import tomllib
from collections.abc import Sequence
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prompts.selection import (
    DIMENSIONS,
    Candidate,
    CandidateIndex,
    CoupleHistory,
    _pick,
    choose,
    max_depth_for,
    prompt_bits,
    target_depth,
)
from prompts.services import BANK_DIR


def reference_choose(
    candidates: Sequence[Candidate],
    history: CoupleHistory,
    *,
    couple_id: int,
    day: date,
    exclude: frozenset[int] = frozenset(),
) -> Candidate | None:
    asked = set(history.asked) | {c.id for c in candidates if history.asked_bits >> c.id & 1}
    eligible = [
        c
        for c in candidates
        if (history.allow_sensitive or not c.sensitive) and c.id not in exclude
    ]
    fresh = [c for c in eligible if c.id not in asked]
    pool = fresh or eligible
    if not pool:
        return None
    ceiling = max_depth_for(history.answered)
    within_depth = [c for c in pool if c.depth <= ceiling] or [
        c for c in pool if c.depth == min(x.depth for x in pool)
    ]
    recency = {dim: index for index, dim in enumerate(history.recent_dimensions)}
    order = sorted(DIMENSIONS, key=lambda dim: -recency.get(dim, len(DIMENSIONS) + 1))
    for dimension in order:
        group = [c for c in within_depth if c.dimension == dimension]
        if not group:
            continue
        if history.stalest_domain:
            leaning = [c for c in group if c.domain == history.stalest_domain]
            group = leaning or group
        wanted = target_depth(history.answered)
        nearest = min(abs(c.depth - wanted) for c in group)
        group = [c for c in group if abs(c.depth - wanted) == nearest]
        group.sort(key=lambda c: c.id)
        return group[_pick(couple_id, day, len(group))]
    return None


def bundled_bank() -> list[Candidate]:
    with (BANK_DIR / "questions.toml").open("rb") as handle:
        entries = tomllib.load(handle)["prompt"]
    return [
        Candidate(
            index,
            entry["dimension"],
            entry.get("depth", 1),
            entry.get("domain", ""),
            entry.get("sensitive", False),
        )
        for index, entry in enumerate(entries, start=1)
    ]


DOMAINS = ("", "joys", "stresses", "body", "work")
SOME_DIMENSIONS = (*DIMENSIONS, "unknown")


candidate_rows = st.tuples(
    st.integers(1, 400),
    st.sampled_from(SOME_DIMENSIONS),
    st.integers(0, 4),  # past the 1-3 the database allows: the rules are general
    st.sampled_from(DOMAINS),
    st.booleans(),
)


@st.composite
def banks(draw: st.DrawFn) -> list[Candidate]:
    rows = draw(st.lists(candidate_rows, max_size=60, unique_by=lambda row: row[0]))
    bank = [Candidate(*row) for row in rows]
    return sorted(bank, key=lambda c: c.id) if draw(st.booleans()) else bank


@st.composite
def histories(draw: st.DrawFn, bank: list[Candidate]) -> CoupleHistory:
    known = [c.id for c in bank]
    asked = draw(st.lists(st.sampled_from(known), unique=True)) if known else []
    asked += draw(st.lists(st.integers(1, 500), max_size=5))  # retired or other prompts
    as_bits = draw(st.lists(st.booleans(), min_size=len(asked), max_size=len(asked)))
    return CoupleHistory(
        asked={p for p, bits in zip(asked, as_bits, strict=True) if not bits},
        asked_bits=prompt_bits(p for p, bits in zip(asked, as_bits, strict=True) if bits),
        recent_dimensions=draw(st.lists(st.sampled_from(SOME_DIMENSIONS), max_size=6)),
        answered=draw(st.integers(0, 80)),
        allow_sensitive=draw(st.booleans()),
        stalest_domain=draw(st.sampled_from(DOMAINS)),
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[Candidate], CoupleHistory, int, date, frozenset[int]]:
    bank = draw(banks())
    history = draw(histories(bank))
    excluded = draw(st.lists(st.sampled_from([c.id for c in bank]), max_size=2)) if bank else []
    day = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 800)))
    return bank, history, draw(st.integers(1, 10**9)), day, frozenset(excluded)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_the_index_chooses_what_the_rules_choose_for_random_banks_and_histories(case):
    bank, history, couple_id, day, exclude = case
    expected = reference_choose(bank, history, couple_id=couple_id, day=day, exclude=exclude)
    index = CandidateIndex(bank)
    assert index.choose(history, couple_id=couple_id, day=day, exclude=exclude) == expected
    assert choose(bank, history, couple_id=couple_id, day=day, exclude=exclude) == expected


def test_over_the_bundled_bank_it_agrees_with_the_rules_for_thousands_of_histories():
    bank = bundled_bank()
    index = CandidateIndex(bank)
    rng = random.Random(20261121)
    ids = [c.id for c in bank]
    for couple_id in range(1, 3001):
        asked = set(rng.sample(ids, rng.choice([0, 1, 5, 30, 120, len(ids) - 3, len(ids)])))
        history = CoupleHistory(
            asked_bits=prompt_bits(asked),
            recent_dimensions=rng.choices(DIMENSIONS, k=rng.randint(0, 4)),
            answered=rng.randint(0, 400),
            allow_sensitive=rng.random() < 0.2,
            stalest_domain=rng.choice(["", "", "people", "stresses", "hopes", "body"]),
        )
        day = date(2026, 11, 21) + timedelta(days=rng.randint(-400, 400))
        exclude = frozenset(rng.sample(ids, 1)) if rng.random() < 0.1 else frozenset()
        expected = reference_choose(bank, history, couple_id=couple_id, day=day, exclude=exclude)
        chosen = index.choose(history, couple_id=couple_id, day=day, exclude=exclude)
        assert chosen == expected, (couple_id, history)


def test_a_week_of_days_for_one_couple_follows_the_rules_step_by_step():
    bank = bundled_bank()
    index = CandidateIndex(bank)
    history = CoupleHistory()
    for offset in range(60):
        day = date(2026, 1, 1) + timedelta(days=offset)
        expected = reference_choose(bank, history, couple_id=42, day=day)
        chosen = index.choose(history, couple_id=42, day=day)
        assert chosen == expected
        assert chosen is not None
        history.asked_bits |= 1 << chosen.id
        history.recent_dimensions = [chosen.dimension, *history.recent_dimensions][:4]
        history.answered += offset % 3 != 0
