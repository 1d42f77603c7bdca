"""Running calls at the same instant, each in its own thread with its own database
connection (PostgreSQL), to test what real concurrent requests do."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection

from nuzzle.lib.errors import ServiceError


def race(calls: list[Callable[[], object]]) -> list[str]:
    """Run every call at the same instant, each in its own thread and connection;
    return "ok" or the name of the error for each."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = [""] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            call()
            outcomes[index] = "ok"
        except ServiceError as exc:
            outcomes[index] = type(exc).__name__
        except Exception as exc:  # anything else is a bug (it would be a 500)
            outcomes[index] = f"unexpected {type(exc).__name__}: {exc}"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes
