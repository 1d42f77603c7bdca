"""Every HTML route, in one list (the JSON API is in `api_urls.py`).

A new route needs a row in tests/test_authorization_matrix.py, or the suite fails.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

import nuzzle.lib.converters  # noqa: F401  (registers the <id:...> converter)
from checkins import views as checkins
from lovemaps import views as lovemaps
from nuzzle.couples import views as couples
from nuzzle.dashboard import views as dashboard
from nuzzle.lib import app_shell
from nuzzle.lib import views as lib
from nuzzle.nudges import views as nudges
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
    path("account/delete/", couples.account_delete, name="account-delete"),
    path("account/nudges/", nudges.preferences, name="nudge-preferences"),
    path("account/data/", dashboard.account_data, name="account-data"),
    path("account/data/export.json", dashboard.account_export_json, name="account-export-json"),
    path("account/data/export.md", dashboard.account_export_md, name="account-export-md"),
    # Pairing
    path("invite/", couples.invite, name="invite"),
    path("invite/join/", couples.invite_join, name="invite-join"),
    path("invite/<str:code>/", couples.invite_accept, name="invite-accept"),
    path("couple/", couples.couple, name="couple"),
    path("couple/unpair/", couples.couple_unpair, name="couple-unpair"),
    # Check-ins
    path("checkin/", checkins.checkin, name="checkin"),
    path("checkins/<id:checkin_id>/respond/", checkins.checkin_respond, name="checkin-respond"),
    path("history/", checkins.history, name="history"),
    # The daily question
    path("question/", questions.question, name="question"),
    path("questions/", questions.question_history, name="question-history"),
    path("questions/<id:question_id>/answer/", questions.question_answer, name="question-answer"),
    path("questions/<id:question_id>/pass/", questions.question_pass, name="question-pass"),
    path("questions/<id:question_id>/react/", questions.question_react, name="question-react"),
    # Love maps
    path("lovemap/", lovemaps.overview, name="lovemap"),
    path("lovemap/mine/", lovemaps.mine, name="lovemap-mine"),
    path("lovemap/mine/<id:topic_id>/", lovemaps.answer, name="lovemap-answer"),
    path("lovemap/mine/<id:topic_id>/confirm/", lovemaps.confirm, name="lovemap-confirm"),
    path("lovemap/partner/", lovemaps.partner, name="lovemap-partner"),
    path("lovemap/partner/<id:topic_id>/reveal/", lovemaps.reveal, name="lovemap-reveal"),
    path("lovemap/guesses/<id:guess_id>/rate/", lovemaps.rate, name="lovemap-guess-rate"),
    # Email nudges: one-click unsubscribe (no login; the signed token decides)
    path("unsubscribe/<str:token>/", nudges.unsubscribe, name="unsubscribe"),
    # Operations
    path("healthz", lib.healthz, name="healthz"),
    # The installable app's shell (nuzzle/lib/app_shell.py): at the root, where browsers
    # and iOS look for them and where the service worker's scope is the whole site.
    path("manifest.webmanifest", app_shell.manifest, name="manifest"),
    path("sw.js", app_shell.service_worker, name="service-worker"),
    path("apple-touch-icon.png", app_shell.apple_touch_icon, name="apple-touch-icon"),
    path("offline/", app_shell.offline, name="offline"),
    path("admin/", admin.site.urls),
    path("api/", include("nuzzle.api_urls")),
]

# JSON under /api/, calm pages elsewhere (nuzzle/lib/views.py).
handler400 = "nuzzle.lib.views.bad_request"
handler403 = "nuzzle.lib.views.permission_denied"
handler404 = "nuzzle.lib.views.not_found"
handler500 = "nuzzle.lib.views.server_error"
