"""Statements prepared once per connection (nuzzle/lib/prepared.py): prepared with
their first use in the same round trip, then only executed; prepared again on a new
connection and when the server has forgotten them; a `%` in a statement's text is
not taken for a parameter."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from nuzzle.lib.prepared import Statement
from tests.queries import capture_queries

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DOUBLE = Statement(
    name="nuzzle_test_double", types=("integer",), sql="SELECT $1 * 2, 7 % 4, '100%'"
)


def test_it_is_prepared_with_its_first_use_then_only_executed():
    connection.close()
    first = capture_queries(lambda: DOUBLE.one([21]))
    again = capture_queries(lambda: DOUBLE.one([5]))
    assert DOUBLE.one([4]) == (8, 3, "100%")
    assert len(first.sql) == 1
    assert first.sql[0].startswith("PREPARE nuzzle_test_double")
    assert again.sql == ["EXECUTE nuzzle_test_double(5)"]


def test_a_new_connection_prepares_it_again():
    DOUBLE.one([1])
    connection.close()
    replaced = capture_queries(lambda: DOUBLE.one([3]))
    assert replaced.sql[0].startswith("PREPARE")


def test_a_statement_the_server_forgot_is_prepared_again_outside_a_transaction():
    DOUBLE.one([1])
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as a pooler's DISCARD ALL would
    assert DOUBLE.one([6]) == (12, 3, "100%")


def test_inside_a_transaction_a_forgotten_statement_is_an_error_not_a_retry():
    DOUBLE.one([1])
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with pytest.raises(DatabaseError, match="does not exist"), transaction.atomic():
        DOUBLE.one([6])
    assert DOUBLE.one([6]) == (12, 3, "100%")  # the next use, outside, recovers


def test_it_takes_exactly_its_parameters():
    with pytest.raises(ValueError, match="takes 1 parameters"):
        DOUBLE.rows([1, 2])
