"""Static files as production serves them: collected under content-hashed names,
pre-compressed (gzip and Brotli) by WhiteNoise's manifest storage, and cached by
browsers for good, because a changed file gets a new name."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from whitenoise.middleware import WhiteNoiseMiddleware

MANIFEST = "whitenoise.storage.CompressedManifestStaticFilesStorage"
ONE_YEAR_OR_MORE = 365 * 24 * 60 * 60


@pytest.fixture
def collected(tmp_path: Path, settings) -> Path:
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST}}
    settings.DEBUG = False
    # Our own files only: compressing the bundled API-docs and admin assets with
    # Brotli takes minutes and proves nothing more.
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    call_command("collectstatic", interactive=False, verbosity=0)
    return tmp_path


def hashed_name(root: Path, stem: str, suffix: str) -> str:
    [found] = [
        path
        for path in (root / "css").glob(f"{stem}.*{suffix}")
        if path.name.count(".") == 2  # nuzzle.<hash>.css, not nuzzle.css or .css.gz
    ]
    return f"css/{found.name}"


def serve(path: str, encoding: str) -> HttpResponse:
    middleware = WhiteNoiseMiddleware(lambda request: HttpResponse(status=404))
    request = RequestFactory().get(f"/static/{path}", HTTP_ACCEPT_ENCODING=encoding)
    return middleware(request)


def test_collectstatic_writes_hashed_gzip_and_brotli_copies(collected: Path) -> None:
    name = hashed_name(collected, "nuzzle", ".css")
    assert (collected / f"{name}.gz").stat().st_size > 0
    assert (collected / f"{name}.br").stat().st_size > 0
    original = (collected / name).stat().st_size
    assert (collected / f"{name}.br").stat().st_size < original / 2


def test_a_hashed_file_is_served_compressed_and_cached_for_good(collected: Path) -> None:
    name = hashed_name(collected, "nuzzle", ".css")

    brotli = serve(name, "gzip, deflate, br")
    gzip = serve(name, "gzip")
    plain = serve(name, "")

    assert brotli["Content-Encoding"] == "br"
    assert gzip["Content-Encoding"] == "gzip"
    assert not plain.has_header("Content-Encoding")
    assert "Accept-Encoding" in brotli["Vary"]
    cache = dict(part.strip().partition("=")[::2] for part in brotli["Cache-Control"].split(","))
    assert "immutable" in cache
    assert int(cache["max-age"]) >= ONE_YEAR_OR_MORE


def test_an_unhashed_name_is_only_cached_briefly(collected: Path) -> None:
    response = serve("css/nuzzle.css", "br")

    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]


@pytest.mark.django_db
def test_pages_link_the_hashed_names(collected: Path) -> None:
    stylesheet = hashed_name(collected, "nuzzle", ".css")

    with override_settings(ALLOWED_HOSTS=["testserver"]):
        html = Client().get("/login/").content.decode()

    assert f"/static/{stylesheet}" in html
