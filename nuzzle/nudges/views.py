"""HTML pages for nudges: preferences and devices (signed in) and unsubscribing (token only).

Both parse input, call one service or selector, and render; the JSON API backs the same
preferences with the same services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from nuzzle.couples.auth import requester
from nuzzle.lib import ratelimit
from nuzzle.lib.errors import Invalid
from nuzzle.lib.forms import add_service_error, service_error
from nuzzle.lib.timezones import local_date
from nuzzle.nudges import selectors, services, tokens
from nuzzle.nudges.forms import NudgePreferencesForm
from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.models import Nudge

RECENT_NUDGES = 10

# How each outbox state reads to the person it was for.
STATUS_WORDS: dict[str, str] = {
    Nudge.Status.PENDING: "On its way",
    Nudge.Status.CLAIMED: "On its way",
    Nudge.Status.SENDING: "On its way",
    Nudge.Status.SENT: "Sent",
    Nudge.Status.SKIPPED: "Not sent",
    Nudge.Status.SUPPRESSED: "Not sent",
    Nudge.Status.FAILED: "Couldn't be delivered",
}


VIA_WORDS = {
    "push": "by notification",
    "email": "by email",
    "push,email": "by notification and email",
}


def _status_words(nudge: Nudge) -> str:
    words = STATUS_WORDS.get(nudge.status, nudge.status)
    via = VIA_WORDS.get(nudge.sent_via)
    return f"{words} {via}" if nudge.status == Nudge.Status.SENT and via else words


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """When and which nudges come, plus the last few that were planned for me."""
    user = requester(request)
    today = local_date(user.timezone)
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "resume":
        return _resume(request)
    if action == "push_test":
        return _push_test(request)
    if action == "device_remove":
        return _device_remove(request)
    prefs = selectors.preferences_get(user=user)
    form = NudgePreferencesForm(
        request.POST or None,
        initial=NudgePreferencesForm.initial_from(prefs, today=today),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.preferences_update(
                user=user,
                nudge_time=data["nudge_time"],
                days=data["days"],
                quiet_start=data["quiet_start"],
                quiet_end=data["quiet_end"],
                paused_until=data["paused_until"],
                daily_cap=data["daily_cap"],
                kinds=form.kinds(),
                channels=data["channels"] or None,
            )
        except Invalid as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Saved. Your nudges follow these settings from now on.")
            return redirect("nudge-preferences")
    recent = [
        {
            "nudge": nudge,
            "label": Kind(nudge.kind).label,
            "status": _status_words(nudge),
        }
        for nudge in selectors.nudge_list(user=user)[:RECENT_NUDGES]
    ]
    paused = prefs.pause_on(today) is not None
    devices = selectors.device_list(user=user)
    this_device = request.session.get(services.SESSION_DEVICE_KEY)
    return render(
        request,
        "nudges/preferences.html",
        {
            "form": form,
            "prefs": prefs,
            "paused": paused,
            "recent": recent,
            "devices": devices,
            # The device this browser session turned on, if it is still on.
            "this_device": next((d.id for d in devices if d.id == this_device), None),
            "channels_now": prefs.channels_now,
        },
    )


def _resume(request: HttpRequest) -> HttpResponse:
    user = requester(request)
    error = service_error(lambda: services.preferences_update(user=user, paused_until=None))
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Nudges are back on.")
    return redirect("nudge-preferences")


def _push_test(request: HttpRequest) -> HttpResponse:
    user = requester(request)
    wait = ratelimit.check("push_test", [("user", str(user.pk))])
    if wait is not None:
        messages.error(request, f"That's a lot of tests. Try again in {-(-wait // 60)} min.")
        return redirect("nudge-preferences")
    result = services.devices_test(user=user)
    if result.delivered:
        where = "device" if result.delivered == 1 else f"{result.delivered} devices"
        messages.success(
            request,
            f"Sent a test notification to your {where}. It should appear in a moment; "
            "if it doesn't, check that notifications for this browser are allowed.",
        )
    elif result.forgotten and not result.failed:
        messages.error(
            request,
            "Those devices no longer accept notifications (they were signed out or "
            "reset), so they were removed. Turn notifications on again where you want them.",
        )
    else:
        messages.error(
            request,
            "Couldn't reach the notification service just now. Nudges still arrive; "
            "try the test again in a few minutes.",
        )
    return redirect(f"{reverse('nudge-preferences')}#devices")


def _device_remove(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("device", "")
    removed = (
        raw.isdigit()
        and len(raw) <= 18
        and services.device_remove(user=requester(request), device_id=int(raw))
    )
    if removed:
        messages.success(request, "Notifications are off for that device.")
    else:
        messages.error(request, "That device was already removed.")
    return redirect(f"{reverse('nudge-preferences')}#devices")


# The signed token in the URL is the whole credential here, on purpose: RFC 8058 one-click
# unsubscribe has the mail client POST `List-Unsubscribe=One-Click` to this URL with no
# cookies and so no CSRF token, and the person may not be signed in on this device at all.
# CSRF protection guards a *session's* authority; this view uses none (it never looks at
# request.user), and a forged cross-site POST could only do what the token already allows —
# stop emails to the person it was sent to. So the view is csrf_exempt. GET never acts
# (link scanners and previews fetch URLs in emails); POST acts and is idempotent.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user_id, kind = tokens.unsubscribe_read(token)
    except tokens.BadUnsubscribeToken:
        return render(request, "nudges/unsubscribe_invalid.html", status=404)
    context = {"kind": kind, "kind_label": Kind(kind).label if kind else None}
    if request.method == "POST":
        # A deleted account has no rows left: this does nothing and the page reads the
        # same, so the link does not tell whether the account still exists.
        services.nudges_unsubscribe(user_id=user_id, kind=kind)
        return render(request, "nudges/unsubscribe_done.html", context)
    return render(request, "nudges/unsubscribe.html", context)
