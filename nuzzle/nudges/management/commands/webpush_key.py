"""Print a new Web Push (VAPID) private key for WEBPUSH_VAPID_PRIVATE_KEY, or the
public key this installation hands to browsers now (`--public`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from nuzzle.nudges import webpush


class Command(BaseCommand):
    help = (
        "Print a new VAPID private key (base64url) to set as WEBPUSH_VAPID_PRIVATE_KEY, "
        "or with --public the public key in use now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--public", action="store_true", help="Print the public key in use instead."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(webpush.public_key() if options["public"] else webpush.new_private_key())
