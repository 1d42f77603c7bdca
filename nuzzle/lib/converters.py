"""URL converters."""

from __future__ import annotations

from django.urls import register_converter


class IdConverter:
    """A database id in a URL: 1 to 18 digits. Longer numbers could not be an id (ids
    are 64-bit) and would overflow the database driver: they never match, so the
    request is a plain 404 instead of an error."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


# Registered once, here: both URL modules import this one.
register_converter(IdConverter, "id")
