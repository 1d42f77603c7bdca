from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.middleware import get_user
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def site(request: HttpRequest) -> dict[str, str]:
    return {"SITE_NAME": settings.SITE_NAME}


def request_user(request: Any) -> Any:
    """The request's user itself, not AuthenticationMiddleware's lazy proxy of it: every
    attribute read through the proxy is a few calls more, and a page reads `user` some
    hundreds of times. The proxy wraps what Django caches on the request
    (`get_user`); a user set since (by login or logout) is returned as it is."""
    user = request.user
    if type(user) is SimpleLazyObject:
        return get_user(request)
    return user


def person(request: HttpRequest) -> dict[str, Any]:
    """`user` as Django's `auth` context processor gives it, unwrapped (`request_user`)."""
    return {"user": request_user(request) if hasattr(request, "user") else AnonymousUser()}
