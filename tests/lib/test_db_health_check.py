"""The PostgreSQL backend's cheaper health check (nuzzle/lib/db/postgresql/base.py):
no `SELECT 1` before a request on a connection that served one cleanly a moment ago,
the check as Django does it on one idle longer than DB_HEALTH_CHECK_IDLE, and a dead
idle connection replaced before it can fail a request."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connections

from nuzzle.couples.models import User
from nuzzle.lib.db.postgresql import base

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# The wrapper itself (`django.db.connection` is a proxy to it).
connection = connections["default"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch, settings):
    settings.DB_HEALTH_CHECK_IDLE = 5
    fake = Clock()
    monkeypatch.setattr(base.time, "monotonic", fake)
    return fake


@pytest.fixture
def checks(monkeypatch):
    done: list[bool] = []
    usable = connection.is_usable

    def counted() -> bool:
        done.append(True)
        return usable()

    monkeypatch.setattr(connection, "is_usable", counted)
    return done


def request() -> None:
    """What Django does around a request: the connection is looked at as it starts,
    queried, and looked at again as it finishes."""
    connection.close_if_unusable_or_obsolete()
    list(User.objects.values_list("pk")[:1])
    connection.close_if_unusable_or_obsolete()


def kill_server_side() -> int:
    """End this connection's server process from another connection, as a server
    restart or a firewall would; returns its pid."""
    pid = connection.connection.info.backend_pid
    killer = connection.copy()
    try:
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        killer.close()
    return pid


def test_the_backend_is_ours_on_postgresql():
    assert isinstance(connection, base.DatabaseWrapper)


def test_a_connection_used_a_moment_ago_is_not_checked_an_idle_one_is(clock, checks):
    connection.close()
    request()  # a new connection: nothing to check
    assert checks == []
    clock.now += 4
    request()
    assert checks == [], "used 4 s ago: trusted"
    clock.now += 6
    request()
    assert checks == [True], "idle 6 s: checked before the first query"


def test_a_dead_idle_connection_is_replaced_before_the_request_s_query(clock, checks):
    connection.close()
    request()
    pid = kill_server_side()
    clock.now += 60
    request()  # no error: the check found it dead and Django connected anew
    assert connection.connection.info.backend_pid != pid


def test_a_connection_that_died_just_after_use_fails_once_and_is_then_replaced(clock, checks):
    """The trade-off: within the idle window a connection the server dropped fails the
    query that finds out (as queries in flight at that moment do anyway); Django marks
    it and the next request has a new one."""
    connection.close()
    request()
    pid = kill_server_side()
    connection.close_if_unusable_or_obsolete()
    with pytest.raises(OperationalError):
        list(User.objects.values_list("pk")[:1])
    connection.close_if_unusable_or_obsolete()  # the request ends: errors_occurred
    request()
    assert connection.connection.info.backend_pid != pid
