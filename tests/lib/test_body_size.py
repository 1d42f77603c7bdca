"""Every route has a body limit (nuzzle.lib.middleware.BodySizeMiddleware), answered
413 before the body is read: MAX_BODY_BYTES for the API and every HTML form, signed-in
or not; MAX_IMPORT_BODY_BYTES only for signed-in staff on the admin's prompt import.
Bodies of unknown length (chunked) are cut off at the same limits."""

from __future__ import annotations

import io

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import PASSWORD, new_curator, new_user
from tests.test_security_headers import assert_hardened

pytestmark = pytest.mark.django_db

TWENTY_MB = 20 * 1024 * 1024
IMPORT = "/admin/prompts/prompt/import/"


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, size=-1):
        raise AssertionError("the body was read")

    readline = read


def declared(length: int, content_type: str = "multipart/form-data; boundary=xyz") -> dict:
    """A request that declares a body of `length` bytes which must never be read."""
    return {
        "CONTENT_LENGTH": str(length),
        "CONTENT_TYPE": content_type,
        "wsgi.input": Unreadable(),
    }


def chunked(body: bytes, content_type: str) -> dict:
    """A request with a body of unknown length (Transfer-Encoding: chunked, as gunicorn
    hands it over: no CONTENT_LENGTH, the decoded body in a wsgi.input that ends where
    the body ends)."""
    return {
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input_terminated": True,
        "CONTENT_TYPE": content_type,  # Django's test client, which sends no body itself
        "content_type": content_type,  # DRF's, which sets CONTENT_TYPE from this
        "wsgi.input": io.BytesIO(body),
    }


def assert_calm_413_page(response) -> None:
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "413.html" in [t.name for t in response.templates]
    assert b"none of it was used" in response.content
    assert response["Cache-Control"] == "no-store"
    assert_hardened(response)


@pytest.mark.parametrize(
    "path", ["/signup/", "/login/", "/password-reset/", "/invite/ABCD/", "/admin/login/"]
)
def test_a_twenty_megabyte_form_without_login_is_a_413_page_before_it_is_read(client, path):
    response = client.generic("POST", path, **declared(TWENTY_MB))
    assert_calm_413_page(response)


@pytest.mark.parametrize("path", ["/checkin/", "/account/", "/lovemap/mine/1/"])
def test_a_signed_in_persons_oversized_form_is_a_413_page_too(client, cast, path):
    client.force_login(cast.author)
    response = client.generic("POST", path, **declared(django_settings.MAX_BODY_BYTES + 1))
    assert_calm_413_page(response)


def test_an_api_body_over_the_limit_is_a_json_413_before_it_is_read(api):
    response = api().generic(
        "POST", "/api/v1/auth/token", **declared(TWENTY_MB, "application/json")
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large."}


def test_a_body_at_the_limit_is_read_as_usual(client, cast):
    client.force_login(cast.author)
    filler = "x" * (django_settings.MAX_BODY_BYTES - 1000)
    response = client.post("/account/", {"display_name": "Robin", "timezone": "UTC", "f": filler})
    assert response.status_code == 302


def test_a_chunked_body_over_the_limit_is_a_413(client):
    body = b"username=a&password=" + b"x" * django_settings.MAX_BODY_BYTES
    response = client.generic(
        "POST", "/login/", **chunked(body, "application/x-www-form-urlencoded")
    )
    assert_calm_413_page(response)


def test_a_chunked_api_body_over_the_limit_is_a_json_413(api):
    body = b'{"email": "' + b"x" * django_settings.MAX_BODY_BYTES + b'"}'
    response = api().generic("POST", "/api/v1/auth/token", **chunked(body, "application/json"))
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large."}


def test_a_chunked_body_within_the_limit_is_read_like_any_other(client, api):
    user = new_user(email="robin@example.com")
    form = f"username=robin%40example.com&password={PASSWORD.replace(' ', '+')}".encode()
    response = client.generic(
        "POST", "/login/", **chunked(form, "application/x-www-form-urlencoded")
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)

    body = f'{{"email": "robin@example.com", "password": "{PASSWORD}"}}'.encode()
    response = api().generic("POST", "/api/v1/auth/token", **chunked(body, "application/json"))
    assert response.status_code == 200
    assert response.json()["token"]


def test_a_chunked_body_is_not_read_from_a_server_that_does_not_end_the_stream(client):
    """Reading would wait for bytes that never come; Django reads nothing either."""
    response = client.generic(
        "POST",
        "/login/",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_TYPE="application/x-www-form-urlencoded",
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 200  # the log-in form again: no body, no fields


# --- the admin's prompt import ------------------------------------------------------------


def upload(client, size: int):
    """A CSV file of about `size` bytes posted to the import (not a valid bank: the
    import answers with its own errors, which is not what these tests are about)."""
    content = b"key,text\n" + b"a" * size
    return client.post(
        IMPORT,
        {
            "import_file": SimpleUploadedFile("bank.csv", content, content_type="text/csv"),
            "format": "0",
            "resource": "0",
        },
    )


def test_a_curator_may_import_a_file_larger_than_an_ordinary_form(client):
    client.force_login(new_curator())
    response = upload(client, 1024 * 1024)
    assert response.status_code == 200
    assert "413.html" not in [t.name for t in response.templates]


def test_the_import_limit_still_holds_for_a_curator(client):
    client.force_login(new_curator())
    response = client.generic("POST", IMPORT, **declared(django_settings.MAX_IMPORT_BODY_BYTES + 1))
    assert_calm_413_page(response)


def test_a_curator_gets_the_ordinary_limit_everywhere_else_in_the_admin(client):
    client.force_login(new_curator())
    response = client.generic(
        "POST", "/admin/prompts/prompt/add/", **declared(django_settings.MAX_BODY_BYTES + 1)
    )
    assert_calm_413_page(response)


@pytest.mark.parametrize("who", ["anonymous", "person"])
def test_only_staff_get_the_import_limit(client, who):
    if who == "person":
        client.force_login(new_user())
    response = client.generic("POST", IMPORT, **declared(django_settings.MAX_BODY_BYTES + 1))
    assert_calm_413_page(response)


def test_no_upload_that_gets_in_is_ever_spooled_to_disk():
    assert django_settings.FILE_UPLOAD_MAX_MEMORY_SIZE >= django_settings.MAX_IMPORT_BODY_BYTES
    assert django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE == django_settings.MAX_BODY_BYTES
