"""Small HTTP helpers shared by the HTML views, emails and invite links."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

# Control characters (C0, DEL, C1) and whitespace never belong in a path we redirect to.
_NOT_IN_A_PATH = re.compile(r"[\x00-\x20\x7f-\x9f]")


def is_local_path(target: str) -> bool:
    """Whether `target` is a path on this site: one leading `/` (not `//` or `/\\`,
    which browsers read as another host), no scheme or host, no control characters or
    spaces. Nothing else is ever a place to send someone back to."""
    return (
        target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and not _NOT_IN_A_PATH.search(target)
        and url_has_allowed_host_and_scheme(target, allowed_hosts=None)
    )


def safe_next(request: HttpRequest, default: str) -> str:
    """Where to go after a form: the `next` parameter if it is a local path (see
    `is_local_path`: no open redirects), otherwise the path of the URL named `default`.

    Always a path starting with `/`, never a bare word: `redirect()` tries a string
    without a slash as a URL name first, so `next=logout` would be sent to the log-out
    route and `next=foo` would be a 500 after the form was already saved.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if is_local_path(target):
        return target
    return reverse(default)


def absolute_url(path: str) -> str:
    """A link to this site for use outside a request (emails, invite links): built on
    the configured SITE_URL, never on a request's Host header."""
    return f"{settings.SITE_URL}{path}"
