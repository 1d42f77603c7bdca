"""The installable app's shell: the web app manifest, the service worker, the home-screen
icon iOS asks for at the site's root, and the page shown when there is no connection.

None of these depends on who asks: the service worker stores only the offline page and
the static files it needs, fetched without cookies, and never a signed-in page or an
API response (docs/product.md: intimate content stays `no-store`, on the device too).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

# The page's own colours (static/css/nuzzle.css): the plum accent and the warm background.
THEME_COLOR = "#6b3f73"
BACKGROUND_COLOR = "#f7f3ef"
MANIFEST_TYPE = "application/manifest+json"
# Files the service worker keeps so the offline page shows as it should with no network.
OFFLINE_ASSETS = ("css/nuzzle.css", "img/favicon.svg")


def manifest_data() -> dict[str, object]:
    icon = "img/icons/icon-{}.png"
    return {
        "id": "/",
        "name": settings.SITE_NAME,
        "short_name": settings.SITE_NAME,
        "description": "A calm daily check-in for two.",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [
            {"src": static(icon.format(192)), "sizes": "192x192", "type": "image/png"},
            {"src": static(icon.format(512)), "sizes": "512x512", "type": "image/png"},
            {
                "src": static(icon.format("maskable-512")),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    return JsonResponse(manifest_data(), content_type=MANIFEST_TYPE)


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The worker's script, served from the root so that its scope is the whole site.
    Rendered so that it names the current (hashed) static files it keeps; each deploy
    that changes them changes the script, and browsers install the new worker."""
    assets = [static(name) for name in OFFLINE_ASSETS]
    config = {
        "offline": "/offline/",
        "assets": assets,
        "icon": static("img/icons/icon-192.png"),
        # Hashed names change with their files: a new version drops the old cache.
        "version": hashlib.sha256("|".join(assets).encode()).hexdigest()[:12],
    }
    # JSON of our own static paths only: nothing anyone typed reaches the script.
    response = render(
        request, "sw.js", {"config": json.dumps(config)}, content_type="text/javascript"
    )
    response["Service-Worker-Allowed"] = "/"
    return response


@cache
def _file(name: str) -> bytes:
    found = finders.find(name)
    if not isinstance(found, str):
        raise FileNotFoundError(name)
    with open(found, "rb") as file:
        return file.read()


@require_GET
def apple_touch_icon(request: HttpRequest) -> HttpResponse:
    """iOS asks for /apple-touch-icon.png at the root when a page is added to the home
    screen, whatever the page's own link says."""
    response = HttpResponse(_file("img/icons/apple-touch-icon.png"), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """What the app shows with no connection: the same page for everyone (the service
    worker fetches it without cookies and keeps it), no names, no forms."""
    response = render(request, "offline.html", {"theme_color": THEME_COLOR})
    response["Cache-Control"] = "public, max-age=86400"
    return response
