"""System checks for nudge settings that only make sense together."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from nuzzle.nudges.channels.email import EmailChannel
from nuzzle.nudges.policy import LEASE_TIMEOUTS


@register()
def lease_outlasts_smtp(**_: Any) -> list[CheckMessage]:
    """A lease shorter than a few SMTP timeouts would release every claim at once and
    send nothing, while the worker spins on the database."""
    timeout = EmailChannel().send_timeout()  # what delivery keeps in hand per send
    if LEASE_TIMEOUTS * timeout < settings.NUDGE_LEASE_SECONDS:
        return []
    return [
        Error(
            f"NUDGE_LEASE_SECONDS ({settings.NUDGE_LEASE_SECONDS}) must be more than "
            f"{LEASE_TIMEOUTS} × EMAIL_TIMEOUT ({timeout:g}): no nudge could ever be sent.",
            hint="Raise NUDGE_LEASE_SECONDS (default 600) or lower EMAIL_TIMEOUT.",
            id="nudges.E001",
        )
    ]
