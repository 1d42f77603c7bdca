"""Validators shared by models that hold people's text."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# C0 controls except tab, newline and carriage return; DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def validate_no_control_characters(value: str) -> None:
    if _CONTROL.search(value):
        raise ValidationError(
            "Remove the invisible control characters from this text.", code="control_characters"
        )
