"""Errors that services raise; the API and the HTML views translate them.

Services never import DRF or return HTTP responses: they raise one of these and the
edges decide the status code (400, 404, 409) or the form error to show.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: `message` is safe to show to the person who made the request."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Invalid(ServiceError):
    """The input cannot be accepted (HTTP 400)."""


class Conflict(ServiceError):
    """The request conflicts with the current state (HTTP 409)."""


class NotFound(ServiceError):
    """Not found, or not yours: the two are indistinguishable on purpose (HTTP 404)."""
