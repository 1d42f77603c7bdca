"""Django's PostgreSQL backend with one change: the connection health check is skipped
for a connection that ran a query in the last few seconds.

Why: with persistent connections (`CONN_MAX_AGE`), `CONN_HEALTH_CHECKS` makes Django
send `SELECT 1` before the first query of every request, an extra round trip the
framework's own L2 pays on every request (docs/performance.md). A connection that ran
a query a moment ago is alive unless the server went away in that moment, and then the
requests in flight fail anyway. After `DB_HEALTH_CHECK_IDLE` seconds without a query
(the server may have closed it, a firewall may have dropped it), the check runs as
before, so an idle worker's stale connection is replaced before it can fail a request.
A connection that saw an error is checked by Django as the request ends, and closed if
it is dead.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    # When this connection last opened a cursor (monotonic seconds), None when new.
    last_used: float | None = None

    def connect(self) -> None:
        super().connect()
        self.last_used = None

    def close_if_health_check_failed(self) -> None:
        # Django calls this before a request's first query, once per request.
        idle = getattr(settings, "DB_HEALTH_CHECK_IDLE", 0)
        if (
            self.connection is not None
            and not self.health_check_done  # type: ignore[has-type]  # not in the stubs
            and self.last_used is not None
            and time.monotonic() - self.last_used < idle
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _cursor(self, name: str | None = None) -> Any:
        cursor = super()._cursor(name)  # type: ignore[misc]  # not in the stubs
        self.last_used = time.monotonic()
        return cursor
