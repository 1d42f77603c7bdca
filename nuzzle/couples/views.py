"""HTML pages for accounts and pairing. Each view parses input, calls one service or
selector, and renders; the same services back the JSON API."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from nuzzle.couples import selectors, services
from nuzzle.couples.auth import requester
from nuzzle.couples.forms import (
    AccountDeleteForm,
    CoupleTimezoneForm,
    EmailAuthenticationForm,
    InviteAcceptForm,
    JoinForm,
    PasswordResetForm,
    ProfileForm,
    SignupForm,
)
from nuzzle.couples.models import Invite, normalize_invite_code
from nuzzle.lib.errors import Invalid, ServiceError
from nuzzle.lib.forms import add_service_error
from nuzzle.lib.http import is_local_path, safe_next
from nuzzle.lib.ratelimit import limited


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(safe_next(request, "home"))
    if request.method == "POST" and (refused := limited(request, "signup")):
        return refused
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_signup(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                display_name=form.cleaned_data["display_name"],
                timezone_name=form.cleaned_data["timezone"],
            )
        except Invalid as exc:
            add_service_error(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to Nuzzle, {user.display_name}.")
            return redirect(safe_next(request, "home"))
    return render(
        request, "couples/signup.html", {"form": form, "next": request.GET.get("next", "")}
    )


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    template_name = "couples/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        refused = limited(request, "auth", email=request.POST.get("username", ""))
        return refused or super().post(request, *args, **kwargs)

    def get_redirect_url(self) -> str:
        # `next` is a local path or nothing (the rule of nuzzle.lib.http.safe_next).
        target: str = super().get_redirect_url()
        return target if is_local_path(target) else ""


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    template_name = "couples/password_reset.html"
    subject_template_name = "emails/password_reset.subject.txt"
    email_template_name = "emails/password_reset.txt"
    html_email_template_name = "emails/password_reset.html"
    success_url = reverse_lazy("password-reset-done")

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        refused = limited(request, "password_reset", email=request.POST.get("email", ""))
        return refused or super().post(request, *args, **kwargs)

    @property
    def extra_email_context(self) -> dict[str, str]:
        # Links in emails use the configured SITE_URL, never the request's Host header.
        return {"site_url": settings.SITE_URL}


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "couples/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "couples/password_reset_confirm.html"
    success_url = reverse_lazy("password-reset-complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "couples/password_reset_complete.html"


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    user = requester(request)
    initial = {
        "display_name": user.display_name,
        "timezone": user.timezone,
        "allow_sensitive_questions": user.allow_sensitive_questions,
    }
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(
                user=user,
                display_name=form.cleaned_data["display_name"],
                timezone_name=form.cleaned_data["timezone"],
                allow_sensitive_questions=form.cleaned_data["allow_sensitive_questions"],
            )
        except Invalid as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("account")
    return render(request, "couples/account.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    """GET says what deleting my account does; POST (with my password) does it, ends
    this session too, and sends me to the log-in page."""
    if request.method == "POST" and (refused := limited(request, "account_delete", user=True)):
        return refused
    user = requester(request)
    form = AccountDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_delete(user=user, password=form.cleaned_data["password"])
        except Invalid as exc:
            add_service_error(form, exc)
        else:
            logout(request)
            messages.success(request, "Your account and everything you wrote are deleted.")
            return redirect("login")
    current = selectors.couple_get(user=user)
    return render(request, "couples/account_delete.html", {"form": form, "current": current})


@login_required
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest) -> HttpResponse:
    """Create, show and withdraw my invite link; or type a code I was given."""
    user = requester(request)
    if selectors.couple_get(user=user) is not None:
        return redirect("couple")
    if request.method == "POST":
        try:
            if request.POST.get("action") == "revoke":
                services.invite_revoke(user=user, code=request.POST.get("code", ""))
                messages.success(request, "Invite withdrawn. That link no longer works.")
            else:
                services.invite_create(user=user)
        except ServiceError as exc:
            messages.error(request, exc.message)
        return redirect(safe_next(request, "invite"))
    pending = selectors.invite_pending_for(user=user)
    return render(
        request,
        "couples/invite.html",
        {
            "invite": pending,
            "invite_url": pending.share_url() if pending else None,
            "join_form": JoinForm(),
        },
    )


@login_required
@require_http_methods(["GET"])
def invite_join(request: HttpRequest) -> HttpResponse:
    """The 'I have a code' form: go to that code's accept page."""
    form = JoinForm(request.GET)
    if form.is_valid() and normalize_invite_code(form.cleaned_data["code"]):
        code = normalize_invite_code(form.cleaned_data["code"])
        return redirect("invite-accept", code=code)
    messages.error(request, "Enter the invite code your partner sent you.")
    return redirect("invite")


@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, code: str) -> HttpResponse:
    """The invite link. Anyone holding the code sees who invited them; accepting needs
    an account, so anonymous visitors are offered sign-up or log-in that come back here."""
    if request.method == "POST" and (refused := limited(request, "invite_accept", user=True)):
        return refused
    found = selectors.invite_get_by_code(code=code)
    status = found.status_at(timezone.now()) if found else None
    context: dict[str, object] = {
        "invite": found,
        "status": status,
        "code": code,
        "Status": Invite.Status,
    }
    if not request.user.is_authenticated:
        if request.method == "POST":
            return redirect(f"{reverse('login')}?{urlencode({'next': request.path})}")
        return render(request, "couples/invite_accept.html", context)
    user = requester(request)
    form = None
    if found is not None and found.inviter_id != user.pk:
        data = request.POST if request.method == "POST" else None  # bound even if empty
        form = InviteAcceptForm(data, inviter=found.inviter, joiner=user)
        context["form"] = form
    if request.method == "POST":
        if form is not None and not form.is_valid():
            return render(request, "couples/invite_accept.html", context, status=400)
        try:
            services.invite_accept(
                user=user,
                code=code,
                timezone_name=(form.cleaned_data["timezone"] or None) if form else None,
            )
        except ServiceError as exc:
            context["error"] = exc.message
            return render(request, "couples/invite_accept.html", context, status=400)
        messages.success(request, "You're paired. Welcome to your shared space.")
        return redirect("home")
    context["already_paired"] = selectors.couple_get(user=user) is not None
    context["own"] = found is not None and found.inviter_id == user.pk
    return render(request, "couples/invite_accept.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def couple(request: HttpRequest) -> HttpResponse:
    user = requester(request)
    current = selectors.couple_get(user=user)
    if current is None:
        return redirect("invite")
    form = CoupleTimezoneForm(request.POST or None, initial={"timezone": current.couple.timezone})
    if request.method == "POST" and form.is_valid():
        try:
            services.couple_update(user=user, timezone_name=form.cleaned_data["timezone"])
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("couple")
    return render(request, "couples/couple.html", {"current": current, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def couple_unpair(request: HttpRequest) -> HttpResponse:
    """GET asks for confirmation; POST ends the couple for both partners at once."""
    user = requester(request)
    current = selectors.couple_get(user=user)
    if current is None:
        return redirect("invite")
    if request.method == "POST":
        services.couple_end(user=user)
        messages.success(request, "You are no longer paired. Everything you wrote stays yours.")
        return redirect("home")
    return render(request, "couples/unpair.html", {"current": current})
