from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404

from nuzzle.lib.errors import NotFound, ServiceError
from nuzzle.lib.validators import without_constraint_names


def add_service_error(form: forms.Form, exc: ServiceError | ValidationError) -> None:
    """Show a service's complaint on the form, on its field when the form has one."""
    if isinstance(exc, ServiceError):
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return
    exc = without_constraint_names(exc)
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def service_error(action: Callable[[], object]) -> str | None:
    """Run one service call for an HTML form: None when it worked, otherwise the
    message to show the person. Not found (or not theirs) is a 404, never a message."""
    try:
        action()
    except NotFound as exc:
        raise Http404 from exc
    except ServiceError as exc:
        return exc.message
    except ValidationError as exc:
        return " ".join(without_constraint_names(exc).messages)
    return None
