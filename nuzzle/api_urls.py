"""Every JSON API route, in one list (mounted at /api/). Contract: API.md."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from checkins import apis as checkins
from nuzzle.couples import apis as couples
from nuzzle.dashboard import apis as dashboard
from prompts import apis as questions

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Account
    path("v1/auth/signup", couples.AuthSignupApi.as_view(), name="api-auth-signup"),
    path("v1/auth/token", couples.AuthTokenApi.as_view(), name="api-auth-token"),
    path("v1/auth/logout", couples.AuthLogoutApi.as_view(), name="api-auth-logout"),
    path("v1/me", couples.MeApi.as_view(), name="api-me"),
    # Couple
    path("v1/couple", couples.CoupleApi.as_view(), name="api-couple"),
    path("v1/couple/invites", couples.CoupleInviteCreateApi.as_view(), name="api-invite-create"),
    path(
        "v1/couple/invites/<str:code>",
        couples.CoupleInviteRevokeApi.as_view(),
        name="api-invite-revoke",
    ),
    path("v1/couple/join", couples.CoupleJoinApi.as_view(), name="api-couple-join"),
    # Check-ins
    path(
        "v1/checkins/questions",
        checkins.CheckinQuestionsApi.as_view(),
        name="api-checkin-questions",
    ),
    path("v1/checkins/today", checkins.CheckinTodayApi.as_view(), name="api-checkin-today"),
    path("v1/checkins", checkins.CheckinListApi.as_view(), name="api-checkin-list"),
    path(
        "v1/checkins/<int:checkin_id>/responses",
        checkins.CheckinResponseCreateApi.as_view(),
        name="api-checkin-responses",
    ),
    # Daily question
    path("v1/questions/today", questions.QuestionTodayApi.as_view(), name="api-question-today"),
    path("v1/questions", questions.QuestionListApi.as_view(), name="api-question-list"),
    path(
        "v1/questions/<int:question_id>/answer",
        questions.QuestionAnswerApi.as_view(),
        name="api-question-answer",
    ),
    path(
        "v1/questions/<int:question_id>/pass",
        questions.QuestionPassApi.as_view(),
        name="api-question-pass",
    ),
    path(
        "v1/questions/<int:question_id>/reactions",
        questions.QuestionReactionApi.as_view(),
        name="api-question-reactions",
    ),
    # Dashboard
    path("v1/dashboard", dashboard.DashboardApi.as_view(), name="api-dashboard"),
]
