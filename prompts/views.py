"""Daily question pages. Plain POST + redirect without JavaScript; with htmx the same
URLs answer with the question card fragment. Every page renders QuestionViews, so a
sealed answer never reaches a template."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from nuzzle.couples.auth import requester
from nuzzle.couples.scoping import couple_context
from nuzzle.lib.forms import WordsField, service_error
from nuzzle.lib.http import safe_next
from prompts import selectors, services
from prompts.models import ANSWER_MAX_LENGTH

HISTORY_PAGE_SIZE = 10


class AnswerForm(forms.Form):
    """My answer to a daily question: over-long text is refused whole, never cut."""

    text = WordsField(
        max_length=ANSWER_MAX_LENGTH, error_messages={"required": "Write an answer first."}
    )

    def error(self) -> str | None:
        return " ".join(str(message) for message in self.errors.get("text", [])) or None


def _card(request: HttpRequest, question_id: int, error: str | None = None) -> HttpResponse:
    """The question's card, as an htmx fragment; without JavaScript (only after an
    error) the same card on a page of its own, so a refused answer stays in its field
    instead of being dropped by a redirect."""
    user = requester(request)
    view = selectors.question_view_by_id(user=user, question_id=question_id)
    if view is None:
        raise Http404
    return render(
        request,
        "prompts/_question_card.html" if request.htmx else "prompts/question_answer.html",  # type: ignore[attr-defined]
        {
            "q": view,
            "error": error,
            "partner": couple_context(user).partner,  # type: ignore[union-attr]
            "back_to": safe_next(request, "question").partition("#")[0],
        },
        status=400 if error else 200,
    )


def _act(
    request: HttpRequest,
    question_id: int,
    action: Callable[[], object],
    done: str,
    *,
    keep_on_error: bool = False,
) -> HttpResponse:
    """Run one service call for a question form and answer as htmx or plain POST.
    With `keep_on_error`, a refusal without JavaScript shows the card with the text
    kept, rather than a message on the page the form came from."""
    error = service_error(action)
    if request.htmx or (error and keep_on_error):  # type: ignore[attr-defined]
        return _card(request, question_id, error)
    if error:
        messages.error(request, error)
    elif done:
        messages.success(request, done)
    return redirect(safe_next(request, "question"))


@login_required
@require_GET
def question(request: HttpRequest) -> HttpResponse:
    """Today's question for our couple (assigned now if the sweep has not run yet)."""
    user = requester(request)
    context = couple_context(user)
    if context is None:
        return render(request, "prompts/question.html", {"q": None, "paired": False})
    services.daily_question_ensure(user=user)
    page = selectors.question_page_today_and_earlier(user=user)
    return render(
        request,
        "prompts/question.html",
        {
            "q": page.today,
            "paired": True,
            "partner": context.partner,
            "earlier": page.earlier,
            # Offer "Pass on this one" only while today's one pass is unused.
            "passable": "1" if page.can_pass else "",
        },
    )


@login_required
@require_POST
def question_answer(request: HttpRequest, question_id: int) -> HttpResponse:
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return _card(request, question_id, form.error())
    user = requester(request)
    text = form.cleaned_data["text"]
    return _act(
        request,
        question_id,
        lambda: services.question_answer(user=user, question_id=question_id, text=text),
        "Answer saved.",
        keep_on_error=True,
    )


@login_required
@require_POST
def question_pass(request: HttpRequest, question_id: int) -> HttpResponse:
    user = requester(request)
    error = service_error(lambda: services.question_pass(user=user, question_id=question_id))
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Here's another one.")
    return redirect("question")


@login_required
@require_POST
def question_react(request: HttpRequest, question_id: int) -> HttpResponse:
    user = requester(request)
    reaction = request.POST.get("reaction", "")
    return _act(
        request,
        question_id,
        lambda: services.question_react(user=user, question_id=question_id, reaction=reaction),
        "",
    )


@login_required
@require_GET
def question_history(request: HttpRequest) -> HttpResponse:
    user = requester(request)
    context = couple_context(user)
    paginator = Paginator(selectors.question_history(user=user), HISTORY_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    views = selectors.question_views(user=user, rows=list(page.object_list))
    return render(
        request,
        "prompts/history.html",
        {"page": page, "views": views, "partner": context.partner if context else None},
    )
