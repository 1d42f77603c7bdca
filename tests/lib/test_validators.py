"""No message a person sees names a database constraint (nuzzle.lib.validators).

Django's message for a violated constraint is "Constraint “<name>” is violated.": the
API, the HTML forms and the admin's import show a plain sentence instead."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import UniqueConstraint

from nuzzle.lib.api import exception_handler
from nuzzle.lib.errors import Invalid, as_invalid
from nuzzle.lib.forms import service_error
from nuzzle.lib.validators import CONSTRAINT_VIOLATED, without_constraint_names

CONSTRAINTS = [
    (model, constraint)
    for model in apps.get_models()
    for constraint in model._meta.constraints
    # A unique constraint over plain fields without a condition reports "… with this …
    # already exists." instead; every other one uses its violation message.
    if not (
        isinstance(constraint, UniqueConstraint) and constraint.fields and not constraint.condition
    )
]


@pytest.mark.parametrize(
    ("model", "constraint"),
    CONSTRAINTS,
    ids=[f"{model._meta.label}.{constraint.name}" for model, constraint in CONSTRAINTS],
)
def test_no_constraint_violation_reaches_a_person_by_its_name(model, constraint):
    violated = ValidationError(constraint.get_violation_error_message())
    as_dict = ValidationError({"__all__": [violated], "text": ["Too long."]})

    for error in (violated, as_dict):
        humane = without_constraint_names(error)
        assert constraint.name not in " ".join(humane.messages)
        assert CONSTRAINT_VIOLATED in humane.messages
    assert "Too long." in without_constraint_names(as_dict).messages

    # Services run model validation inside as_invalid(): what reaches the API and the
    # pages is an Invalid made from Django's error.
    api = exception_handler(Invalid.from_validation_error(as_dict), {})
    assert api is not None
    assert api.status_code == 400
    assert constraint.name not in str(api.data)

    def fails():
        with as_invalid():
            raise violated

    assert service_error(fails) == CONSTRAINT_VIOLATED


def test_every_model_constraint_is_covered():
    assert CONSTRAINTS, "no constraint found: the test above would test nothing"


def test_other_messages_are_kept_as_they_are():
    error = ValidationError({"email": ["Enter a valid email address."]})
    assert without_constraint_names(error).message_dict == error.message_dict
