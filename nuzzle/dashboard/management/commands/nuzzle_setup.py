"""First-run set-up: idempotent, safe to run on every start.

Loads the bundled prompt bank, makes the Web Push key if none is configured (so every
process started after it reads the same one), and creates the demo couple with three
weeks of check-ins (unless --no-demo). Lives at the top layer: it touches every feature.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from nuzzle.dashboard.demo import DEMO_PASSWORD, demo_couple_ensure
from nuzzle.nudges import webpush


class Command(BaseCommand):
    help = "First-run set-up: load bundled data and the demo couple. Safe to re-run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-demo", action="store_true", help="Skip the demo couple.")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("prompts_load", stdout=self.stdout)
        webpush.public_key()  # generates and keeps the VAPID key on first run
        if not options["no_demo"]:
            first, second, created = demo_couple_ensure()
            verb = "Created" if created else "Kept"
            self.stdout.write(
                f"{verb} the demo couple: {first.email} and {second.email} "
                f"(password: {DEMO_PASSWORD})"
            )
