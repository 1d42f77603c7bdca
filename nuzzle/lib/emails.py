"""The one helper every email Nuzzle writes itself goes through (nudges, the
couple-ended notice).

`render_email` turns `templates/emails/<name>.subject.txt`, `.txt` and `.html` into one
message with a plain-text and an HTML part. Nothing is sent here: the caller sends,
usually many messages over one connection.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from nuzzle.lib.text import one_line

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
