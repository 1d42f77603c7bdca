"""Putting a person's one-line text (a display name) into other text safely.

Display names are validated as single lines (`validate_single_line`), but rows written
before that rule may still hold line breaks or control characters, so whatever
renders a name into plain text or Markdown neutralises it here as well.
"""

from __future__ import annotations

import re

# Runs of whitespace (line breaks included), C0/C1 controls, DEL and the Unicode line
# and paragraph separators.
_BREAKS = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# What can start inline Markdown (emphasis, code, links and images, autolinks and
# HTML, entities, strikethrough, table cells) and the backslash itself.
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]()<>!&~|#])")


def one_line(text: str) -> str:
    """`text` on one line: every run of whitespace or control characters becomes a
    single space, and the ends are trimmed."""
    return _BREAKS.sub(" ", text).strip()


def markdown_inline(text: str) -> str:
    """`text` as literal Markdown inside a line that we start: on one line, with every
    character that could begin inline markup backslash-escaped. (Block markup such as
    `#` headings or `- ` lists only counts at the start of a line, which a name placed
    after our own words never is.)"""
    return _MARKDOWN_INLINE.sub(r"\\\1", one_line(text))
