from __future__ import annotations

from django.apps import AppConfig


class NudgesConfig(AppConfig):
    name = "nuzzle.nudges"
    label = "nudges"
    verbose_name = "Nudges"

    def ready(self) -> None:
        from nuzzle.nudges import checks, signals  # noqa: F401  (connect and register)
