"""Make a person a curator: staff access to the Django admin, in the `curator` group
(prompts only: no couple content anywhere)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser

from nuzzle.couples.models import User, normalize_email


class Command(BaseCommand):
    help = "Give an account curator access to the prompt bank in /admin/ (creates it if needed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="Curator", help="Display name for a new account.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            group = Group.objects.get(name="curator")
        except Group.DoesNotExist as exc:
            raise CommandError("The curator group is missing: run `manage.py migrate`.") from exc
        email = normalize_email(options["email"])
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, None, display_name=options["name"])
            self.stdout.write(
                f"Created {email} without a password: set one with "
                "`manage.py changepassword` or the 'Forgot your password?' link."
            )
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.groups.add(group)
        self.stdout.write(f"{email} is a curator: log in at /admin/.")
