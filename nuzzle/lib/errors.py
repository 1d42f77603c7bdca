"""Errors that services raise; the API and the HTML views translate them.

Services never import DRF or return HTTP responses: they raise one of these and the
edges decide the status code (400, 404, 409) or the form error to show. Model
validation (`full_clean`) raises Django's `ValidationError`; a service runs it inside
`as_invalid()`, so what it raises is always one of these.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from django.core.exceptions import ValidationError

from nuzzle.lib.validators import without_constraint_names


class ServiceError(Exception):
    """Base class: `message` is safe to show to the person who made the request."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def by_field(self) -> dict[str | None, list[str]]:
        """Every message, by the field it is about (None: not about one field)."""
        return {self.field: [self.message]}


class Invalid(ServiceError):
    """The input cannot be accepted (HTTP 400).

    Usually one message, on `field` or on none. Model validation can refuse several
    fields at once: `Invalid.from_fields` keeps every message by field in `errors`,
    as Django's `ValidationError.message_dict` does, and `message` joins them all.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: Mapping[str | None, Sequence[str]] | None = None,
    ) -> None:
        super().__init__(message, field=field)
        # None for one message (`message`, on `field`); otherwise every one, by field.
        self.errors = (
            {name: list(messages) for name, messages in errors.items()}
            if errors is not None
            else None
        )

    @classmethod
    def from_fields(cls, errors: Mapping[str | None, Sequence[str]]) -> Invalid:
        """Several messages, by field (None: not about one field)."""
        message = " ".join(text for messages in errors.values() for text in messages)
        return cls(message, errors=errors)

    @classmethod
    def from_validation_error(cls, error: ValidationError) -> Invalid:
        """Django's validation error as ours, every message kept by field. A message that
        names a database constraint is replaced, as wherever people read errors
        (`nuzzle.lib.validators.without_constraint_names`)."""
        error = without_constraint_names(error)
        if hasattr(error, "error_dict"):
            return cls.from_fields({name: texts for name, texts in error.message_dict.items()})
        return cls.from_fields({None: error.messages})

    def by_field(self) -> dict[str | None, list[str]]:
        if self.errors is None:
            return super().by_field()
        return {name: list(messages) for name, messages in self.errors.items()}


class Conflict(ServiceError):
    """The request conflicts with the current state (HTTP 409)."""


class NotFound(ServiceError):
    """Not found, or not yours: the two are indistinguishable on purpose (HTTP 404)."""


@contextmanager
def as_invalid() -> Iterator[None]:
    """Run model validation (`full_clean`, a field's validators) so that a refusal is
    raised as `Invalid`, every message kept by field, not as Django's ValidationError."""
    try:
        yield
    except ValidationError as error:
        raise Invalid.from_validation_error(error) from error
