"""The installable app's shell: the manifest, the service worker, the icons and the
offline page, the same for everyone and never holding anyone's content."""

from __future__ import annotations

import json
import struct

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from tests.factories import new_user

pytestmark = pytest.mark.django_db


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_manifest_describes_an_installable_standalone_app():
    response = Client().get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["id"] == "/"
    assert manifest["name"] == manifest["short_name"] == "Nuzzle"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/",
        "/",
        "standalone",
    )
    assert manifest["theme_color"] == "#6b3f73"
    assert manifest["background_color"] == "#f7f3ef"
    icons = {(icon["sizes"], icon.get("purpose", "any")): icon for icon in manifest["icons"]}
    assert set(icons) == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("img/icons/icon-192.png", 192),
        ("img/icons/icon-512.png", 512),
        ("img/icons/icon-maskable-512.png", 512),
        ("img/icons/apple-touch-icon.png", 180),
    ],
)
def test_each_icon_is_a_png_of_its_stated_size(name, size):
    found = finders.find(name)
    assert isinstance(found, str), name
    with open(found, "rb") as file:
        assert png_size(file.read()) == (size, size)


def test_the_manifest_icons_are_our_static_files_of_the_sizes_it_states(client):
    manifest = json.loads(client.get("/manifest.webmanifest").content)
    for icon in manifest["icons"]:
        assert icon["src"].startswith("/static/"), icon["src"]
        found = finders.find(icon["src"].removeprefix("/static/"))
        assert isinstance(found, str), icon["src"]
        with open(found, "rb") as file:
            width, height = png_size(file.read())
        assert f"{width}x{height}" == icon["sizes"]


def test_ios_finds_its_icon_at_the_root():
    response = Client().get("/apple-touch-icon.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert png_size(response.content) == (180, 180)


def test_the_service_worker_is_served_from_the_root_for_the_whole_site():
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    script = response.content.decode()
    for handler in ("install", "activate", "fetch", "push", "notificationclick"):
        assert f'addEventListener("{handler}"' in script
    # It keeps the offline page and its static files only, fetched without cookies.
    config = json.loads(script.split("const CONFIG = ", 1)[1].split(";\n", 1)[0])
    assert config["offline"] == "/offline/"
    assert all(asset.startswith("/static/") for asset in config["assets"])
    assert 'credentials: "omit"' in script


def test_the_shell_is_the_same_for_everyone_and_names_no_one():
    person = new_user(display_name="Wren Fairweather", email="wren@example.com")
    signed_in = Client()
    signed_in.force_login(person)
    for path in ("/sw.js", "/offline/", "/manifest.webmanifest"):
        anonymous, theirs = Client().get(path), signed_in.get(path)
        assert anonymous.content == theirs.content, path
        assert b"Wren" not in theirs.content
        assert b"wren@" not in theirs.content
        assert b"csrfmiddlewaretoken" not in theirs.content
        # What a signed-in person receives is never stored by the browser.
        assert theirs["Cache-Control"] == "no-store", path


def test_every_page_links_the_manifest_and_sets_its_theme_colour(client):
    page = client.get("/login/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert '<link rel="apple-touch-icon" href="/apple-touch-icon.png">' in page
    assert '<meta name="theme-color" content="#6b3f73"' in page
