"""GET /api/v1/dashboard: the same data as the HTML dashboard."""

from __future__ import annotations

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
from lovemaps.apis import FreshnessOutputSerializer, freshness_payload
from nuzzle.couples.apis import CoupleOutputSerializer, couple_payload
from nuzzle.couples.scoping import requester
from nuzzle.dashboard import selectors
from prompts.apis import QuestionOutputSerializer, question_payload


class MoodDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    mine = serializers.IntegerField(allow_null=True)
    partner = serializers.IntegerField(allow_null=True)


class ShowedUpSerializer(serializers.Serializer):
    this_month = serializers.IntegerField()
    all_time = serializers.IntegerField()


class DashboardApi(APIView):
    class OutputSerializer(serializers.Serializer):
        couple = CoupleOutputSerializer(allow_null=True)
        checkins = CheckinTodayOutputSerializer()
        question = QuestionOutputSerializer(allow_null=True)
        freshness = FreshnessOutputSerializer()
        moods = MoodDaySerializer(many=True)
        days_both_showed_up = ShowedUpSerializer(allow_null=True)
        recent = CheckinOutputSerializer(many=True)

    @extend_schema(responses={200: OutputSerializer}, summary="Us today")
    def get(self, request: Request) -> Response:
        user = requester(request)
        dashboard = selectors.dashboard_get(user=user)
        overview = dashboard.checkins
        showed_up = overview.showed_up
        return Response(
            {
                "couple": couple_payload(dashboard.couple) if dashboard.couple else None,
                "checkins": today_payload(overview.today, user),
                "question": question_payload(dashboard.question) if dashboard.question else None,
                "freshness": freshness_payload(dashboard.freshness),
                "moods": [
                    {"date": d.date.isoformat(), "mine": d.mine, "partner": d.partner}
                    for d in overview.moods
                ],
                "days_both_showed_up": (
                    {"this_month": showed_up.this_month, "all_time": showed_up.all_time}
                    if showed_up
                    else None
                ),
                "recent": [checkin_payload(c, user) for c in overview.recent],
            }
        )
