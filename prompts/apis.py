"""JSON API for the daily question (docs/api.md: Daily question). Every response is built
from a QuestionView (prompts.selectors), so a sealed answer cannot slip out here."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from nuzzle.couples.auth import requester
from nuzzle.lib.api import Output, PageQuerySerializer, Pagination, WordsField, paginated
from nuzzle.lib.choices import Reaction
from nuzzle.lib.errors import NotFound
from prompts import selectors, services, statements
from prompts.models import ANSWER_MAX_LENGTH, Prompt, QuestionReaction
from prompts.selectors import QuestionView

# Each output is written once (nuzzle.lib.api.Output): its schema, and its payload as
# plain dicts (dates and times as ISO 8601 text), the same keys in the same order.
PROMPT_OUTPUT = Output[Prompt, None](
    "PromptOutputSerializer",
    id=(serializers.IntegerField(), "pk"),
    text=(serializers.CharField(), "text"),
    dimension=(serializers.ChoiceField(choices=Prompt.Dimension.values), "dimension"),
    depth=(serializers.IntegerField(min_value=1, max_value=3), "depth"),
)
QUESTION_OUTPUT = Output[QuestionView, None](
    "QuestionOutputSerializer",
    id=(serializers.IntegerField(), "id"),
    date=(
        serializers.DateField(help_text="The couple day it belongs to (docs/days.md)."),
        lambda view, _: view.date.isoformat(),
    ),
    local_date=(
        serializers.DateField(help_text="That couple day in my own calendar."),
        lambda view, _: view.day.isoformat(),
    ),
    prompt=(
        PROMPT_OUTPUT.serializer(),
        lambda view, _: PROMPT_OUTPUT.render(view.prompt, None),
    ),
    state=(serializers.ChoiceField(choices=["unanswered", "waiting", "revealed"]), "state"),
    closed=(serializers.BooleanField(), "closed"),
    closes_at=(serializers.DateTimeField(), lambda view, _: view.closes_at.isoformat()),
    revealed_at=(
        serializers.DateTimeField(allow_null=True),
        lambda view, _: view.revealed_at.isoformat() if view.revealed_at else None,
    ),
    my_answer=(serializers.CharField(allow_null=True), "my_answer"),
    partner_answered=(serializers.BooleanField(), "partner_answered"),
    partner_answer=(
        serializers.CharField(
            allow_null=True, help_text="Null unless both have answered (state `revealed`)."
        ),
        "partner_answer",
    ),
    my_reaction=(
        serializers.ChoiceField(choices=Reaction.choices, allow_null=True),
        "my_reaction",
    ),
    partner_reaction=(
        serializers.ChoiceField(choices=Reaction.choices, allow_null=True),
        "partner_reaction",
    ),
    earlier_couple=(
        serializers.BooleanField(
            help_text="A question of a couple I am no longer in, kept in my history for my "
            "own answer: the partner's answer and reaction are always null."
        ),
        "earlier_couple",
    ),
)
REACTION_OUTPUT = Output[QuestionReaction, None](
    "QuestionReactionApi.OutputSerializer",
    reaction=(serializers.ChoiceField(choices=Reaction.choices), "reaction"),
)
PromptOutputSerializer = PROMPT_OUTPUT.serializer
QuestionOutputSerializer = QUESTION_OUTPUT.serializer


def question_payload(view: QuestionView) -> dict[str, Any]:
    return QUESTION_OUTPUT.render(view, None)


def _view_of(request: Request, question_id: int) -> dict[str, Any]:
    view = selectors.question_view_by_id(user=requester(request), question_id=question_id)
    if view is None:
        raise NotFound("No such question.")
    return question_payload(view)


class QuestionTodayApi(APIView):
    @extend_schema(responses={200: QuestionOutputSerializer}, summary="Today's question")
    def get(self, request: Request) -> Response:
        user = requester(request)
        question = services.daily_question_ensure(user=user)
        if question is None:
            raise NotFound("No question today: you are not paired, or the bank is empty.")
        return Response(_view_of(request, question.pk))


class QuestionAnswerApi(APIView):
    class InputSerializer(serializers.Serializer):
        text = WordsField(max_length=ANSWER_MAX_LENGTH)

    @extend_schema(
        request=InputSerializer,
        responses={200: QuestionOutputSerializer, 201: QuestionOutputSerializer},
        summary="Answer (or edit my answer before the reveal)",
    )
    def post(self, request: Request, question_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, text = requester(request), data.validated_data["text"]
        if statements.QUESTION_WRITE.available():
            view, created = services.question_answer_seen(
                user=user, question_id=question_id, text=text
            )
            payload = question_payload(view)
        else:
            _, created = services.question_answer(user=user, question_id=question_id, text=text)
            payload = _view_of(request, question_id)
        return Response(payload, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class QuestionPassApi(APIView):
    @extend_schema(
        request=None,
        responses={200: QuestionOutputSerializer},
        summary="Pass on today's question and get another (once a day)",
    )
    def post(self, request: Request, question_id: int) -> Response:
        replacement = services.question_pass(user=requester(request), question_id=question_id)
        return Response(_view_of(request, replacement.pk))


class QuestionListApi(APIView):
    @extend_schema(
        parameters=[PageQuerySerializer],
        responses={200: paginated(QuestionOutputSerializer, name="PaginatedQuestionList")},
        summary="Our questions, newest first, and my answers from earlier couples",
    )
    def get(self, request: Request) -> Response:
        user = requester(request)
        PageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        paginator = Pagination()
        page = paginator.paginate_queryset(
            selectors.question_history(user=user), request, view=self
        )
        views = selectors.question_views(user=user, rows=list(page or []))
        return paginator.get_paginated_response(QUESTION_OUTPUT.render_all(views, None))


class QuestionReactionApi(APIView):
    class InputSerializer(serializers.Serializer):
        reaction = serializers.ChoiceField(choices=Reaction.choices)

    OutputSerializer = REACTION_OUTPUT.serializer

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer},
        summary="React to my partner's revealed answer",
    )
    def post(self, request: Request, question_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reaction = services.question_react(
            user=requester(request),
            question_id=question_id,
            reaction=data.validated_data["reaction"],
        )
        return Response(REACTION_OUTPUT.render(reaction, None), status=status.HTTP_201_CREATED)
