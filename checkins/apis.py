"""JSON API for check-ins (docs/api.md: Check-ins)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkins import selectors, services, statements
from checkins.models import (
    ANSWER_MAX_LENGTH,
    REPLY_MAX_LENGTH,
    Checkin,
    CheckinAnswer,
    CheckinResponse,
    Reaction,
    Visibility,
)
from checkins.selectors import Today
from checkins.statements import RenderedCheckin
from nuzzle.couples.auth import requester
from nuzzle.couples.models import User
from nuzzle.couples.selectors import couple_day_today
from nuzzle.lib.api import (
    Output,
    PageQuerySerializer,
    Pagination,
    StrictIntegerField,
    WordsField,
    json_text,
    page_bounds,
    page_json,
    paginated,
)
from prompts.models import Prompt
from prompts.selectors import checkin_questions_for


def _who(author_id: int, user: User) -> str:
    return "me" if author_id == user.pk else "partner"


# Each output is written once (nuzzle.lib.api.Output): its schema and, from prefetched
# rows, its payload as plain dicts, cheap on the hot paths (no per-row queries).
QUESTION_OUTPUT = Output[Prompt, None](
    "CheckinQuestionOutputSerializer",
    id=(serializers.IntegerField(), "pk"),
    text=(serializers.CharField(), "text"),
)
ANSWER_OUTPUT = Output[CheckinAnswer, None](
    "AnswerOutputSerializer",
    question_id=(serializers.IntegerField(), "prompt_id"),
    question=(serializers.CharField(), "prompt.text"),
    text=(serializers.CharField(), "text"),
)
RESPONSE_OUTPUT = Output[CheckinResponse, User](
    "ResponseOutputSerializer",
    id=(serializers.IntegerField(), "pk"),
    author=(
        serializers.ChoiceField(choices=["me", "partner"]),
        lambda response, user: _who(response.author_id, user),
    ),
    reaction=(
        serializers.ChoiceField(choices=Reaction.choices, allow_null=True),
        lambda response, _: response.reaction or None,
    ),
    text=(serializers.CharField(), "text"),
    created_at=(serializers.DateTimeField(), lambda response, _: response.created_at.isoformat()),
    updated_at=(serializers.DateTimeField(), lambda response, _: response.updated_at.isoformat()),
)
CHECKIN_OUTPUT = Output[Checkin, User](
    "CheckinOutputSerializer",
    id=(serializers.IntegerField(), "pk"),
    date=(
        serializers.DateField(help_text="The author's local date."),
        lambda checkin, _: checkin.local_date.isoformat(),
    ),
    couple_date=(
        serializers.DateField(help_text="The couple day it counts toward."),
        lambda checkin, _: checkin.couple_date.isoformat(),
    ),
    author=(
        serializers.ChoiceField(choices=["me", "partner"]),
        lambda checkin, user: _who(checkin.author_id, user),
    ),
    mood=(serializers.IntegerField(min_value=1, max_value=5), "mood"),
    energy=(serializers.IntegerField(min_value=1, max_value=5, allow_null=True), "energy"),
    answers=(
        ANSWER_OUTPUT.serializer(many=True),
        lambda checkin, _: ANSWER_OUTPUT.render_all(checkin.answers.all(), None),
    ),
    visibility=(serializers.ChoiceField(choices=Visibility.values), "visibility"),
    responses=(
        RESPONSE_OUTPUT.serializer(many=True),
        lambda checkin, user: RESPONSE_OUTPUT.render_all(checkin.responses.all(), user),
    ),
    updated_at=(serializers.DateTimeField(), lambda checkin, _: checkin.updated_at.isoformat()),
)
TODAY_OUTPUT = Output[Today[Any], User](
    "CheckinTodayOutputSerializer",
    date=(
        serializers.DateField(help_text="My local date."),
        lambda today, _: today.date.isoformat(),
    ),
    couple_date=(
        serializers.DateField(
            help_text="The couple day my today belongs to (a date in the couple's shared zone; "
            "my local date when unpaired). Both cards are of this couple day."
        ),
        lambda today, _: today.couple_date.isoformat(),
    ),
    mine=(
        CHECKIN_OUTPUT.serializer(allow_null=True),
        lambda today, user: checkin_payload(today.mine, user) if today.mine else None,
    ),
    partner_date=(
        serializers.DateField(
            allow_null=True,
            help_text="My partner's local date that belongs to the same couple day.",
        ),
        lambda today, _: today.partner_date.isoformat() if today.partner_date else None,
    ),
    partner=(
        CHECKIN_OUTPUT.serializer(
            allow_null=True, help_text="Null unless shared for the same couple day."
        ),
        lambda today, user: checkin_payload(today.partner, user) if today.partner else None,
    ),
)
CheckinQuestionOutputSerializer = QUESTION_OUTPUT.serializer
AnswerOutputSerializer = ANSWER_OUTPUT.serializer
ResponseOutputSerializer = RESPONSE_OUTPUT.serializer
CheckinOutputSerializer = CHECKIN_OUTPUT.serializer
CheckinTodayOutputSerializer = TODAY_OUTPUT.serializer


def checkin_payload(checkin: Checkin | RenderedCheckin, user: User) -> dict[str, Any]:
    """A check-in as `user` sees it, from its prefetched answers and responses, or as
    the database rendered it (the dashboard's statement) for the same user."""
    if isinstance(checkin, RenderedCheckin):
        if checkin.payload is None:
            raise ValueError(f"check-in {checkin.pk} was read without its payload")
        return checkin.payload
    return CHECKIN_OUTPUT.render(checkin, user)


def today_payload(today: Today[Any], user: User) -> dict[str, Any]:
    return TODAY_OUTPUT.render(today, user)


class CheckinQuestionsApi(APIView):
    @extend_schema(
        responses={200: CheckinQuestionOutputSerializer(many=True)}, summary="Today's questions"
    )
    def get(self, request: Request) -> Response:
        user = requester(request)
        questions = checkin_questions_for(day=couple_day_today(user=user))
        return Response(QUESTION_OUTPUT.render_all(questions, None))


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
    def put(self, request: Request) -> HttpResponse:
        user = requester(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = {
            "user": user,
            "mood": data.validated_data["mood"],
            "energy": data.validated_data.get("energy"),
            "answers": [services.AnswerInput(**a) for a in data.validated_data.get("answers", [])],
            "visibility": data.validated_data["visibility"],
        }
        if statements.CHECKIN_WRITE.available():
            written = services.checkin_submit_rendered(**given)
            return json_text(
                written.payload,
                status.HTTP_201_CREATED if written.created else status.HTTP_200_OK,
            )
        result = services.checkin_submit(**given)
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
    def get(self, request: Request) -> HttpResponse:
        user = requester(request)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        date_from, date_to = filters.validated_data.get("from"), filters.validated_data.get("to")
        paginator = Pagination()
        if statements.CHECKIN_PAGE.available():
            size, offset = page_bounds(paginator, request, filters.validated_data.get("page", 1))
            page = statements.checkin_page_json(
                user=user, date_from=date_from, date_to=date_to, size=size, offset=offset
            )
            return page_json(paginator, request, count=page.count, results=page.results)
        queryset = selectors.checkin_list(user=user, date_from=date_from, date_to=date_to)
        rows = paginator.paginate_queryset(queryset, request, view=self) or []
        return paginator.get_paginated_response([checkin_payload(c, user) for c in rows])


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
        return Response(RESPONSE_OUTPUT.render(response, user), status=status.HTTP_201_CREATED)
