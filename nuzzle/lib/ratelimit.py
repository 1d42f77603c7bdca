"""Rate limits for log-in, sign-up, password reset and invite codes, HTML and API alike.

One mechanism for both: fixed-window counters in the Django cache. A window opens at
an identity's first attempt (``cache.add``) and lasts the rate's period; each attempt
adds one (``cache.incr``, which keeps the expiry); past the count the request is
refused with 429 and ``Retry-After`` until the window closes. The HTML pages call
:func:`limited` before touching their form; the API uses :class:`ScopedLimitThrottle`.
Both count in the same buckets, so switching between page and API gains nothing.

Identities: the client address (:func:`client_ip`) for every scope, plus the
normalized email for log-in and reset (rotating addresses doesn't help against one
account) and the signed-in user for invite codes.

Rates come from ``settings.RATE_LIMITS`` (``THROTTLE_*`` in ``.env.example``), written
``"<count>/<period>"`` where period is ``sec``, ``min``, ``hour`` or ``day``, optionally
with a multiplier: ``"10/15min"``.

Fail open: with Redis unreachable, django-redis (``IGNORE_EXCEPTIONS``) drops the
writes and returns nothing, and every request is let through. An outage of the cache
must not lock everybody out; the limits return with Redis.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.throttling import BaseThrottle

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|m|min|h|hour|d|day)s?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/15min"`` → (10, 900): at most 10 attempts per 900 seconds."""
    match = _RATE.match(rate)
    if match is None:
        raise ValueError(f"Not a rate like '10/hour' or '5/15min': {rate!r}")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * _UNIT_SECONDS[unit[0]]


def client_ip(request: HttpRequest) -> str:
    """The client's address, as DRF's throttles see it with ``NUM_PROXIES``.

    With ``TRUSTED_PROXY_COUNT = 0`` X-Forwarded-For is ignored (anyone can send it)
    and the TCP peer is the client. With N trusted proxies, each appends the address
    it saw, so the N-th entry from the right is the one the outermost proxy saw;
    anything left of it is the client's own claim and is never used.
    """
    remote = str(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if not proxies or not forwarded:
        return remote
    hops = str(forwarded).split(",")
    return hops[-min(proxies, len(hops))].strip() or remote


def normalize_email(raw: object) -> str:
    return str(raw or "").strip().lower()


def _key(scope: str, kind: str, value: str) -> str:
    # Hashed: no email or address in cache keys, and always a safe key.
    digest = hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:40]
    return f"ratelimit:{scope}:{digest}"


def _hit(key: str, count: int, period: int) -> int | None:
    """Count one attempt; the seconds left in the window if it is over the limit."""
    now = int(time.time())
    if cache.add(key, 0, timeout=period):
        cache.set(f"{key}:start", now, timeout=period)
    try:
        attempts = cache.incr(key)
    except ValueError:  # the window closed between add and incr: a new one
        cache.add(key, 1, timeout=period)
        return None
    if attempts is None or attempts <= count:  # None: cache unreachable, fail open
        return None
    started = cache.get(f"{key}:start")
    left = period - (now - started) if isinstance(started, int) else period
    return max(1, min(period, left))


def check(scope: str, identities: Iterable[tuple[str, str]]) -> int | None:
    """Count one attempt against each (kind, value) identity of this scope.

    Kinds: ``"ip"`` uses ``RATE_LIMITS[scope]``; any other kind uses
    ``RATE_LIMITS[f"{scope}_{kind}"]``. Every bucket is counted, even once one is
    over, so a refused attempt still uses up the others. Returns the longest wait
    in seconds, or None when the attempt may go ahead.
    """
    waits: list[int] = []
    for kind, value in identities:
        if not value:
            continue
        name = scope if kind == "ip" else f"{scope}_{kind}"
        count, period = parse_rate(settings.RATE_LIMITS[name])
        wait = _hit(_key(scope, kind, value), count, period)
        if wait is not None:
            waits.append(wait)
    return max(waits) if waits else None


def limited(
    request: HttpRequest, scope: str, *, email: object = None, user: bool = False
) -> HttpResponse | None:
    """For an HTML view: a calm 429 page when over the limit, else None (go ahead)."""
    identities = [("ip", client_ip(request))]
    if email is not None:
        identities.append(("email", normalize_email(email)))
    if user and request.user.is_authenticated:
        identities.append(("user", str(request.user.pk)))
    wait = check(scope, identities)
    if wait is None:
        return None
    response = render(request, "429.html", {"minutes": -(-wait // 60)}, status=429)
    response["Retry-After"] = str(wait)
    return response


class ScopedLimitThrottle(BaseThrottle):
    """DRF throttle over the same counters: by address, by the ``email`` field for
    log-in, and by user when signed in. Set ``throttle_scope`` on the view."""

    def allow_request(self, request: Any, view: Any) -> bool:
        scope: str = view.throttle_scope
        identities = [("ip", client_ip(request))]
        email_rate = f"{scope}_email" in settings.RATE_LIMITS
        if email_rate and isinstance(request.data, dict) and "email" in request.data:
            identities.append(("email", normalize_email(request.data["email"])))
        if f"{scope}_user" in settings.RATE_LIMITS and request.user.is_authenticated:
            identities.append(("user", str(request.user.pk)))
        self._wait = check(scope, identities)
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait
