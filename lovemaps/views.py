"""Love-map pages: an overview of freshness, my map, and my map of my partner (guess,
reveal, rate). Every form is a plain POST that redirects back to the topic's card
(`next` carries its anchor), so the pages work the same with or without JavaScript."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from lovemaps import selectors, services
from lovemaps.models import GuessRating
from nuzzle.couples.scoping import couple_context, requester
from nuzzle.lib.forms import service_error
from nuzzle.lib.http import safe_next
from prompts.models import Prompt


def _domain_filter(request: HttpRequest) -> str:
    domain = request.GET.get("domain", "")
    return domain if domain in Prompt.Domain.values else ""


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    user = requester(request)
    context = couple_context(user)
    return render(
        request,
        "lovemaps/overview.html",
        {
            "fresh": selectors.freshness(user=user),
            "partner": context.partner if context else None,
        },
    )


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """Every topic, grouped by domain: my answer (stale or not), or a prompt to answer."""
    user = requester(request)
    domain = _domain_filter(request)
    rows = selectors.my_topics(user=user, domain=domain)
    context = couple_context(user)
    return render(
        request,
        "lovemaps/mine.html",
        {
            "rows": rows,
            "domain": domain,
            "domains": Prompt.Domain.choices,
            "partner": context.partner if context else None,
            "ratings": GuessRating.choices,
        },
    )


@login_required
@require_GET
def partner(request: HttpRequest) -> HttpResponse:
    """My partner's answered topics with my status: unseen, changed or current."""
    user = requester(request)
    context = couple_context(user)
    domain = _domain_filter(request)
    return render(
        request,
        "lovemaps/partner.html",
        {
            "rows": selectors.partner_map(user=user, domain=domain),
            "domain": domain,
            "domains": Prompt.Domain.choices,
            "partner": context.partner if context else None,
        },
    )


def _act(
    request: HttpRequest, action: Callable[[], object], *, done: str, back: str
) -> HttpResponse:
    error = service_error(action)
    if error:
        messages.error(request, error)
    elif done:
        messages.success(request, done)
    return redirect(safe_next(request, back))


@login_required
@require_POST
def answer(request: HttpRequest, topic_id: int) -> HttpResponse:
    user = requester(request)
    text = request.POST.get("answer", "")
    if not text.strip():
        messages.error(request, "Write an answer first.")
        return redirect(safe_next(request, "lovemap-mine"))
    return _act(
        request,
        lambda: services.lovemap_answer(user=user, topic_id=topic_id, text=text),
        done="Saved.",
        back="lovemap-mine",
    )


@login_required
@require_POST
def confirm(request: HttpRequest, topic_id: int) -> HttpResponse:
    user = requester(request)
    return _act(
        request,
        lambda: services.lovemap_confirm(user=user, topic_id=topic_id),
        done="Marked as still true.",
        back="lovemap-mine",
    )


@login_required
@require_POST
def reveal(request: HttpRequest, topic_id: int) -> HttpResponse:
    user = requester(request)
    guess = request.POST.get("guess", "")
    return _act(
        request,
        lambda: services.lovemap_reveal(user=user, topic_id=topic_id, guess=guess),
        done="",
        back="lovemap-partner",
    )


@login_required
@require_POST
def rate(request: HttpRequest, guess_id: int) -> HttpResponse:
    user = requester(request)
    rating = request.POST.get("rating", "")
    return _act(
        request,
        lambda: services.lovemap_guess_rate(user=user, guess_id=guess_id, rating=rating),
        done="Thanks — they'll see how close they were.",
        back="lovemap-mine",
    )
