"""Small middleware: a request-body limit for every route, no-store on responses, and
each person's time zone."""

from __future__ import annotations

import io
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone

from nuzzle.lib.views import too_large

Handler = Callable[[HttpRequest], HttpResponse]


class BodySizeMiddleware:
    """Answer 413 to a request body over the limit, before anything reads it.

    Every route has a limit, the API and the HTML forms alike: `MAX_BODY_BYTES`
    (64 KiB). Only signed-in staff posting to one of `LARGE_BODY_VIEWS` (the admin's
    prompt import) may send up to `MAX_IMPORT_BODY_BYTES`. Without this, Django would
    refuse an oversized form only once the body is read, and not at all for a file in
    a multipart body, which it spools to disk whatever its size.

    A declared `Content-Length` is checked without reading anything. A body of unknown
    length (`Transfer-Encoding: chunked`, which Django itself never reads under WSGI)
    is read up to one byte past the limit when the server ends the stream at the end
    of the body (`wsgi.input_terminated`, as gunicorn does): past the limit, 413;
    within it, it is handed on as if its length had been declared. (A server that
    does not end the stream gives Django no such body at all.)

    Placed last in MIDDLEWARE, so the signed-in person is known and the 413 still gets
    every security header on its way out; no middleware before it reads the body
    (CSRF reads a form only in `process_view`, after this has run).
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            try:
                length = int(declared)
            except ValueError:
                length = 0  # Django reads no body for a length it cannot read either
            if length > settings.MAX_BODY_BYTES and length > self._limit(request):
                return too_large(request)
        elif request.META.get("HTTP_TRANSFER_ENCODING") and request.META.get(
            "wsgi.input_terminated"
        ):
            limit = self._limit(request)
            body = request.META["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return too_large(request)
            # Django built its stream from the (absent) Content-Length; give it the body.
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = io.BytesIO(body)
        return self.get_response(request)

    @staticmethod
    def _limit(request: HttpRequest) -> int:
        """The largest body this request may carry. Only asked when a body is larger
        than the ordinary limit (or of unknown length), so ordinary requests never
        resolve their URL twice or load the session here."""
        limit: int = settings.MAX_BODY_BYTES
        try:
            view_name = resolve(request.path_info).view_name
        except Resolver404:
            return limit
        user = getattr(request, "user", None)
        if (
            view_name in settings.LARGE_BODY_VIEWS
            and user is not None
            and user.is_authenticated
            and user.is_active
            and user.is_staff
        ):
            return max(limit, settings.MAX_IMPORT_BODY_BYTES)
        return limit


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
