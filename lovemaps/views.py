"""Love-map pages: an overview of freshness, my map, and my map of my partner (guess,
reveal, rate). Every form is a plain POST that redirects back to the topic's card
(`next` carries its anchor), so the pages work the same with or without JavaScript.
An answer or a guess that can't be taken (too long, say) is never dropped: the topic
comes back on a page of its own with the words in their field and the reason."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from lovemaps import services
from lovemaps.models import ANSWER_MAX_LENGTH, GUESS_MAX_LENGTH, GuessRating
from lovemaps.selectors.freshness import freshness
from lovemaps.selectors.maps import my_topics, partner_map
from lovemaps.selectors.topics import lovemap_topics
from nuzzle.couples.auth import requester
from nuzzle.couples.scoping import couple_context
from nuzzle.lib.forms import WordsField, service_error
from nuzzle.lib.http import safe_next
from prompts.models import Prompt


class AnswerForm(forms.Form):
    answer = WordsField(
        label="Your answer",
        max_length=ANSWER_MAX_LENGTH,
        draft=True,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Write an answer first."},
    )


class GuessForm(forms.Form):
    guess = WordsField(
        label="Your guess (optional)",
        max_length=GUESS_MAX_LENGTH,
        required=False,
        draft=True,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _refused(request: HttpRequest, topic_id: int, form: forms.Form, *, action: str) -> HttpResponse:
    """The topic alone, with the form as sent (words kept) and why it was refused."""
    topic = lovemap_topics().filter(pk=topic_id).first()
    if topic is None:
        raise Http404
    context = couple_context(requester(request))
    return render(
        request,
        "lovemaps/refused.html",
        {
            "topic": topic,
            "form": form,
            "action": action,
            "partner": context.partner if context else None,
            "next": safe_next(request, "lovemap-mine" if action == "answer" else "lovemap-partner"),
        },
        status=400,
    )


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
            "fresh": freshness(user=user),
            "partner": context.partner if context else None,
        },
    )


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """Every topic, grouped by domain: my answer (stale or not), or a prompt to answer."""
    user = requester(request)
    domain = _domain_filter(request)
    rows = my_topics(user=user, domain=domain)
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
            "rows": partner_map(user=user, domain=domain),
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
    form = AnswerForm(request.POST)
    if form.is_valid():
        text = form.cleaned_data["answer"]
        error = service_error(
            lambda: services.lovemap_answer(user=user, topic_id=topic_id, text=text)
        )
        if error is None:
            messages.success(request, "Saved.")
            return redirect(safe_next(request, "lovemap-mine"))
        form.add_error("answer", error)
    return _refused(request, topic_id, form, action="answer")


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
    form = GuessForm(request.POST)
    if form.is_valid():
        guess = form.cleaned_data["guess"]
        error = service_error(
            lambda: services.lovemap_reveal(user=user, topic_id=topic_id, guess=guess)
        )
        if error is None:
            return redirect(safe_next(request, "lovemap-partner"))
        form.add_error("guess", error)
    return _refused(request, topic_id, form, action="reveal")


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
