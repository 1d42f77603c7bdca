from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from nuzzle.lib.errors import ServiceError


def add_service_error(form: forms.Form, exc: ServiceError | ValidationError) -> None:
    """Show a service's complaint on the form, on its field when the form has one."""
    if isinstance(exc, ServiceError):
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
