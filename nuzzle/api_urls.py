"""Every JSON API route, in one list (mounted at /api/). Documented in docs/api.md, which
tests/test_docs.py keeps in step with this list: add a route, document it there."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

import nuzzle.lib.converters  # noqa: F401  (registers the <id:...> converter)
from checkins import apis as checkins
from lovemaps import apis as lovemaps
from nuzzle.couples import apis as couples
from nuzzle.dashboard import apis as dashboard
from nuzzle.nudges import apis as nudges
from prompts import apis as questions

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Account
    path("v1/auth/signup", couples.AuthSignupApi.as_view(), name="api-auth-signup"),
    path("v1/auth/token", couples.AuthTokenApi.as_view(), name="api-auth-token"),
    path("v1/auth/logout", couples.AuthLogoutApi.as_view(), name="api-auth-logout"),
    path("v1/me", couples.MeApi.as_view(), name="api-me"),
    path("v1/me/preferences", nudges.PreferencesApi.as_view(), name="api-me-preferences"),
    path("v1/me/export", dashboard.MeExportApi.as_view(), name="api-me-export"),
    path("v1/me/devices", nudges.DeviceListApi.as_view(), name="api-me-devices"),
    path("v1/me/devices/<id:device_id>", nudges.DeviceDetailApi.as_view(), name="api-me-device"),
    path("v1/push/key", nudges.PushKeyApi.as_view(), name="api-push-key"),
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
        "v1/checkins/<id:checkin_id>/responses",
        checkins.CheckinResponseCreateApi.as_view(),
        name="api-checkin-responses",
    ),
    # Daily question
    path("v1/questions/today", questions.QuestionTodayApi.as_view(), name="api-question-today"),
    path("v1/questions", questions.QuestionListApi.as_view(), name="api-question-list"),
    path(
        "v1/questions/<id:question_id>/answer",
        questions.QuestionAnswerApi.as_view(),
        name="api-question-answer",
    ),
    path(
        "v1/questions/<id:question_id>/pass",
        questions.QuestionPassApi.as_view(),
        name="api-question-pass",
    ),
    path(
        "v1/questions/<id:question_id>/reactions",
        questions.QuestionReactionApi.as_view(),
        name="api-question-reactions",
    ),
    # Love maps
    path("v1/lovemap/topics", lovemaps.LovemapTopicListApi.as_view(), name="api-lovemap-topics"),
    path("v1/lovemap/mine", lovemaps.LovemapMineApi.as_view(), name="api-lovemap-mine"),
    path(
        "v1/lovemap/mine/<id:topic_id>",
        lovemaps.LovemapMineTopicApi.as_view(),
        name="api-lovemap-answer",
    ),
    path(
        "v1/lovemap/mine/<id:topic_id>/confirm",
        lovemaps.LovemapConfirmApi.as_view(),
        name="api-lovemap-confirm",
    ),
    path("v1/lovemap/partner", lovemaps.LovemapPartnerApi.as_view(), name="api-lovemap-partner"),
    path(
        "v1/lovemap/partner/<id:topic_id>/reveal",
        lovemaps.LovemapRevealApi.as_view(),
        name="api-lovemap-reveal",
    ),
    path(
        "v1/lovemap/guesses/<id:guess_id>/rating",
        lovemaps.LovemapGuessRatingApi.as_view(),
        name="api-lovemap-guess-rating",
    ),
    path(
        "v1/lovemap/freshness",
        lovemaps.LovemapFreshnessApi.as_view(),
        name="api-lovemap-freshness",
    ),
    # Dashboard and nudges
    path("v1/dashboard", dashboard.DashboardApi.as_view(), name="api-dashboard"),
    path("v1/nudges", nudges.NudgeListApi.as_view(), name="api-nudge-list"),
]
