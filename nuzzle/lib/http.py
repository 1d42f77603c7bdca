"""Small HTTP helpers shared by the HTML views, emails and invite links."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, default: str) -> str:
    """Where to go after a form: the `next` parameter if it stays on this site (no open
    redirects), otherwise the URL named `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default)


def absolute_url(path: str) -> str:
    """A link to this site for use outside a request (emails, invite links): built on
    the configured SITE_URL, never on a request's Host header."""
    return f"{settings.SITE_URL}{path}"
