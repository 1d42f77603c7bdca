"""The shared query-count helpers (tests/queries.py) fail when they should, and say why."""

from __future__ import annotations

import pytest

from nuzzle.couples.models import User
from tests.factories import new_user
from tests.queries import (
    assert_num_queries,
    assert_queries_do_not_grow,
    capture_queries,
    count_queries,
)

pytestmark = pytest.mark.django_db


def test_capture_gives_the_sql_in_order_and_the_result():
    queries = capture_queries(lambda: (User.objects.count(), list(User.objects.all())))
    assert len(queries) == 2
    assert queries.sql[0].startswith("SELECT COUNT(*)")
    assert queries.result == (0, [])
    assert count_queries(lambda: None) == 0


def test_a_budget_missed_by_one_fails_listing_every_query():
    with pytest.raises(AssertionError) as failure:
        assert_num_queries(1, lambda: (User.objects.count(), User.objects.exists()))
    message = str(failure.value)
    assert message.startswith("expected 1 queries, ran 2:")
    assert "1. SELECT COUNT(*)" in message
    assert "2. SELECT 1 AS" in message
    assert assert_num_queries(1, User.objects.count) == 0


def test_a_count_that_grows_with_the_data_fails_showing_both_counts_and_the_extra_sql():
    def measure():
        return capture_queries(lambda: [User.objects.filter(pk=u.pk).exists() for u in people])

    people = [new_user()]
    with pytest.raises(AssertionError) as failure:
        assert_queries_do_not_grow(measure, lambda: people.append(new_user()))
    message = str(failure.value)
    assert "1 before, 2 after" in message
    assert "ran after the data grew, not before:\n   1. SELECT 1 AS" in message


def test_a_count_that_holds_passes_and_returns_both_measures():
    people = [new_user()]
    before, after = assert_queries_do_not_grow(
        lambda: capture_queries(lambda: User.objects.count()),
        lambda: people.append(new_user()),
    )
    assert (before.result, after.result) == (1, 2)
    assert len(before) == len(after) == 1
