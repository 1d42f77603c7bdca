"""The couple dashboard, "Us today": both check-ins side by side, the 30-day mood
chart, the days we both showed up, recent history and quick actions. Slots for
today's question and love-map freshness are filled by their issues."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from nuzzle.couples.forms import JoinForm
from nuzzle.couples.scoping import requester
from nuzzle.couples.urls_helpers import invite_absolute_url
from nuzzle.dashboard import selectors
from nuzzle.dashboard.charts import mood_chart


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = requester(request)
    dashboard = selectors.dashboard_get(user=user)
    context: dict[str, object] = {
        "current": dashboard.couple,
        "overview": dashboard.checkins,
        "question": dashboard.question,
        "freshness": dashboard.freshness,
        "chart": mood_chart(
            dashboard.checkins.moods,
            my_name="You",
            partner_name=dashboard.couple.partner.display_name if dashboard.couple else None,
        ),
    }
    if dashboard.couple is None:
        context["invite"] = dashboard.pending_invite
        context["invite_url"] = (
            invite_absolute_url(dashboard.pending_invite) if dashboard.pending_invite else None
        )
        context["join_form"] = JoinForm()
    return render(request, "dashboard/home.html", context)
