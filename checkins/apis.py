"""JSON API for check-ins (docs/api.md: Check-ins)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkins import selectors, services
from checkins.models import ANSWER_MAX_LENGTH, REPLY_MAX_LENGTH, Checkin, Reaction, Visibility
from checkins.selectors import Today
from nuzzle.couples.models import User
from nuzzle.couples.scoping import requester
from nuzzle.couples.selectors import couple_day_today
from nuzzle.lib.api import (
    PageQuerySerializer,
    Pagination,
    StrictIntegerField,
    WordsField,
    paginated,
)
from prompts.selectors import checkin_questions_for


class CheckinQuestionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()


class AnswerOutputSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    question = serializers.CharField()
    text = serializers.CharField()


class ResponseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.ChoiceField(choices=["me", "partner"])
    reaction = serializers.ChoiceField(choices=Reaction.choices, allow_null=True)
    text = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CheckinOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateField(help_text="The author's local date.")
    couple_date = serializers.DateField(help_text="The couple day it counts toward.")
    author = serializers.ChoiceField(choices=["me", "partner"])
    mood = serializers.IntegerField(min_value=1, max_value=5)
    energy = serializers.IntegerField(min_value=1, max_value=5, allow_null=True)
    answers = AnswerOutputSerializer(many=True)
    visibility = serializers.ChoiceField(choices=Visibility.values)
    responses = ResponseOutputSerializer(many=True)
    updated_at = serializers.DateTimeField()


def _who(author_id: int, user: User) -> str:
    return "me" if author_id == user.pk else "partner"


def checkin_payload(checkin: Checkin, user: User) -> dict[str, Any]:
    """Plain dicts from prefetched rows: cheap on the hot paths (no per-row queries)."""
    return {
        "id": checkin.pk,
        "date": checkin.local_date.isoformat(),
        "couple_date": checkin.couple_date.isoformat(),
        "author": _who(checkin.author_id, user),
        "mood": checkin.mood,
        "energy": checkin.energy,
        "answers": [
            {"question_id": a.prompt_id, "question": a.prompt.text, "text": a.text}
            for a in checkin.answers.all()
        ],
        "visibility": checkin.visibility,
        "responses": [
            {
                "id": r.pk,
                "author": _who(r.author_id, user),
                "reaction": r.reaction or None,
                "text": r.text,
                "created_at": r.created_at.isoformat(),
                "updated_at": r.updated_at.isoformat(),
            }
            for r in checkin.responses.all()
        ],
        "updated_at": checkin.updated_at.isoformat(),
    }


class CheckinTodayOutputSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="My local date.")
    couple_date = serializers.DateField(
        help_text="The couple day my today belongs to (a date in the couple's shared zone; "
        "my local date when unpaired). Both cards are of this couple day."
    )
    mine = CheckinOutputSerializer(allow_null=True)
    partner_date = serializers.DateField(
        allow_null=True, help_text="My partner's local date that belongs to the same couple day."
    )
    partner = CheckinOutputSerializer(
        allow_null=True, help_text="Null unless shared for the same couple day."
    )


def today_payload(today: Today, user: User) -> dict[str, Any]:
    return {
        "date": today.date.isoformat(),
        "couple_date": today.couple_date.isoformat(),
        "mine": checkin_payload(today.mine, user) if today.mine else None,
        "partner_date": today.partner_date.isoformat() if today.partner_date else None,
        "partner": checkin_payload(today.partner, user) if today.partner else None,
    }


class CheckinQuestionsApi(APIView):
    @extend_schema(
        responses={200: CheckinQuestionOutputSerializer(many=True)}, summary="Today's questions"
    )
    def get(self, request: Request) -> Response:
        user = requester(request)
        questions = checkin_questions_for(day=couple_day_today(user=user))
        return Response([{"id": q.pk, "text": q.text} for q in questions])


class CheckinAnswerInputSerializer(serializers.Serializer):
    question_id = StrictIntegerField(min_value=1)
    text = WordsField(max_length=ANSWER_MAX_LENGTH, allow_blank=True)


class CheckinTodayApi(APIView):
    class InputSerializer(serializers.Serializer):
        mood = StrictIntegerField(min_value=1, max_value=5)
        energy = StrictIntegerField(min_value=1, max_value=5, required=False, allow_null=True)
        # ListSerializer takes max_length (DRF >= 3.14); the stubs don't know it yet.
        answers = CheckinAnswerInputSerializer(many=True, required=False, max_length=3)  # type: ignore[call-arg]
        visibility = serializers.ChoiceField(choices=Visibility.values, default=Visibility.SHARED)

    @extend_schema(
        responses={200: CheckinTodayOutputSerializer}, summary="Today's check-ins (mine, partner's)"
    )
    def get(self, request: Request) -> Response:
        user = requester(request)
        return Response(today_payload(selectors.checkin_today(user=user), user))

    @extend_schema(
        request=InputSerializer,
        responses={200: CheckinOutputSerializer, 201: CheckinOutputSerializer},
        summary="Check in for my local today (create or update)",
    )
    def put(self, request: Request) -> Response:
        user = requester(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.checkin_submit(
            user=user,
            mood=data.validated_data["mood"],
            energy=data.validated_data.get("energy"),
            answers=[services.AnswerInput(**a) for a in data.validated_data.get("answers", [])],
            visibility=data.validated_data["visibility"],
        )
        checkin = selectors.checkin_details(user=user, checkin=result.checkin)
        return Response(
            checkin_payload(checkin, user),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class CheckinListApi(APIView):
    class FilterSerializer(PageQuerySerializer):
        from_ = serializers.DateField(required=False, help_text="First date (YYYY-MM-DD)")
        to = serializers.DateField(required=False, help_text="Last date (YYYY-MM-DD)")

        def get_fields(self) -> dict[str, serializers.Field]:
            fields = super().get_fields()
            # "from" is a Python keyword: expose the field under its query name.
            fields["from"] = fields.pop("from_")
            return fields

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: paginated(CheckinOutputSerializer, name="PaginatedCheckinList")},
        summary="Mine and my partner's shared check-ins, newest first",
    )
    def get(self, request: Request) -> Response:
        user = requester(request)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.checkin_list(
            user=user,
            date_from=filters.validated_data.get("from"),
            date_to=filters.validated_data.get("to"),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(queryset, request, view=self) or []
        return paginator.get_paginated_response([checkin_payload(c, user) for c in page])


class CheckinResponseCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        reaction = serializers.ChoiceField(choices=Reaction.choices, required=False)
        text = WordsField(max_length=REPLY_MAX_LENGTH, required=False, allow_blank=True)

    @extend_schema(
        request=InputSerializer,
        responses={201: ResponseOutputSerializer},
        summary="Respond to my partner's shared check-in",
    )
    def post(self, request: Request, checkin_id: int) -> Response:
        user = requester(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        response = services.checkin_respond(
            user=user,
            checkin_id=checkin_id,
            reaction=data.validated_data.get("reaction"),
            text=data.validated_data.get("text"),
        )
        return Response(
            {
                "id": response.pk,
                "author": "me",
                "reaction": response.reaction or None,
                "text": response.text,
                "created_at": response.created_at.isoformat(),
                "updated_at": response.updated_at.isoformat(),
            },
            status=status.HTTP_201_CREATED,
        )
