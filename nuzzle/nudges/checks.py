"""System checks for nudge settings that only make sense together."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from nuzzle.nudges.delivery import channels
from nuzzle.nudges.policy import LEASE_TIMEOUTS


@register()
def lease_outlasts_sends(**_: Any) -> list[CheckMessage]:
    """A lease shorter than a few send timeouts would release every claim at once and
    send nothing, while the worker spins on the database."""
    # What delivery keeps in hand for a row to one device that may fall back to email.
    timeout = sum(channel.send_timeout() for channel in channels().values())
    if LEASE_TIMEOUTS * timeout < settings.NUDGE_LEASE_SECONDS:
        return []
    return [
        Error(
            f"NUDGE_LEASE_SECONDS ({settings.NUDGE_LEASE_SECONDS}) must be more than "
            f"{LEASE_TIMEOUTS} × (EMAIL_TIMEOUT + WEBPUSH_TIMEOUT) ({timeout:g} s): a "
            "nudge by push could never be sent.",
            hint="Raise NUDGE_LEASE_SECONDS (default 600), or lower EMAIL_TIMEOUT or "
            "WEBPUSH_TIMEOUT.",
            id="nudges.E001",
        )
    ]
