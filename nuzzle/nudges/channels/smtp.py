"""What an SMTP failure means for one nudge: retry, suppress or give up.

Pure functions of the exception (and of whether DATA had begun), so the rules are
tested on their own; the email channel applies them. See `nuzzle.nudges.delivery` for
why a failure after DATA began is never retried (at most once).
"""

from __future__ import annotations

import re
import smtplib
from dataclasses import dataclass
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend

from nuzzle.nudges.channels.base import Outcome

# Basic reply codes that mean "this mailbox does not exist / is not allowed".
_MAILBOX_CODES = frozenset({550, 551, 553})
# RFC 3463 enhanced codes that blame the address: 5.1.x (bad mailbox or domain) and
# 5.2.1 (mailbox disabled). A 550 5.7.1 is policy (relaying denied, spam) — not the
# person's fault, so it never suppresses them.
_ENHANCED = re.compile(rb"^\s*([245])\.(\d{1,3})\.(\d{1,3})")


def classify(exc: BaseException, *, data_started: bool) -> Outcome:
    """What an exception from sending one message means for its row.

    `data_started`: the DATA command had begun, so the message may have reached the
    server even if we never heard back (see the module docstring)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = list(exc.recipients.values())
        permanent = [(code, text) for code, text in replies if 500 <= code < 600]
        if permanent:
            code, text = permanent[0]
            return _permanent(code, text, recipient=True)
        first = replies[0][0] if replies else None
        return Outcome(
            "retry", f"temporary SMTP error {first} for the recipient", first, reconnect=True
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        if 400 <= code < 500:
            return Outcome("retry", f"temporary SMTP error {code}", code, reconnect=True)
        if 500 <= code < 600:
            # MAIL FROM refused is about our sender, never the recipient's address.
            recipient = not isinstance(exc, smtplib.SMTPSenderRefused)
            return _permanent(code, exc.smtp_error, recipient=recipient)
    if isinstance(exc, OSError):  # smtplib's errors are OSErrors too
        # Disconnects, timeouts, refused connections and other non-answers.
        name = type(exc).__name__
        if data_started:
            return Outcome(
                "fail",
                f"connection lost after the message was handed over ({name}); "
                "not retried (at most once)",
                reconnect=True,
            )
        return Outcome("retry", f"temporary connection error ({name})", reconnect=True)
    return Outcome("fail", f"unexpected error while sending ({type(exc).__name__})")


def _permanent(code: int, text: bytes | str, *, recipient: bool) -> Outcome:
    raw = text.encode() if isinstance(text, str) else text
    enhanced = _ENHANCED.match(raw or b"")
    label = f"{code} {b'.'.join(enhanced.groups()).decode()}" if enhanced else str(code)
    mailbox = recipient and code in _MAILBOX_CODES
    if mailbox and enhanced is not None:
        _, subject, detail = (int(part) for part in enhanced.groups())
        mailbox = subject == 1 or (subject, detail) == (2, 1)
    reason = f"permanent SMTP error {label}" + (": the address was refused" if mailbox else "")
    return Outcome("suppress", reason, code, mailbox)


@dataclass
class DataWatch:
    """Notes when smtplib begins DATA on the current connection (see `classify`)."""

    started: bool = False

    def attach(self, backend: BaseEmailBackend) -> None:
        smtp = getattr(backend, "connection", None)
        if not isinstance(smtp, smtplib.SMTP):
            return  # not an SMTP backend (file, locmem, console): nothing ambiguous
        original = smtp.data

        def data(msg: Any) -> tuple[int, bytes]:
            self.started = True
            return original(msg)

        smtp.data = data  # type: ignore[method-assign]
