from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from prompts.services import prompt_bank_load


class Command(BaseCommand):
    help = "Load the bundled prompt bank (prompts/bank/*.toml). Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        result = prompt_bank_load()
        self.stdout.write(
            f"Prompt bank: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged."
        )
