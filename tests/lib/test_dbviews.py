"""The views and triggers the migrations create are all in the migrated test database
(a later migration that rebuilds a table on SQLite drops its triggers silently), and
each view answers with the columns its unmanaged model reads."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from nuzzle.lib import dbviews

pytestmark = pytest.mark.django_db


def _present(kind: str) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if kind == "view":
                cursor.execute("SELECT viewname FROM pg_views WHERE schemaname = current_schema()")
            else:
                cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = %s", [kind])
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture(autouse=True)
def _migrations_loaded() -> None:
    MigrationLoader(connection)  # imports every migration, which lists what it creates
    assert dbviews.VIEWS, "no view registered: the migrations were not loaded"


def test_every_view_and_trigger_the_migrations_create_is_there():
    assert not dbviews.VIEWS - _present("view")
    assert not dbviews.TRIGGERS[connection.vendor] - _present("trigger")


def test_every_view_backed_model_reads_its_view():
    """An unmanaged model over a view selects every column it declares (an empty read
    is enough for the database to check the names)."""
    unmanaged = [
        model
        for model in apps.get_models()
        if not model._meta.managed and model._meta.db_table in dbviews.VIEWS
    ]
    assert {model._meta.db_table for model in unmanaged} == dbviews.VIEWS
    for model in unmanaged:
        list(model.objects.all()[:1])
