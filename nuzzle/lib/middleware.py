"""Small middleware: body-size limit for the API, and no-store on private responses."""

from __future__ import annotations

import json
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

Handler = Callable[[HttpRequest], HttpResponse]


class ApiBodySizeMiddleware:
    """Answer 413 before reading an API body that declares itself too large.

    Django would raise `RequestDataTooBig` (a 400) only once the body is read; the API
    contract says 413, and refusing early avoids reading the body at all.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request.path.startswith("/api/") and limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                body = json.dumps({"detail": "The request body is too large."})
                return HttpResponse(body, status=413, content_type="application/json")
        return self.get_response(request)


class NoStoreMiddleware:
    """`Cache-Control: no-store` on everything Django answers, unless a public page
    set its own caching.

    Couple content must never sit in a shared or browser cache, and neither must what
    a page shows someone who is not signed in: the invite page names the inviter, the
    unsubscribe page stands for a person, and every form carries a CSRF token. So the
    API and everything a signed-in person receives is always no-store, and any other
    response is no-store unless its view chose otherwise. Static files are served
    earlier by WhiteNoise and keep their long-lived caching headers.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        private = request.path.startswith("/api/") or (user is not None and user.is_authenticated)
        if private or not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


class PersonTimezoneMiddleware:
    """Render times in the signed-in person's own zone (their IANA name), UTC otherwise.

    Storage stays UTC; this only changes how templates display aware datetimes.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        name = getattr(user, "timezone", None) if user is not None else None
        if name:
            try:
                timezone.activate(zoneinfo.ZoneInfo(name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
