"""Every HTML route, in one list (the JSON API is in `api_urls.py`).

A new route needs a row in tests/test_authorization_matrix.py, or the suite fails.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from checkins import views as checkins
from nuzzle.couples import views as couples
from nuzzle.dashboard import views as dashboard
from nuzzle.lib import views as lib
from prompts import views as questions

urlpatterns = [
    path("", dashboard.home, name="home"),
    # Accounts
    path("signup/", couples.signup, name="signup"),
    path("login/", couples.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", couples.PasswordResetView.as_view(), name="password-reset"),
    path(
        "password-reset/sent/",
        couples.PasswordResetDoneView.as_view(),
        name="password-reset-done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        couples.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password-reset/done/",
        couples.PasswordResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
    path("account/", couples.account, name="account"),
    # Pairing
    path("invite/", couples.invite, name="invite"),
    path("invite/join/", couples.invite_join, name="invite-join"),
    path("invite/<str:code>/", couples.invite_accept, name="invite-accept"),
    path("couple/", couples.couple, name="couple"),
    path("couple/unpair/", couples.couple_unpair, name="couple-unpair"),
    # Check-ins
    path("checkin/", checkins.checkin, name="checkin"),
    path("checkins/<int:checkin_id>/respond/", checkins.checkin_respond, name="checkin-respond"),
    path("history/", checkins.history, name="history"),
    # The daily question
    path("question/", questions.question, name="question"),
    path("questions/", questions.question_history, name="question-history"),
    path("questions/<int:question_id>/answer/", questions.question_answer, name="question-answer"),
    path("questions/<int:question_id>/pass/", questions.question_pass, name="question-pass"),
    path("questions/<int:question_id>/react/", questions.question_react, name="question-react"),
    # Operations
    path("healthz", lib.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("nuzzle.api_urls")),
]

handler404 = "nuzzle.lib.views.not_found"
