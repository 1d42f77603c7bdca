"""Validators shared by models that hold people's text."""

from __future__ import annotations

import functools
import re

from django.core.exceptions import ValidationError

# C0 controls except tab, newline and carriage return; DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Every C0 control (tab, newline and carriage return too), DEL, C1 controls, and the
# Unicode line and paragraph separators: nothing that ends or shapes a line.
_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def validate_no_control_characters(value: str) -> None:
    if _CONTROL.search(value):
        raise ValidationError(
            "Remove the invisible control characters from this text.", code="control_characters"
        )


def validate_single_line(value: str) -> None:
    """For one-line text such as a display name, which appears inside other text (an
    email's greeting, a line of the Markdown export): no line breaks, no tabs, no
    control characters, so it can never start a line or a heading of its own."""
    if _LINE_BREAKING.search(value):
        raise ValidationError(
            "Use a single line, without line breaks, tabs or invisible control characters.",
            code="single_line",
        )


# Django's message for a violated constraint names it ("Constraint “checkin_mood_1_5”
# is violated."): a database detail no person should read. Wherever validation errors
# reach someone (the API, the HTML forms, the admin's import), such messages are
# replaced with this one; a constraint with a message of its own keeps it (unless that
# message names the constraint too).
CONSTRAINT_VIOLATED = "This doesn't fit with what is already saved. Check it and try again."


@functools.cache
def _constraint_messages() -> frozenset[str]:
    """Every constraint-violation message of this project's models that names its
    constraint, as Django's default ("Constraint “<name>” is violated.") does. Read
    once, after the apps are loaded."""
    from django.apps import apps

    messages = (
        (constraint.name, str(constraint.get_violation_error_message()))
        for model in apps.get_models()
        for constraint in model._meta.constraints
    )
    return frozenset(message for name, message in messages if name and name in message)


def names_a_constraint(message: object) -> bool:
    return str(message) in _constraint_messages()


def without_constraint_names(error: ValidationError) -> ValidationError:
    """`error` with every message that names a database constraint replaced by
    CONSTRAINT_VIOLATED (once per field); everything else is kept as it was."""

    def humane(errors: list[ValidationError]) -> list[ValidationError]:
        kept: list[ValidationError] = []
        replaced = False
        for item in errors:
            if any(names_a_constraint(message) for message in item):
                if not replaced:
                    kept.append(ValidationError(CONSTRAINT_VIOLATED, code="constraint"))
                    replaced = True
            else:
                kept.append(item)
        return kept

    if hasattr(error, "error_dict"):
        return ValidationError(
            {field: humane(errors) for field, errors in error.error_dict.items()}
        )
    return ValidationError(humane(error.error_list))
