"""No template served to a browser carries what the Content-Security-Policy refuses:
inline styles (a `style` attribute or a <style> element), inline scripts or event-handler
attributes. The browser journeys catch the same at run time (the `person` fixture fails
on any violation); this catches it in templates no journey happens to render. Emails are
exempt: mail clients need inline styles, and the site's policy does not apply to them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SERVED = sorted(
    path for path in TEMPLATES.rglob("*.html") if path.relative_to(TEMPLATES).parts[0] != "emails"
)
# What the browser never sees: comments and template tags (`{% if style == "today" %}`).
NOT_SENT = re.compile(r"{% comment %}.*?{% endcomment %}|{#.*?#}|{%.*?%}", re.S)
INLINE = {
    "a style attribute": re.compile(r"""\sstyle\s*=""", re.I),
    "a <style> element": re.compile(r"<style[\s>]", re.I),
    "an inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "an event-handler attribute": re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I),
}


@pytest.mark.parametrize("path", SERVED, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_a_served_template_has_nothing_inline(path):
    source = NOT_SENT.sub("", path.read_text(encoding="utf-8"))
    found = [what for what, pattern in INLINE.items() if pattern.search(source)]
    assert not found, f"{path.relative_to(TEMPLATES)} has {', '.join(found)}"


def test_the_walk_finds_the_templates():
    assert len(SERVED) > 40
