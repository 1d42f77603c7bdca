"""The couple dashboard, "Us today": both check-ins side by side, today's question and
its state, love-map freshness, the 30-day mood chart, the days we both showed up, recent
history and quick actions; and the "Your data" page with its two downloads."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from nuzzle.couples.auth import requester
from nuzzle.couples.forms import JoinForm
from nuzzle.dashboard import export, services
from nuzzle.dashboard.charts import mood_chart_html


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = requester(request)
    dashboard = services.dashboard_for_today(user=user)
    context: dict[str, object] = {
        "current": dashboard.couple,
        "overview": dashboard.checkins,
        "question": dashboard.question,
        "freshness": dashboard.freshness,
        "chart": mood_chart_html(
            dashboard.checkins.moods,
            my_name="You",
            partner_name=dashboard.couple.partner.display_name if dashboard.couple else None,
        ),
    }
    if dashboard.couple is None:
        context["invite"] = dashboard.pending_invite
        context["invite_url"] = (
            dashboard.pending_invite.share_url() if dashboard.pending_invite else None
        )
        context["join_form"] = JoinForm()
    return render(request, "dashboard/home.html", context)


# --- Your data: export (docs/product.md: Your data) ----------------------------------


@login_required
@require_GET
def account_data(request: HttpRequest) -> HttpResponse:
    """What the export holds, and the two downloads."""
    return render(request, "dashboard/account_data.html")


def _download(content: bytes | str, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # NoStoreMiddleware sets this for every signed-in response too; said here as well
    # because a download of everything I wrote must never sit in a cache.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def account_export_json(request: HttpRequest) -> HttpResponse:
    user = requester(request)
    return _download(
        export.account_export_json(export.account_export(user=user)),
        filename=export.export_filename(user=user, extension="json"),
        content_type="application/json",
    )


@login_required
@require_GET
def account_export_md(request: HttpRequest) -> HttpResponse:
    user = requester(request)
    return _download(
        export.account_export_markdown(export.account_export(user=user)),
        filename=export.export_filename(user=user, extension="md"),
        content_type="text/markdown; charset=utf-8",
    )
