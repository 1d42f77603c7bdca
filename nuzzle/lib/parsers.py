"""The API's JSON parser: DRF's, with a limit on nesting checked before parsing.

Python's JSON decoder recurses once per level of `[` or `{`. A 2 KB body nested a
thousand deep makes it raise `RecursionError`, which is no `ValueError`: DRF would
let it through as a 500 (with a traceback in the log for every such request), and
whatever reads the body first (a throttle reading the `email` field) would meet it
before the view. No Nuzzle request is more than a few levels deep, so a body nested
deeper than `MAX_JSON_DEPTH` is refused with a 400 after one linear scan, before the
decoder sees it.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

# The deepest request body of the API is three levels (a list of objects inside an
# object); anything past this is refused rather than parsed.
MAX_JSON_DEPTH = 32
TOO_DEEP = "JSON nested too deeply."


class JSONNestedTooDeeply(ValueError):
    """Raised by `loads` for a body nested deeper than MAX_JSON_DEPTH."""

    def __init__(self) -> None:
        super().__init__(TOO_DEEP)


_OUTSIDE_STRING = re.compile(r'[\[\]{}"]')
_INSIDE_STRING = re.compile(r'["\\]')


def json_nested_deeper_than(text: str, limit: int) -> bool:
    """Whether `text` opens more than `limit` arrays/objects inside one another.

    Brackets inside strings do not count. Each step jumps (with a regex, in C) to the
    next character that matters, so the scan is linear in the length of the text and
    stops as soon as the limit is passed; it never raises. Malformed JSON is left to
    the decoder to report (an unterminated string simply ends the scan).
    """
    depth = 0
    position = 0
    next_outside = _OUTSIDE_STRING.search
    next_inside = _INSIDE_STRING.search
    while (found := next_outside(text, position)) is not None:
        char = found.group()
        position = found.end()
        if char == '"':
            while (special := next_inside(text, position)) is not None:
                position = special.end()
                if special.group() == '"':
                    break
                position += 1  # a backslash escapes the character after it
            else:
                return False
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def loads(text: str, *, strict: bool = True) -> Any:
    """`json.loads` for bodies from outside: ValueError (never RecursionError) for
    anything that is not JSON Nuzzle accepts, including JSON nested too deeply."""
    if json_nested_deeper_than(text, MAX_JSON_DEPTH):
        raise JSONNestedTooDeeply
    parse_constant = json.strict_constant if strict else None
    try:
        return json.loads(text, parse_constant=parse_constant)
    except RecursionError as exc:  # only if MAX_JSON_DEPTH were raised near the stack
        raise JSONNestedTooDeeply from exc


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser (the API's only parser), refusing deep nesting with a 400."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        # The body is at most MAX_BODY_BYTES (BodySizeMiddleware), so it is read whole.
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - the body is not valid {encoding}.") from exc
        try:
            return loads(text, strict=self.strict)
        except JSONNestedTooDeeply as exc:
            raise ParseError(TOO_DEEP) from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
