"""GET /api/v1/dashboard: the same data as the HTML dashboard. GET /api/v1/me/export:
everything I wrote (`nuzzle.dashboard.export`)."""

from __future__ import annotations

from datetime import UTC

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkins.apis import (
    CheckinOutputSerializer,
    CheckinTodayOutputSerializer,
    checkin_payload,
    today_payload,
)
from checkins.selectors import MoodDay, ShowedUp
from lovemaps.apis import FreshnessOutputSerializer, freshness_payload
from nuzzle.couples.apis import CoupleOutputSerializer, couple_payload
from nuzzle.couples.auth import requester
from nuzzle.couples.models import User
from nuzzle.dashboard import services
from nuzzle.dashboard.export import account_export, export_filename
from nuzzle.dashboard.selectors import Dashboard
from nuzzle.lib.api import Output
from prompts.apis import QuestionOutputSerializer, question_payload

# Each output is written once (nuzzle.lib.api.Output): its schema, and its payload as
# plain dicts made from the selector's rows and the other apps' outputs.
MOOD_DAY_OUTPUT = Output[MoodDay, None](
    "MoodDaySerializer",
    date=(serializers.DateField(), lambda day, _: day.date.isoformat()),
    mine=(serializers.IntegerField(allow_null=True), "mine"),
    partner=(serializers.IntegerField(allow_null=True), "partner"),
)
SHOWED_UP_OUTPUT = Output[ShowedUp, None](
    "ShowedUpSerializer",
    this_month=(serializers.IntegerField(), "this_month"),
    all_time=(serializers.IntegerField(), "all_time"),
)
# The dashboard as the person asking (the context) sees it.
DASHBOARD_OUTPUT = Output[Dashboard, User](
    "DashboardApi.OutputSerializer",
    couple=(
        CoupleOutputSerializer(allow_null=True),
        lambda dashboard, _: couple_payload(dashboard.couple) if dashboard.couple else None,
    ),
    checkins=(
        CheckinTodayOutputSerializer(),
        lambda dashboard, user: today_payload(dashboard.checkins.today, user),
    ),
    question=(
        QuestionOutputSerializer(allow_null=True),
        lambda dashboard, _: question_payload(dashboard.question) if dashboard.question else None,
    ),
    freshness=(
        FreshnessOutputSerializer(),
        lambda dashboard, _: freshness_payload(dashboard.freshness),
    ),
    moods=(
        MOOD_DAY_OUTPUT.serializer(many=True),
        lambda dashboard, _: MOOD_DAY_OUTPUT.render_all(dashboard.checkins.moods, None),
    ),
    days_both_showed_up=(
        SHOWED_UP_OUTPUT.serializer(allow_null=True),
        lambda dashboard, _: (
            SHOWED_UP_OUTPUT.render(showed_up, None)
            if (showed_up := dashboard.checkins.showed_up)
            else None
        ),
    ),
    recent=(
        CheckinOutputSerializer(many=True),
        lambda dashboard, user: [checkin_payload(c, user) for c in dashboard.checkins.recent],
    ),
)


class DashboardApi(APIView):
    OutputSerializer = DASHBOARD_OUTPUT.serializer

    @extend_schema(responses={200: OutputSerializer}, summary="Us today")
    def get(self, request: Request) -> Response:
        user = requester(request)
        dashboard = services.dashboard_for_today(user=user, rendered=True)
        return Response(DASHBOARD_OUTPUT.render(dashboard, user))


def _utc(*, allow_null: bool = False) -> serializers.DateTimeField:
    # UTC whoever asks (docs/api.md): not the zone a browser session activates.
    return serializers.DateTimeField(default_timezone=UTC, allow_null=allow_null)


class ExportAccountSerializer(serializers.Serializer):
    email = serializers.EmailField()
    display_name = serializers.CharField()
    timezone = serializers.CharField()
    joined_at = _utc()
    allow_sensitive_questions = serializers.BooleanField()


class ExportNudgePreferencesSerializer(serializers.Serializer):
    nudge_time = serializers.CharField(help_text='Local "HH:MM".')
    days = serializers.ListField(child=serializers.IntegerField(), help_text="Monday = 0.")
    quiet_start = serializers.CharField()
    quiet_end = serializers.CharField()
    paused_until = serializers.DateField(allow_null=True)
    daily_cap = serializers.IntegerField()
    kinds = serializers.DictField(child=serializers.BooleanField())
    channels = serializers.CharField(help_text="auto, email, push or both.")


class ExportNudgeSerializer(serializers.Serializer):
    kind = serializers.CharField()
    local_date = serializers.DateField()
    scheduled_for = _utc()
    status = serializers.CharField()
    sent_at = _utc(allow_null=True)
    sent_via = serializers.CharField(allow_blank=True, help_text='e.g. "push" or "push,email".')


class ExportPushDeviceSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    service = serializers.CharField()
    created_at = _utc()


class ExportCoupleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    started_at = _utc()
    ended_at = _utc(allow_null=True)
    ended_by_me = serializers.BooleanField()
    timezone = serializers.CharField()
    joined_at = _utc(allow_null=True)
    partner_display_name = serializers.CharField(allow_null=True)


class ExportCheckinAnswerSerializer(serializers.Serializer):
    question = serializers.CharField(help_text="The check-in question's text.")
    text = serializers.CharField()


class ExportCheckinSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    local_date = serializers.DateField(help_text="My local date.")
    couple_date = serializers.DateField(
        help_text="The couple day it counted toward (my local date when unpaired)."
    )
    couple_id = serializers.IntegerField(allow_null=True)
    mood = serializers.IntegerField()
    mood_label = serializers.CharField()
    energy = serializers.IntegerField(allow_null=True)
    energy_label = serializers.CharField(allow_null=True)
    visibility = serializers.CharField()
    created_at = _utc()
    updated_at = _utc()
    answers = ExportCheckinAnswerSerializer(many=True)


class ExportCheckinResponseSerializer(serializers.Serializer):
    checkin_id = serializers.IntegerField(
        allow_null=True, help_text="Null when the check-in's author has deleted their account."
    )
    checkin_date = serializers.DateField(help_text="The day of the check-in I responded to.")
    reaction = serializers.CharField(allow_blank=True)
    text = serializers.CharField(allow_blank=True)
    created_at = _utc()
    updated_at = _utc()


class ExportQuestionAnswerSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    date = serializers.DateField()
    couple_id = serializers.IntegerField()
    question = serializers.CharField()
    text = serializers.CharField()
    revealed = serializers.BooleanField()
    created_at = _utc()
    updated_at = _utc()


class ExportQuestionReactionSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    date = serializers.DateField()
    question = serializers.CharField()
    reaction = serializers.CharField()
    created_at = _utc()


class ExportQuestionPassSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    date = serializers.DateField()
    couple_id = serializers.IntegerField()
    question = serializers.CharField()


class ExportLovemapEntrySerializer(serializers.Serializer):
    topic_id = serializers.IntegerField()
    topic = serializers.CharField()
    domain = serializers.CharField()
    domain_label = serializers.CharField()
    version = serializers.IntegerField()
    current = serializers.BooleanField()
    text = serializers.CharField()
    created_at = _utc()
    confirmed_at = _utc()


class ExportLovemapGuessSerializer(serializers.Serializer):
    topic = serializers.CharField()
    couple_id = serializers.IntegerField()
    guess = serializers.CharField()
    guessed_at = _utc()
    rating = serializers.CharField(allow_null=True, help_text="My partner's rating, if any.")
    rated_at = _utc(allow_null=True)


class ExportLovemapRatingSerializer(serializers.Serializer):
    topic = serializers.CharField()
    version = serializers.IntegerField()
    couple_id = serializers.IntegerField()
    rating = serializers.CharField()
    rated_at = _utc(allow_null=True)


class MeExportApi(APIView):
    class OutputSerializer(serializers.Serializer):
        format = serializers.CharField(help_text='Always "nuzzle-export".')
        version = serializers.IntegerField(help_text="Format version (1).")
        exported_at = _utc()
        account = ExportAccountSerializer()
        nudge_preferences = ExportNudgePreferencesSerializer(allow_null=True)
        push_devices = ExportPushDeviceSerializer(many=True)
        nudges = ExportNudgeSerializer(many=True)
        couples = ExportCoupleSerializer(many=True)
        checkins = ExportCheckinSerializer(many=True)
        checkin_responses = ExportCheckinResponseSerializer(many=True)
        question_answers = ExportQuestionAnswerSerializer(many=True)
        question_reactions = ExportQuestionReactionSerializer(many=True)
        question_passes = ExportQuestionPassSerializer(many=True)
        lovemap_entries = ExportLovemapEntrySerializer(many=True)
        lovemap_guesses = ExportLovemapGuessSerializer(many=True)
        lovemap_ratings_given = ExportLovemapRatingSerializer(many=True)

    @extend_schema(
        responses={200: OutputSerializer},
        summary="Export my data",
        description="Everything I wrote, in every couple I have been in, with the "
        "questions' texts and dates. None of a partner's words: not their check-ins, "
        "answers (sealed or revealed), love map, replies or guesses.",
    )
    def get(self, request: Request) -> Response:
        user = requester(request)
        body = self.OutputSerializer(account_export(user=user)).data
        filename = export_filename(user=user, extension="json")
        return Response(body, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
