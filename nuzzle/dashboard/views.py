"""The couple dashboard ("Us today"). For now: who we are and how to pair; the
check-ins, the daily question and love-map freshness fill it in later issues."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from nuzzle.couples import selectors
from nuzzle.couples.forms import JoinForm
from nuzzle.couples.scoping import requester
from nuzzle.couples.urls_helpers import invite_absolute_url


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = requester(request)
    current = selectors.couple_get(user=user)
    context: dict[str, object] = {"current": current}
    if current is None:
        pending = selectors.invite_pending_for(user=user)
        context["invite"] = pending
        context["invite_url"] = invite_absolute_url(pending) if pending else None
        context["join_form"] = JoinForm()
    return render(request, "dashboard/home.html", context)
