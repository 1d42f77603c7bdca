"""Small helpers for HTML forms: service errors on forms, and the field for a person's
own words (limits checked by the server, line breaks counted as the person sees them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404

from nuzzle.lib.errors import NotFound, ServiceError


def add_service_error(form: forms.Form, exc: ServiceError) -> None:
    """Show a service's complaint on the form: every message on its field when the form
    has that field (several at once when model validation refused more than one,
    `ServiceError.by_field`), otherwise on the form as a whole."""
    for field, messages in exc.by_field().items():
        form.add_error(field if field in form.fields else None, messages)


def service_error(action: Callable[[], object]) -> str | None:
    """Run one service call for an HTML form: None when it worked, otherwise the
    message to show the person (every message, when it refused several). Not found (or
    not theirs) is a 404, never a message."""
    try:
        action()
    except NotFound as exc:
        raise Http404 from exc
    except ServiceError as exc:
        return exc.message
    return None


def normalise_newlines(text: str) -> str:
    """Every line break as LF.

    Browsers submit a textarea's line breaks as CRLF (HTML's form encoding) while the
    person, the field's `value` and our counter see one character per break; counted
    as sent, a 500-character answer with five lines would be refused as 505. The API
    does the same, so a text stored from a page and from the API is the same text.
    """
    return text.replace("\r\n", "\n").replace("\r", "\n")


def too_long_message(*, limit: int, length: int) -> str:
    """What we say when text is over its limit: the limit, the count and how much to cut
    (the words themselves are kept: the form shows them again, the API stores nothing)."""
    over = length - limit
    return (
        f"Please keep this to {limit:,} characters: it has {length:,}, "
        f"{over:,} too many. Nothing was cut; shorten it and send it again."
    )


class WordsBoundField(forms.BoundField):
    """Describes the field by its counter too (`<id>_count`, rendered under it)."""

    @property
    def aria_describedby(self) -> str | None:
        described = super().aria_describedby
        if described is None or not self.auto_id:
            return described  # the widget sets its own
        return " ".join([f"{self.auto_id}_count", *described.split()])


class WordsField(forms.CharField):
    """A field for a person's own words (answers, replies, guesses, names).

    The limit is checked by the server, never by the browser: a `maxlength` attribute
    makes the browser cut a long paste without a word, and the cut-off text was then
    stored as if it were what the person wrote. Here over-long text is an error on the
    field, and the form shows the text again, whole. Line breaks count as one
    character, as the person and the counter see them (see `normalise_newlines`); the
    length is checked before surrounding spaces are trimmed, as the API checks it.

    The widget gets `data-limit` (nuzzle.js shows a live counter, `<id>_count` in the
    templates), `dir="auto"` (right-to-left words read right to left) and, with
    `draft=True`, `data-draft` (nuzzle.js keeps an unsent draft in the browser).
    """

    bound_field_class = WordsBoundField

    def __init__(self, *, max_length: int, draft: bool = False, **kwargs: Any) -> None:
        self.limit = max_length
        self.draft = draft
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        if isinstance(value, str):
            value = normalise_newlines(value)
            if len(value) > self.limit:
                raise ValidationError(
                    too_long_message(limit=self.limit, length=len(value)), code="max_length"
                )
        text = super().to_python(value)
        return "" if text is None else text

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs: dict[str, Any] = super().widget_attrs(widget)
        attrs.update({"data-limit": str(self.limit), "dir": "auto"})
        if self.draft:
            attrs["data-draft"] = True
        return attrs
