"""Error pages for the whole site (the `handler*` of nuzzle/urls.py) and the health check.

The API answers JSON, always: under `/api/` every error Django itself answers (an
unknown path, a body Django cannot read, an exception nobody caught) is
`{"detail": "..."}` with the right status, as DRF's own errors are. Elsewhere the
pages are calm HTML. A 500 never says more than that something went wrong: the
traceback goes to the log, never to the person.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.http import require_GET

TOO_LARGE = "The request body is too large."


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def too_large(request: HttpRequest) -> HttpResponse:
    """413: JSON under /api/, a calm page elsewhere."""
    if is_api(request):
        return JsonResponse({"detail": TOO_LARGE}, status=413)
    return render(request, "413.html", status=413)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A request Django could not read (a malformed multipart body, too many fields, a
    body over DATA_UPLOAD_MAX_MEMORY_SIZE) or a suspicious one (a bad Host header)."""
    if isinstance(exception, RequestDataTooBig):
        return too_large(request)
    if is_api(request):
        return JsonResponse({"detail": "The request could not be read."}, status=400)
    return defaults.bad_request(request, exception)  # type: ignore[arg-type]


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api(request):
        return JsonResponse(
            {"detail": "You do not have permission to perform this action."}, status=403
        )
    return defaults.permission_denied(request, exception)  # type: ignore[arg-type]


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """JSON 404 under /api/, a calm page elsewhere."""
    if is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """An exception nobody caught (Django has already logged it, with its traceback)."""
    if is_api(request):
        return JsonResponse(
            {"detail": "Something went wrong on our side. Please try again later."}, status=500
        )
    return defaults.server_error(request)


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness + database check for load balancers and docker compose."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
