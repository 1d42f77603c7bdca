"""Check-in pages. Each works without JavaScript (POST, then redirect); with htmx the
same URLs answer with a fragment that replaces just the card."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from checkins import selectors, services
from checkins.forms import CheckinForm, ResponseForm
from checkins.models import Checkin
from nuzzle.couples.auth import requester
from nuzzle.couples.scoping import couple_context
from nuzzle.lib.errors import ServiceError
from nuzzle.lib.forms import add_service_error, service_error
from nuzzle.lib.http import safe_next
from prompts.selectors import checkin_questions_for

HISTORY_PAGE_SIZE = 20


@login_required
@require_http_methods(["GET", "POST"])
def checkin(request: HttpRequest) -> HttpResponse:
    """Today's check-in: create it, or edit it until my local day ends."""
    user = requester(request)
    today = selectors.checkin_today(user=user)
    questions = checkin_questions_for(day=today.couple_date)
    form = CheckinForm(request.POST or None, questions=questions, existing=today.mine)
    saved = False
    if request.method == "POST" and form.is_valid():
        try:
            result = services.checkin_submit(
                user=user,
                mood=form.cleaned_data["mood"],
                energy=form.cleaned_data["energy"],
                answers=form.answers(),
                visibility=form.cleaned_data["visibility"],
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            if not request.htmx:  # type: ignore[attr-defined]
                messages.success(request, "Checked in. Thank you for showing up today.")
                return redirect("home")
            saved = True
            today = selectors.checkin_today(user=user)
            form = CheckinForm(questions=questions, existing=result.checkin)
    template = "checkins/_form.html" if request.htmx else "checkins/checkin.html"  # type: ignore[attr-defined]
    return render(
        request,
        template,
        {"form": form, "today": today, "saved": saved, "paired": couple_context(user) is not None},
    )


@login_required
@require_POST
def checkin_respond(request: HttpRequest, checkin_id: int) -> HttpResponse:
    """Turn toward my partner's check-in (a reaction and/or a short reply).

    When it can't be sent (a reply over the limit, say), the reply comes back in its
    field with the reason: in the card's fragment with htmx, and without JavaScript on
    a page of its own (the card alone) rather than a redirect that would drop it.
    Other refusals without JavaScript (a reaction to my own check-in) are a message on
    the page the form came from."""
    user = requester(request)
    form = ResponseForm(request.POST)
    error = None
    if form.is_valid():
        error = service_error(
            lambda: services.checkin_respond(
                user=user,
                checkin_id=checkin_id,
                reaction=form.cleaned_data["reaction"],
                text=form.cleaned_data["text"],
            )
        )
    else:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    htmx = bool(request.htmx)  # type: ignore[attr-defined]
    if htmx or (error and request.POST.get("text", "").strip()):
        found = selectors.checkin_list(user=user).filter(pk=checkin_id).first()
        if found is None:
            raise Http404
        if htmx or found.author_id != user.pk:
            return render(
                request,
                "checkins/_checkin_card.html" if htmx else "checkins/respond.html",
                {
                    "checkin": found,
                    "error": error,
                    "respondable": True,
                    # Where the card's forms return to: the page it was sent from.
                    "back_to": safe_next(request, "home").partition("#")[0],
                },
                status=400 if error else 200,
            )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Sent.")
    return redirect(safe_next(request, "home"))


@login_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    """Both partners' shared check-ins (and all of mine), newest first, paginated."""
    user = requester(request)
    paginator = Paginator(selectors.checkin_list(user=user), HISTORY_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    checkins: list[Checkin] = list(page.object_list)
    return render(
        request,
        "checkins/history.html",
        {
            "page": page,
            "days": selectors.checkin_days(user=user, checkins=checkins),
            "paired": couple_context(user) is not None,
        },
    )
