"""What delivery needs from a channel, and what a channel may put in a message.

A **channel** renders one outbox row into a message for its person (`render`) and
opens a **session** for a batch (one SMTP connection, say). Delivery sends each
message through the session by itself, between its at-most-once gates, and the
session answers with an `Outcome`: the channel alone knows what its errors mean.

Adding a channel: implement `Channel` and `Session`, list it in `delivery.channels()`,
and build every message from `message_values` (names, and the context reduced by
`clean_context`); nothing else changes in planning or in the outbox rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from django.conf import settings

from nuzzle.nudges.kinds import SPECS
from nuzzle.nudges.models import Nudge

OutcomeKind = Literal["sent", "retry", "suppress", "fail"]


@dataclass(frozen=True)
class Outcome:
    """What one send means for its row: `sent`; `retry` (temporary: try again after
    the back-off); `suppress` (permanent for this message); `fail` (not retried: it
    may have gone, or it never can)."""

    kind: OutcomeKind
    reason: str = ""
    code: int | None = None
    suppress_person: bool = False  # the channel refused the person's address itself
    reconnect: bool = False  # the session may be unusable: open a new one
    forget: tuple[int, ...] = ()  # push devices that are gone for good (ids)
    no_device: bool = False  # push: no device of the person took it or ever can


@dataclass(frozen=True)
class Addressee:
    """Who a nudge goes to, as a message needs them (no database access while
    rendering)."""

    user_id: int
    email: str
    display_name: str
    timezone: str
    partner_name: str | None  # None when not (or no longer) paired
    devices: tuple[Device, ...] = ()  # push subscriptions, oldest first


@dataclass(frozen=True)
class Device:
    """One push subscription, as a push message needs it."""

    id: int
    endpoint: str
    p256dh: str
    auth: str


class ChannelUnavailable(Exception):
    """The channel cannot be reached at all right now (e.g. no SMTP connection): every
    row still to go in the batch is retried later."""


class Session(Protocol):
    def send(self, message: Any) -> Outcome: ...

    def close(self) -> None: ...


class Channel(Protocol):
    name: str

    def send_timeout(self, addressee: Addressee | None = None) -> float:
        """Seconds one message to `addressee` may take at most (delivery keeps that much
        lease in hand); for a single delivery when no one is named."""
        ...

    def render(self, row: Nudge, addressee: Addressee, context: dict[str, Any]) -> Any:
        """The message for one outbox row. May raise: that row alone fails."""
        ...

    def open(self) -> Session:
        """A session for a batch; raises `ChannelUnavailable` when it cannot."""
        ...


def message_values(
    row: Nudge, addressee: Addressee, context: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What any channel's message for one row may say: the kind's clean context (the
    fresh one from its eligibility check, else the one stored when it was planned) and
    names. Refuses an unknown kind, and a row that is not the addressee's."""
    kind = row.kind
    if kind not in SPECS:
        raise ValueError(f"unknown nudge kind: {kind!r}")
    if addressee.user_id != row.user_id:
        # Links and tokens are signed for the addressee: never mix up two people.
        raise ValueError("the recipient is not the person this nudge is for")
    partner = addressee.partner_name
    return {
        **clean_context(kind, row.context if context is None else context),
        "name": addressee.display_name,
        "partner": partner or "your partner",
        "partner_start": partner or "Your partner",
        "paired": partner is not None,
        "site_name": settings.SITE_NAME,
    }


def clean_context(kind: str, context: dict[str, Any]) -> dict[str, bool | int]:
    """Keep the kind's documented fields only (`KindSpec.context`): flags as booleans,
    counts as non-negative ints. Anything else (text above all) is dropped, never
    rendered: whatever an eligibility check returns, no words anyone wrote — least of
    all a partner's sealed answer — can reach a message."""
    clean: dict[str, bool | int] = {}
    for field, kind_of in SPECS[kind].context.items():
        value = context.get(field)
        if kind_of is bool:
            clean[field] = value is True
        elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
            clean[field] = value
        else:
            clean[field] = 0
    return clean
