"""The API answers JSON, always (docs/api.md, Conventions): errors that Django answers
itself under /api/ (unknown paths, unreadable bodies, an exception nobody caught) are
`{"detail": ...}` with the right status, and a 500 says nothing of what went wrong.
HTML pages keep their calm pages."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http.multipartparser import MultiPartParserError
from django.test import Client, RequestFactory

from nuzzle.lib import views

pytestmark = pytest.mark.django_db

SECRET = "marker-7f3a-internal-detail"


def assert_json_detail(response, status: int) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) == {"detail"}, body
    return body


def failing(*args, **kwargs):
    raise RuntimeError(f"boom: {SECRET}")


def browser(user) -> Client:
    """A signed-in browser with a CSRF cookie, whose test client returns 500s instead
    of raising: a form posted to the API is read by DRF's CSRF check, through Django."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(user)
    client.cookies["csrftoken"] = "a" * 32
    return client


@pytest.fixture
def lenient(cast) -> Client:
    """A signed-in browser whose test client returns 500 responses instead of raising."""
    client = Client(raise_request_exception=False)
    client.force_login(cast.author)
    return client


def test_an_exception_inside_an_api_view_is_a_json_500_that_leaks_nothing(
    monkeypatch, cast, api, caplog
):
    from nuzzle.couples import apis

    monkeypatch.setattr(apis.selectors, "couple_get", failing)
    client = api(cast.author)
    client.raise_request_exception = False
    response = client.get("/api/v1/couple")
    body = assert_json_detail(response, 500)
    assert SECRET not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body["detail"].startswith("Something went wrong")
    assert response["Cache-Control"] == "no-store"
    # The traceback is for the log (the operators), not for the person.
    assert any(SECRET in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_an_exception_inside_an_html_view_is_still_an_html_500(monkeypatch, lenient):
    from nuzzle.couples import views

    monkeypatch.setattr(views.selectors, "couple_get", failing)
    response = lenient.get("/couple/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert SECRET not in response.content.decode()
    assert "Something went wrong on our side" in response.content.decode()  # a calm page


def test_an_unknown_api_path_is_a_json_404(api, cast):
    assert_json_detail(api(cast.author).get("/api/v1/nothing-here"), 404)
    assert_json_detail(api().get("/api/nothing/at/all/"), 404)


def test_a_wrong_method_is_a_json_405(api, cast):
    response = api(cast.author).put("/api/v1/dashboard")
    assert_json_detail(response, 405)
    assert "GET" in response["Allow"]


def test_an_oversized_api_body_is_a_json_413(api):
    response = api().generic(
        "POST", "/api/v1/auth/token", "x" * 70_000, content_type="application/json"
    )
    assert_json_detail(response, 413)


def test_a_request_django_refuses_before_any_view_is_a_json_400(api, settings):
    """A Host header that is not ours: Django answers before any view or DRF runs."""
    client = api()
    client.raise_request_exception = False
    assert_json_detail(client.get("/api/v1/me", HTTP_HOST="evil.example"), 400)


@pytest.mark.parametrize(
    ("exception", "status"),
    [
        (MultiPartParserError("Invalid boundary in multipart: None"), 400),
        (TooManyFieldsSent("The number of GET/POST parameters exceeded"), 400),
        (RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE."), 413),
    ],
    ids=["bad multipart", "too many fields", "too big"],
)
def test_django_request_parsing_errors_under_api_are_json(exception, status):
    """What Django answers through handler400 when it cannot read a body (the API's
    own views never let Django parse one: DRF does, and says 415 or 400 itself)."""
    request = RequestFactory().post("/api/v1/couple/invites")
    response = views.bad_request(request, exception)
    assert_json_detail(response, status)
    assert str(exception) not in response.content.decode()


def test_a_malformed_multipart_form_on_a_page_is_a_400_page(cast):
    client = browser(cast.author)
    response = client.generic(
        "POST",
        "/couple/",
        b"--nope\r\nthis is not a multipart body",
        content_type="multipart/form-data; boundary=",
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_a_form_django_finds_too_big_is_a_413_page_not_a_400(cast, settings):
    """Django's own RequestDataTooBig (form fields over DATA_UPLOAD_MAX_MEMORY_SIZE
    that got past the early check on the whole body) is answered 413 too."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    response = browser(cast.author).post("/couple/", {"timezone": "x" * 50})
    assert response.status_code == 413
    assert "413.html" in [t.name for t in response.templates]


def test_html_pages_keep_their_own_error_pages(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
