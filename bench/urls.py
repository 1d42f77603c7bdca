"""Nuzzle's URLs plus L2 of the web benchmark (bench/web.py): the smallest
authenticated DRF endpoint, under the project's default authentication (knox token
first) and permission classes and the full middleware stack. It reads nothing
beyond authentication, so the real endpoints' cost is measured against it."""

from __future__ import annotations

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from nuzzle.urls import handler404
from nuzzle.urls import urlpatterns as nuzzle_urlpatterns


class BenchL2Api(APIView):
    """GET /bench/l2: {"id": <my id>}."""

    def get(self, request: Request) -> Response:
        return Response({"id": request.user.pk})


urlpatterns = [path("bench/l2", BenchL2Api.as_view()), *nuzzle_urlpatterns]

__all__ = ["handler404", "urlpatterns"]
