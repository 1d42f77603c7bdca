"""The daily question's selection rules, on plain data (no database)."""

from datetime import date

from prompts.selection import Candidate, CoupleHistory, choose, max_depth_for, target_depth

DAY = date(2026, 5, 1)


def bank():
    candidates = []
    next_id = 1
    for dimension in ("emotional", "intellectual", "physical", "experiential"):
        for depth in (1, 2, 3):
            for domain in ("joys", "stresses", ""):
                candidates.append(Candidate(next_id, dimension, depth, domain, False))
                next_id += 1
    candidates.append(Candidate(next_id, "physical", 1, "", True))
    return candidates


def test_never_repeats_until_the_bank_is_exhausted_then_starts_over():
    candidates = [c for c in bank() if not c.sensitive]
    history = CoupleHistory(answered=100)
    seen = []
    for offset in range(len(candidates)):
        chosen = choose(candidates, history, couple_id=7, day=date(2026, 1, 1 + offset % 28))
        assert chosen.id not in history.asked
        history.asked.add(chosen.id)
        history.recent_dimensions.insert(0, chosen.dimension)
        seen.append(chosen.id)
    assert sorted(seen) == sorted(c.id for c in candidates)
    assert choose(candidates, history, couple_id=7, day=DAY) is not None  # starts over


def test_it_rotates_to_the_least_recently_asked_dimension():
    history = CoupleHistory(recent_dimensions=["emotional", "physical", "intellectual"])
    assert choose(bank(), history, couple_id=1, day=DAY).dimension == "experiential"
    history = CoupleHistory(recent_dimensions=["emotional"])
    assert choose(bank(), history, couple_id=1, day=DAY).dimension != "emotional"


def test_it_starts_light_and_deepens_as_the_couple_answers_more():
    assert [max_depth_for(n) for n in (0, 6, 7, 27, 28, 500)] == [1, 1, 2, 2, 3, 3]
    for answered in range(0, 7):
        assert choose(bank(), CoupleHistory(answered=answered), couple_id=3, day=DAY).depth == 1
    depths = {
        choose(bank(), CoupleHistory(answered=n), couple_id=3, day=DAY).depth for n in range(28, 36)
    }
    assert depths == {1, 2, 3}  # a gentle mix once past the ramp, deep included
    assert target_depth(28) == 3


def test_sensitive_prompts_only_when_both_opted_in():
    sensitive_only = [c for c in bank() if c.sensitive]
    assert (
        choose(sensitive_only, CoupleHistory(allow_sensitive=False), couple_id=1, day=DAY) is None
    )
    chosen = choose(sensitive_only, CoupleHistory(allow_sensitive=True), couple_id=1, day=DAY)
    assert chosen.sensitive


def test_it_leans_toward_the_stalest_love_map_domain():
    for couple_id in range(1, 20):
        history = CoupleHistory(stalest_domain="stresses")
        assert choose(bank(), history, couple_id=couple_id, day=DAY).domain == "stresses"


def test_the_choice_is_stable_for_a_couple_and_day_but_varies_between_couples():
    history = CoupleHistory(answered=40)
    first = choose(bank(), history, couple_id=1, day=DAY)
    assert choose(bank(), history, couple_id=1, day=DAY) == first
    assert len({choose(bank(), history, couple_id=i, day=DAY).id for i in range(30)}) > 1


def test_excluded_prompts_are_never_chosen_and_an_empty_bank_gives_none():
    candidates = bank()[:2]
    chosen = choose(candidates, CoupleHistory(), couple_id=1, day=DAY)
    other = choose(
        candidates, CoupleHistory(), couple_id=1, day=DAY, exclude=frozenset({chosen.id})
    )
    assert other.id != chosen.id
    assert choose([], CoupleHistory(), couple_id=1, day=DAY) is None
