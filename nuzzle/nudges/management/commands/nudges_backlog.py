"""`manage.py nudges_backlog [--json]`: where the nudge pipeline stands, for operators.

Counts only (no person, no content), from `selectors.backlog`. A growing "due now"
means the tick (schedule rows) or the delivery workers (outbox) are behind or down;
expired leases mean a worker died mid-batch (the next tick recovers them).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from nuzzle.nudges.selectors import Backlog, backlog


def age(value: timedelta | None) -> str:
    """A short human age: "none", "45s", "3m 12s", "2h 05m", "3d 4h"."""
    if value is None:
        return "none"
    seconds = int(value.total_seconds())
    minutes, secs = divmod(seconds, 60)
    hours, mins = divmod(minutes, 60)
    days, hrs = divmod(hours, 24)
    if days:
        return f"{days}d {hrs}h"
    if hours:
        return f"{hours}h {mins:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def as_json(result: Backlog) -> dict[str, Any]:
    return {
        "now": result.now.isoformat(),
        "schedules_due": result.schedules_due,
        "oldest_schedule_due_seconds": _seconds(result.oldest_schedule_age),
        "outbox": {
            "pending_due": result.pending_due,
            "pending_later": result.pending_later,
            "retrying": result.retrying,
            "claimed": result.claimed,
            "sending": result.sending,
            "leases_expired": result.leases_expired,
        },
        "oldest_pending_seconds": _seconds(result.oldest_pending_age),
        "last_24h": dict(result.recent),
    }


def as_text(result: Backlog) -> str:
    recent = result.recent
    rows = [
        f"Nudge backlog at {result.now:%Y-%m-%d %H:%M:%S} UTC",
        "",
        f"schedule rows due now     {result.schedules_due:>7}"
        f"   (oldest due {age(result.oldest_schedule_age)})",
        "",
        "outbox",
        f"  pending, due now        {result.pending_due:>7}",
        f"  pending, later          {result.pending_later:>7}",
        f"  retrying (pending)      {result.retrying:>7}",
        f"  claimed                 {result.claimed:>7}",
        f"  sending                 {result.sending:>7}",
        f"  leases expired          {result.leases_expired:>7}",
        "",
        "last 24 h (by scheduled time)",
        f"  sent                    {recent['sent']:>7}",
        f"  skipped                 {recent['skipped']:>7}",
        f"  suppressed              {recent['suppressed']:>7}",
        f"  failed                  {recent['failed']:>7}",
        "",
        f"oldest pending: {age(result.oldest_pending_age)}",
    ]
    return "\n".join(rows)


class Command(BaseCommand):
    help = "Show the nudge backlog: due schedule rows, outbox counts, the oldest due row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = backlog(now=timezone.now())
        if options["json"]:
            self.stdout.write(json.dumps(as_json(result), indent=2))
        else:
            self.stdout.write(as_text(result))
