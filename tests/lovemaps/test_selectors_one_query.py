"""My map of my partner and love-map freshness, each one query (docs/performance.md,
"What was tuned"): statuses are decided in Python from the two versions the query reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from lovemaps.selectors.freshness import freshness
from lovemaps.selectors.maps import partner_map
from lovemaps.services import lovemap_answer, lovemap_reveal
from nuzzle.couples.models import User
from nuzzle.couples.scoping import couple_context
from prompts.models import Prompt
from tests.queries import assert_num_queries

pytestmark = pytest.mark.django_db


def fresh(user):
    return User.objects.get(pk=user.pk)


@pytest.fixture
def mixed(cast, topics):
    """The author's map as the partner sees it: one topic per status in two domains."""
    people = {topic.domain: [] for topic in topics}
    for topic in topics:
        people[topic.domain].append(topic)
    first, second = [group for group in people.values() if len(group) >= 3][:2]
    with time_machine.travel("2026-01-01 09:00:00Z", tick=False):
        for topic in [*first[:3], *second[:3]]:
            lovemap_answer(user=cast.author, topic_id=topic.pk, text=f"v1 {topic.key}")
    lovemap_answer(user=cast.partner, topic_id=first[0].pk, text="my own, stale one day")
    viewer = fresh(cast.partner)
    for topic in [first[0], first[1], second[0]]:
        lovemap_reveal(user=viewer, topic_id=topic.pk, guess="a guess")
    # Changed since the reveal: a new version.
    lovemap_answer(user=fresh(cast.author), topic_id=first[1].pk, text="v2")
    return {
        "current": [first[0], second[0]],
        "changed": [first[1]],
        "unseen": [first[2], second[1], second[2]],
    }


def test_partner_map_orders_changed_then_unseen_then_current_in_one_query(cast, mixed):
    viewer = fresh(cast.partner)
    couple_context(viewer)
    rows = assert_num_queries(1, lambda: partner_map(user=viewer))
    assert [row.status for row in rows] == [
        "changed",
        "unseen",
        "unseen",
        "unseen",
        "current",
        "current",
    ]
    domains = list(Prompt.Domain.values)
    for status in ("unseen", "current"):
        keys = [(domains.index(r.topic.domain), r.topic.pk) for r in rows if r.status == status]
        assert keys == sorted(keys)
    current = next(r for r in rows if r.topic.pk == mixed["current"][0].pk)
    assert (current.answer, current.guess) == (f"v1 {mixed['current'][0].key}", "a guess")
    assert current.guess_id is not None
    changed = rows[0]
    assert (changed.answer, changed.guess, changed.guess_id, changed.rating) == (None,) * 4


def test_freshness_counts_both_maps_in_one_query(cast, mixed):
    viewer = fresh(cast.partner)
    couple_context(viewer)
    later = timedelta(days=3650)
    now, stale = assert_num_queries(
        2, lambda: (freshness(user=viewer), freshness(user=viewer, now=now_plus(later)))
    )
    assert (now.partner_current, now.partner_changed, now.partner_unseen) == (2, 1, 3)
    assert (now.mine_total, now.mine_stale) == (1, 0)
    assert (stale.mine_total, stale.mine_stale) == (1, 1)
    by_domain = {d.domain: d for d in now.domains}
    first = by_domain[mixed["changed"][0].domain]
    assert (first.partner_current, first.partner_changed, first.partner_unseen) == (1, 1, 1)
    assert (first.mine_total, first.mine_stale) == (1, 0)


def test_the_unpaired_see_only_their_own_answers(cast, topics):
    lovemap_answer(user=cast.unpaired, topic_id=topics[0].pk, text="solo")
    fresh_ = freshness(user=fresh(cast.unpaired))
    assert (fresh_.mine_total, fresh_.partner_unseen, fresh_.partner_current) == (1, 0, 0)
    assert partner_map(user=fresh(cast.unpaired)) == []


def now_plus(delta):
    from django.utils import timezone

    return timezone.now() + delta
