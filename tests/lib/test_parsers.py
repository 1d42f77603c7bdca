"""JSON nested too deeply (nuzzle.lib.parsers): a 400 before parsing, on every JSON
endpoint, including those whose throttle reads the body before the view does."""

from __future__ import annotations

import json
import logging
import time

import pytest

from nuzzle.lib.parsers import MAX_JSON_DEPTH, json_nested_deeper_than, loads

pytestmark = pytest.mark.django_db

TOO_DEEP = {"detail": "JSON nested too deeply."}


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def nested_objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


# --- the scan ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "deeper_than_2"),
    [
        ("[]", False),
        ("[[]]", False),
        ("[[[]]]", True),
        ('{"a": {"b": {"c": 1}}}', True),
        ('{"a": {"b": 1}, "c": {"d": 2}}', False),  # siblings do not add up
        ('["[[[[[[", "{{{{{"]', False),  # brackets inside strings do not count
        ('["\\"[[[[", "\\\\", [["x"]]]', True),  # escaped quotes and backslashes
        ('"[[[[[[', False),  # an unterminated string ends the scan (the decoder says why)
        ("]]]]][[", False),
        ("", False),
    ],
)
def test_the_scan_counts_only_real_nesting(text, deeper_than_2):
    assert json_nested_deeper_than(text, 2) is deeper_than_2


def test_the_scan_is_linear_even_for_a_body_of_escaped_quotes():
    """A body built to make a backtracking regex quadratic is scanned at once."""
    body = '"' + '\\"' * 40_000
    started = time.perf_counter()
    assert json_nested_deeper_than(body, MAX_JSON_DEPTH) is False
    assert time.perf_counter() - started < 1


def test_loads_refuses_deep_nesting_as_a_value_error_never_a_recursion_error():
    assert loads(nested(MAX_JSON_DEPTH)) is not None
    with pytest.raises(ValueError, match="nested too deeply"):
        loads(nested(MAX_JSON_DEPTH + 1))
    with pytest.raises(ValueError, match="nested too deeply"):
        loads(nested(100_000))


# --- through the API ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [nested(1000), nested(1000, "{", "}"), nested_objects(1000)],
    ids=["arrays", "braces", "objects"],
)
def test_a_body_nested_a_thousand_deep_is_a_400_on_the_log_in_endpoint(api, caplog, body):
    """The token endpoint's throttle reads `email` from the body before the view."""
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = api().generic(
            "POST", "/api/v1/auth/token", body, content_type="application/json"
        )
    assert response.status_code == 400
    assert response.json() == TOO_DEEP
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_deeply_nested_body_is_a_400_for_a_signed_in_person_too(api, cast):
    response = api(cast.author).generic(
        "PATCH", "/api/v1/me", nested_objects(2000), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == TOO_DEEP
    cast.author.refresh_from_db()
    assert cast.author.display_name == "Robin"


def test_ordinary_nesting_is_still_parsed(api, cast):
    body = {"display_name": "Robin [the first] {of two}", "timezone": "Europe/London"}
    response = api(cast.author).generic(
        "PATCH", "/api/v1/me", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["display_name"] == "Robin [the first] {of two}"


def test_a_body_that_is_not_utf8_is_a_400(api):
    response = api().generic(
        "POST", "/api/v1/auth/token", b'{"email": "\xff"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert "detail" in response.json()
