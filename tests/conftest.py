"""The fixed cast and shared fixtures.

The cast: `author` and `partner` are one couple; `other` is in another couple (with
`other_partner`); `unpaired` has no couple. Every authorization test speaks of them.
The couple lives 21 hours apart (Pacific/Auckland and America/Los_Angeles), its shared
zone the author's: tests that need "today" freeze the clock or compute dates in these
zones, so the suite passes at any hour (tests/clock.py pins the hour to check that).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
import time_machine
from django.conf import settings as settings_module
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient

from nuzzle.couples.models import Couple, User
from tests import clock, days
from tests.factories import couple_of, new_user


def pytest_configure(config):
    """NUZZLE_TEST_NOW pins the clock for the whole run (tests/clock.py)."""
    clock.pin()


def pytest_unconfigure(config):
    clock.unpin()


def pytest_report_header(config):
    if os.environ.get(clock.NOW_ENV):
        return f"clock pinned: {clock.NOW_ENV}={os.environ[clock.NOW_ENV]} (now {clock.pin()})"
    return None


def clear_cache() -> None:
    """Empty this test worker's part of the cache. On Redis, `cache.clear()` would be a
    FLUSHDB that wipes the other xdist worker's keys (and any broker queues) too."""
    backend = settings_module.CACHES["default"]["BACKEND"]
    if backend.endswith("RedisCache"):
        client = cache.client.get_client(write=True)  # type: ignore[attr-defined]
        prefix = settings_module.CACHES["default"]["KEY_PREFIX"]
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings):
    # Hashing cost is not under test; MD5 keeps the suite fast. Throttle counters live
    # in the cache, so each test starts with a clean part of it, keyed by xdist worker.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"nuzzle-test-{worker}"}
    }
    clear_cache()
    yield
    clear_cache()


AUTHOR_ZONE = "Pacific/Auckland"
PARTNER_ZONE = "America/Los_Angeles"


@dataclass
class Cast:
    author: User
    partner: User
    other: User
    other_partner: User
    unpaired: User
    couple: Couple
    other_couple: Couple


@pytest.fixture
def cast(db) -> Cast:
    # 21 hours apart, so on different dates for three hours of every day (and the
    # couple's days follow Robin's zone): every "today" must be right for both.
    author = new_user(display_name="Robin", timezone=AUTHOR_ZONE)
    partner = new_user(display_name="Sam", timezone=PARTNER_ZONE)
    other = new_user(display_name="Kit")
    other_partner = new_user(display_name="Lee")
    unpaired = new_user(display_name="Ash")
    return Cast(
        author=author,
        partner=partner,
        other=other,
        other_partner=other_partner,
        unpaired=unpaired,
        couple=couple_of(author, partner),
        other_couple=couple_of(other, other_partner),
    )


@pytest.fixture
def same_couple_day(cast):
    """Move the clock (from now, the clock running on) to an instant at which the cast's
    couple live the same couple day: for tests of both "today" cards side by side.
    Partners 21 hours apart live different couple days for three hours of each day."""
    with time_machine.travel(days.together(cast.author, cast.partner), tick=True):
        yield


def token_client(user: User) -> APIClient:
    """An API client authenticated the way real clients are: with a token."""
    _, token = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def api():
    """`api(user)` → an APIClient with a real token for that user; `api()` → anonymous."""

    def make(user: User | None = None) -> APIClient:
        return token_client(user) if user is not None else APIClient()

    return make


def pytest_collection_modifyitems(config, items):
    """`postgres` tests need real row locks and concurrent connections: skipped on
    SQLite, but CI (NUZZLE_REQUIRE_POSTGRES=1) refuses to run them anywhere else."""
    from django.conf import settings

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    marked = [item for item in items if item.get_closest_marker("postgres")]
    if marked and os.environ.get("NUZZLE_REQUIRE_POSTGRES") == "1":
        raise pytest.UsageError("NUZZLE_REQUIRE_POSTGRES=1 but DATABASE_URL is not PostgreSQL")
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in marked:
        item.add_marker(skip)
