"""'Export my data' (docs/product.md: Your data): everything a person wrote, in every
couple they have been in, as one versioned document, and a readable Markdown rendering
of it.

Privacy rule, simplest and safest: the export holds only what the person wrote, plus
the prompt texts and dates that give it context. None of a partner's words is in it,
not even revealed answers or replies: those are the partner's to export. The partner's
display name in the list of couples is the one exception.

Each feature app reads its own part (`export_*` selectors, a fixed number of queries
each), so the whole export costs the same number of queries for three items or three
thousand.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from checkins.selectors import export_checkin_responses, export_checkins
from lovemaps.selectors.export import (
    export_lovemap_entries,
    export_lovemap_guesses,
    export_lovemap_ratings,
)
from nuzzle.couples.models import User
from nuzzle.couples.selectors import export_account, export_couples
from nuzzle.lib.text import markdown_inline
from nuzzle.lib.timezones import local_date
from nuzzle.nudges.selectors import export_nudges
from prompts.selectors import (
    export_question_answers,
    export_question_passes,
    export_question_reactions,
)

FORMAT = "nuzzle-export"
VERSION = 1


def account_export(*, user: User) -> dict[str, Any]:
    """The whole export of one person, as plain data (dates and datetimes as Python
    objects; `account_export_json` and `account_export_markdown` format them)."""
    nudges = export_nudges(user=user)
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now(),
        "account": export_account(user=user),
        "nudge_preferences": nudges["preferences"],
        "push_devices": nudges["push_devices"],
        "nudges": nudges["nudges"],
        "couples": export_couples(user=user),
        "checkins": export_checkins(user=user),
        "checkin_responses": export_checkin_responses(user=user),
        "question_answers": export_question_answers(user=user),
        "question_reactions": export_question_reactions(user=user),
        "question_passes": export_question_passes(user=user),
        "lovemap_entries": export_lovemap_entries(user=user),
        "lovemap_guesses": export_lovemap_guesses(user=user),
        "lovemap_ratings_given": export_lovemap_ratings(user=user),
    }


def account_export_json(data: dict[str, Any]) -> bytes:
    """The export as indented UTF-8 JSON, encoded as the API encodes it (ISO 8601, UTC)."""
    return JSONRenderer().render(data, renderer_context={"indent": 2})


def _quoted(text: str) -> str:
    """A person's text as a Markdown block quote, every line of it (blank ones too, so
    a paragraph break does not end the quote)."""
    return "\n".join(f"> {line}".rstrip() for line in text.splitlines() or [""])


def _with_quotes(items: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    return [{**item, **{f"{key}_md": _quoted(item[key] or "") for key in keys}} for item in items]


def _name_md(name: str | None) -> str | None:
    """A display name inside one of our lines: literal text, never Markdown of its own
    (a name saved before names had to be one line may still hold line breaks, `#`
    headings or `[links](...)`; it must not turn into them in a partner's export)."""
    return markdown_inline(name) if name else None


def account_export_markdown(data: dict[str, Any]) -> str:
    """The export as readable Markdown: a section per kind of content, times in the
    person's own zone. People's own words are block quotes; names are escaped."""
    context = {
        **data,
        "account": {
            **data["account"],
            "display_name_md": _name_md(data["account"]["display_name"]),
        },
        "couples": [
            {**couple, "partner_display_name_md": _name_md(couple["partner_display_name"])}
            for couple in data["couples"]
        ],
        "checkins": [
            {**checkin, "answers": _with_quotes(checkin["answers"], "text")}
            for checkin in data["checkins"]
        ],
        "checkin_responses": _with_quotes(data["checkin_responses"], "text"),
        "question_answers": _with_quotes(data["question_answers"], "text"),
        "lovemap_entries": _with_quotes(data["lovemap_entries"], "text"),
        "lovemap_guesses": _with_quotes(data["lovemap_guesses"], "guess"),
    }
    return render_to_string("dashboard/export.md", context)


def export_filename(*, user: User, extension: str) -> str:
    """`nuzzle-export-2025-03-14.json`: dated by the person's own day."""
    return f"nuzzle-export-{local_date(user.timezone).isoformat()}.{extension}"
