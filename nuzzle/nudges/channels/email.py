"""The email channel: one message per outbox row, sent over one SMTP connection per
batch.

`nudge_message` builds the email for one row: the kind's deep link, a signed one-click
unsubscribe link for its kind and for all kinds, and the headers mail clients use for
one-click unsubscribe (RFC 8058). What it may say is narrow: names, counts and links
(`base.clean_context`).

A session is one connection of Django's configured mail backend; what an SMTP error
means for a row is decided by `smtp.classify`.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from nuzzle.lib.emails import render_email
from nuzzle.lib.http import absolute_url
from nuzzle.nudges.channels.base import Addressee, ChannelUnavailable, Outcome, message_values
from nuzzle.nudges.channels.smtp import DataWatch, classify
from nuzzle.nudges.kinds import SPECS, Kind
from nuzzle.nudges.models import Nudge
from nuzzle.nudges.tokens import unsubscribe_token

logger = logging.getLogger(__name__)


def unsubscribe_url(user_id: int, kind: str | None) -> str:
    return absolute_url(reverse("unsubscribe", args=[unsubscribe_token(user_id, kind)]))


def _site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def nudge_message(
    nudge: Nudge, recipient: Addressee, context: dict[str, Any] | None = None
) -> EmailMultiAlternatives:
    """The email for one outbox row. `context` is the kind's fresh context from its
    eligibility check (default: the one stored on the row when it was planned).

    The Message-ID is derived from the row, so if a message were ever handed to SMTP
    twice, the two copies would be recognisably the same message."""
    values = message_values(nudge, recipient, context)
    kind = nudge.kind
    kind_unsubscribe = unsubscribe_url(recipient.user_id, kind)
    values |= {
        "kind": kind,
        "kind_label": Kind(kind).label,
        "email": recipient.email,
        "site_url": settings.SITE_URL,
        "action_url": absolute_url(reverse(SPECS[kind].deep_link)),
        "preferences_url": absolute_url(reverse("nudge-preferences")),
        "unsubscribe_url": kind_unsubscribe,
        "unsubscribe_all_url": unsubscribe_url(recipient.user_id, None),
    }
    headers = {
        "Message-ID": f"<nudge-{nudge.pk}@{_site_host()}>",
        "List-Unsubscribe": f"<{kind_unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "X-Nuzzle-Kind": kind,
    }
    return render_email(f"nudge_{kind}", values, to=[recipient.email], headers=headers)


class EmailChannel:
    name = "email"

    def send_timeout(self, addressee: Addressee | None = None) -> float:
        return float(settings.EMAIL_TIMEOUT or 10)

    def render(self, row: Nudge, addressee: Addressee, context: dict[str, Any]) -> EmailMessage:
        return nudge_message(row, addressee, context)

    def open(self) -> SmtpSession:
        backend = get_connection(fail_silently=False)
        try:
            backend.open()
        except Exception as exc:
            _close(backend)
            logger.warning("nudge delivery: cannot reach the mail server (%s)", type(exc).__name__)
            raise ChannelUnavailable(
                f"could not connect to the mail server ({type(exc).__name__})"
            ) from exc
        return SmtpSession(backend)


class SmtpSession:
    """One open connection; each message is sent by itself so that each row gets its
    own outcome."""

    def __init__(self, backend: BaseEmailBackend) -> None:
        self.backend = backend
        self.watch = DataWatch()
        self.watch.attach(backend)

    def send(self, message: EmailMessage) -> Outcome:
        self.watch.started = False
        try:
            count = self.backend.send_messages([message])
        except Exception as exc:
            return classify(exc, data_started=self.watch.started)
        if not count:
            return Outcome("fail", "the mail backend sent nothing")
        return Outcome("sent")

    def close(self) -> None:
        _close(self.backend)


def _close(backend: BaseEmailBackend) -> None:
    try:
        backend.close()
    except Exception as exc:  # QUIT on a dead connection; it is gone either way
        logger.info("nudge delivery: closing the connection failed (%s)", type(exc).__name__)
