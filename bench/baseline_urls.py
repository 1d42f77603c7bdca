"""L0 and L1 of the web benchmark (served with bench.baseline_settings: no
middleware). L0: a bare Django JSON view. L1: the same plus one primary-key query
(a person by id, as authentication would fetch one). /healthz for the server's
readiness check."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path

from nuzzle.couples.models import User
from nuzzle.lib.views import healthz


def l0(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


def l1(request: HttpRequest) -> JsonResponse:
    user = User.objects.get(pk=int(request.GET.get("id", "1")))
    return JsonResponse({"id": user.pk, "display_name": user.display_name})


urlpatterns = [
    path("l0", l0),
    path("l1", l1),
    path("healthz", healthz),
]
