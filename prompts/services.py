"""Writes to the prompt bank."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from prompts.models import Prompt

BANK_DIR = Path(__file__).resolve().parent / "bank"
# Which file holds which kind; a file's entries inherit its kind.
BANK_FILES = {
    "checkin.toml": Prompt.Kind.CHECKIN,
    "questions.toml": Prompt.Kind.QUESTION,
    "lovemap.toml": Prompt.Kind.LOVEMAP,
}


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    unchanged: int


def _entry_values(entry: dict[str, Any], kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "text": entry["text"].strip(),
        "dimension": entry["dimension"],
        "depth": entry.get("depth", 1),
        "domain": entry.get("domain", ""),
        "half_life_days": entry.get("half_life_days"),
        "locale": entry.get("locale", "en"),
        "tags": entry.get("tags", []),
        "pack": entry.get("pack", "core"),
        "sensitive": entry.get("sensitive", False),
    }


@transaction.atomic
def prompt_bank_load(*, bank_dir: Path = BANK_DIR) -> LoadResult:
    """Load the bundled bank. Idempotent: prompts are matched by `key`; re-running
    updates changed text and metadata and never duplicates. New prompts are
    published; a curator's status changes (retire, draft) are left alone."""
    updated = unchanged = 0
    new: list[Prompt] = []
    existing = {prompt.key: prompt for prompt in Prompt.objects.all()}
    for filename, kind in BANK_FILES.items():
        with (bank_dir / filename).open("rb") as handle:
            entries = tomllib.load(handle).get("prompt", [])
        for entry in entries:
            values = _entry_values(entry, kind)
            prompt = existing.get(entry["key"])
            if prompt is None:
                prompt = Prompt(key=entry["key"], status=Prompt.Status.PUBLISHED, **values)
                # Field validation only: the database enforces the unique key, and a
                # per-row uniqueness query would make loading hundreds of prompts slow.
                prompt.full_clean(validate_unique=False, validate_constraints=False)
                new.append(prompt)
                existing[prompt.key] = prompt
                continue
            changed = [name for name, value in values.items() if getattr(prompt, name) != value]
            if changed:
                for name in changed:
                    setattr(prompt, name, values[name])
                prompt.full_clean(validate_unique=False)
                prompt.save(update_fields=[*changed, "updated_at"])
                updated += 1
            else:
                unchanged += 1
    # One insert for all new prompts, with their first history records.
    bulk_create_with_history(new, Prompt, batch_size=500)
    return LoadResult(created=len(new), updated=updated, unchanged=unchanged)
