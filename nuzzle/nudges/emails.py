"""Rendering emails: the one helper every email goes through, and the nudge emails.

`render_email` turns `templates/emails/<name>.subject.txt`, `.txt` and `.html` into one
message with a plain-text and an HTML part. `nudge_message` builds the email for one
outbox row: the right deep link, a signed one-click unsubscribe link for its kind and
for all kinds, and the headers mail clients use for one-click unsubscribe (RFC 8058).

What a nudge email may say is deliberately narrow: names, counts and links. Each kind's
context is reduced to the documented fields (kinds.py) with their types enforced, so
whatever an eligibility check returns, no words anyone wrote — least of all a partner's
sealed answer — can reach an email.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from nuzzle.lib.http import absolute_url
from nuzzle.lib.text import one_line
from nuzzle.nudges.kinds import SPECS, Kind
from nuzzle.nudges.models import Nudge
from nuzzle.nudges.tokens import unsubscribe_token


@dataclass(frozen=True)
class EmailRecipient:
    """Who a nudge goes to, as the email needs them (no database access while rendering)."""

    user_id: int
    email: str
    display_name: str
    timezone: str
    partner_name: str | None  # None when not (or no longer) paired


_BLANK_LINES = re.compile(r"\n{3,}")


def _tidy_text(text: str) -> str:
    """Templates leave stray spaces and blank lines around tags; plain text should not."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)) + "\n"


def render_email(
    name: str,
    context: dict[str, Any],
    *,
    to: list[str],
    headers: dict[str, str] | None = None,
) -> EmailMultiAlternatives:
    """Render `emails/<name>.subject.txt`, `.txt` and `.html` into a two-part message.

    The subject is one line (whitespace collapsed, so a template's line breaks can
    never become a header injection). The `.subject.txt` and `.txt` templates wrap
    themselves in `{% autoescape off %}`: plain text shows "Sam & Co", not "&amp;".
    Nothing is sent here: the caller sends, usually many messages over one connection.

    Every text value of the context (names, above all) is put on one line first: a
    display name saved before names had to be one line must not add lines of its own
    (a fake link, say) to the plain-text part."""
    context = {
        key: one_line(value) if isinstance(value, str) else value for key, value in context.items()
    }
    subject = " ".join(render_to_string(f"emails/{name}.subject.txt", context).split())
    text = _tidy_text(render_to_string(f"emails/{name}.txt", context))
    html = render_to_string(f"emails/{name}.html", {**context, "subject": subject})
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers=headers or {},
    )
    message.attach_alternative(html, "text/html")
    return message


# Where each kind's button goes (a URL name; made absolute with SITE_URL).
DEEP_LINKS: dict[str, str] = {
    Kind.QUESTION_READY: "question",
    Kind.PARTNER_ANSWERED: "question",
    Kind.CHECKIN_REMINDER: "checkin",
    Kind.LOVEMAP_STALE: "lovemap-mine",
    Kind.LOVEMAP_CATCHUP: "lovemap-partner",
    Kind.WEEKLY_RECAP: "home",
}

# The only fields an email may show, per kind, with their types (see kinds.py).
CONTEXT_FIELDS: dict[str, dict[str, type]] = {
    Kind.QUESTION_READY: {"partner_answered": bool},
    Kind.CHECKIN_REMINDER: {},
    Kind.PARTNER_ANSWERED: {"revealed": bool},
    Kind.LOVEMAP_STALE: {"stale": int},
    Kind.LOVEMAP_CATCHUP: {"updates": int},
    Kind.WEEKLY_RECAP: {"days_together": int, "questions_revealed": int, "lovemap_updates": int},
}


def _clean_context(kind: str, context: dict[str, Any]) -> dict[str, bool | int]:
    """Keep the documented fields only: flags as booleans, counts as non-negative ints.
    Anything else (text above all) is dropped, never rendered."""
    clean: dict[str, bool | int] = {}
    for field, kind_of in CONTEXT_FIELDS[kind].items():
        value = context.get(field)
        if kind_of is bool:
            clean[field] = value is True
        elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
            clean[field] = value
        else:
            clean[field] = 0
    return clean


def unsubscribe_url(user_id: int, kind: str | None) -> str:
    return absolute_url(reverse("unsubscribe", args=[unsubscribe_token(user_id, kind)]))


def _site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def nudge_message(
    nudge: Nudge, recipient: EmailRecipient, context: dict[str, Any] | None = None
) -> EmailMultiAlternatives:
    """The email for one outbox row. `context` is the kind's fresh context from its
    eligibility check (default: the one stored on the row when it was planned).

    The Message-ID is derived from the row, so if a message were ever handed to SMTP
    twice, the two copies would be recognisably the same message."""
    kind = nudge.kind
    if kind not in SPECS:
        raise ValueError(f"unknown nudge kind: {kind!r}")
    if recipient.user_id != nudge.user_id:
        # The unsubscribe links are signed for the recipient: never mix up two people.
        raise ValueError("the recipient is not the person this nudge is for")
    kind_unsubscribe = unsubscribe_url(recipient.user_id, kind)
    partner = recipient.partner_name
    values: dict[str, Any] = {
        **_clean_context(kind, nudge.context if context is None else context),
        "kind": kind,
        "kind_label": Kind(kind).label,
        "name": recipient.display_name,
        "partner": partner or "your partner",
        "partner_start": partner or "Your partner",
        "paired": partner is not None,
        "email": recipient.email,
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "action_url": absolute_url(reverse(DEEP_LINKS[kind])),
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
