"""JSON API for love maps (docs/api.md: Love maps)."""

from __future__ import annotations

from typing import Any, Protocol

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lovemaps import services, statements
from lovemaps.models import (
    ANSWER_MAX_LENGTH,
    GUESS_MAX_LENGTH,
    GuessRating,
    LovemapEntry,
    LovemapReveal,
)
from lovemaps.selectors.freshness import DomainFreshness, Freshness, freshness
from lovemaps.selectors.maps import MyTopic, PartnerTopic, my_map, partner_map
from lovemaps.selectors.topics import lovemap_topics
from nuzzle.couples.auth import requester
from nuzzle.lib.api import (
    Output,
    PageQuerySerializer,
    Pagination,
    WordsField,
    json_text,
    paginated,
)
from nuzzle.lib.errors import NotFound
from prompts.models import Prompt


class _Guess(Protocol):
    """What a guess shows: a selector's `Guess`, or the reveal it rides on."""

    @property
    def id(self) -> int: ...
    @property
    def guess(self) -> str: ...
    @property
    def rating(self) -> str | None: ...


# Each output is written once (nuzzle.lib.api.Output): its schema, and its payload as
# plain dicts from what the selectors and services return.
TOPIC_OUTPUT = Output[Prompt, None](
    "TopicOutputSerializer",
    id=(serializers.IntegerField(), "pk"),
    text=(serializers.CharField(), "text"),
    domain=(serializers.ChoiceField(choices=Prompt.Domain.choices), "domain"),
    half_life_days=(serializers.IntegerField(), "half_life_days"),
)
GUESS_OUTPUT = Output[_Guess, None](
    "GuessOutputSerializer",
    id=(serializers.IntegerField(), "id"),
    guess=(serializers.CharField(), "guess"),
    # A reveal's rating is "" until rated.
    rating=(
        serializers.ChoiceField(choices=GuessRating.choices, allow_null=True),
        lambda guess, _: guess.rating or None,
    ),
)
MY_ENTRY_OUTPUT = Output[MyTopic, None](
    "MyEntryOutputSerializer",
    topic=(TOPIC_OUTPUT.serializer(), lambda row, _: TOPIC_OUTPUT.render(row.topic, None)),
    answer=(serializers.CharField(), "entry.text"),
    version=(serializers.IntegerField(), "entry.version"),
    confirmed_at=(serializers.DateTimeField(), lambda row, _: row.entry.confirmed_at.isoformat()),
    stale_at=(serializers.DateTimeField(), lambda row, _: row.entry.stale_at.isoformat()),
    stale=(serializers.BooleanField(), "stale"),
    guesses=(
        GUESS_OUTPUT.serializer(many=True),
        lambda row, _: GUESS_OUTPUT.render_all(row.guesses, None),
    ),
)
PARTNER_TOPIC_OUTPUT = Output[PartnerTopic, None](
    "PartnerTopicOutputSerializer",
    topic=(TOPIC_OUTPUT.serializer(), lambda row, _: TOPIC_OUTPUT.render(row.topic, None)),
    status=(serializers.ChoiceField(choices=["unseen", "changed", "current"]), "status"),
    answer=(serializers.CharField(allow_null=True, help_text="Null unless `current`."), "answer"),
    updated_at=(serializers.DateTimeField(), lambda row, _: row.updated_at.isoformat()),
    guess=(
        GUESS_OUTPUT.serializer(allow_null=True),
        lambda row, _: GUESS_OUTPUT.render(guess, None) if (guess := row.my_guess) else None,
    ),
)
# The entry revealed, with the reveal (and the guess on it) as the context.
REVEAL_OUTPUT = Output[LovemapEntry, LovemapReveal](
    "LovemapRevealApi.OutputSerializer",
    topic=(TOPIC_OUTPUT.serializer(), lambda entry, _: TOPIC_OUTPUT.render(entry.topic, None)),
    answer=(serializers.CharField(), "text"),
    guess=(
        GUESS_OUTPUT.serializer(allow_null=True),
        lambda _, reveal: GUESS_OUTPUT.render(reveal, None) if reveal.guess else None,
    ),
)
FRESHNESS_MINE_OUTPUT = Output[Freshness, None](
    "FreshnessOutputSerializer.MineSerializer",
    stale=(serializers.IntegerField(), "mine_stale"),
    total=(serializers.IntegerField(), "mine_total"),
)
FRESHNESS_PARTNER_OUTPUT = Output[Freshness, None](
    "FreshnessOutputSerializer.PartnerSerializer",
    current=(serializers.IntegerField(), "partner_current"),
    changed=(serializers.IntegerField(), "partner_changed"),
    unseen=(serializers.IntegerField(), "partner_unseen"),
)
FRESHNESS_DOMAIN_OUTPUT = Output[DomainFreshness, None](
    "FreshnessOutputSerializer.DomainSerializer",
    domain=(serializers.ChoiceField(choices=Prompt.Domain.choices), "domain"),
    label=(serializers.CharField(), "label"),
    mine_stale=(serializers.IntegerField(), "mine_stale"),
    mine_total=(serializers.IntegerField(), "mine_total"),
    partner_current=(serializers.IntegerField(), "partner_current"),
    partner_changed=(serializers.IntegerField(), "partner_changed"),
    partner_unseen=(serializers.IntegerField(), "partner_unseen"),
)
FRESHNESS_OUTPUT = Output[Freshness, None](
    "FreshnessOutputSerializer",
    mine=(
        FRESHNESS_MINE_OUTPUT.serializer(),
        lambda fresh, _: FRESHNESS_MINE_OUTPUT.render(fresh, None),
    ),
    partner=(
        FRESHNESS_PARTNER_OUTPUT.serializer(),
        lambda fresh, _: FRESHNESS_PARTNER_OUTPUT.render(fresh, None),
    ),
    domains=(
        FRESHNESS_DOMAIN_OUTPUT.serializer(many=True),
        lambda fresh, _: FRESHNESS_DOMAIN_OUTPUT.render_all(fresh.domains, None),
    ),
    stalest_domain=(
        serializers.CharField(allow_null=True),
        lambda fresh, _: stalest.domain if (stalest := fresh.stalest_domain) else None,
    ),
)
TopicOutputSerializer = TOPIC_OUTPUT.serializer
GuessOutputSerializer = GUESS_OUTPUT.serializer
MyEntryOutputSerializer = MY_ENTRY_OUTPUT.serializer
PartnerTopicOutputSerializer = PARTNER_TOPIC_OUTPUT.serializer
FreshnessOutputSerializer = FRESHNESS_OUTPUT.serializer


def freshness_payload(fresh: Freshness) -> dict[str, Any]:
    return FRESHNESS_OUTPUT.render(fresh, None)


def _mine_payload(request: Request, topic_id: int) -> dict[str, Any]:
    [found] = my_map(user=requester(request), topic_id=topic_id)
    return MY_ENTRY_OUTPUT.render(found, None)


class LovemapTopicListApi(APIView):
    @extend_schema(
        parameters=[PageQuerySerializer],
        responses={200: paginated(TopicOutputSerializer, name="PaginatedTopicList")},
        summary="Love-map topics",
    )
    def get(self, request: Request) -> Response:
        PageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        paginator = Pagination()
        page = paginator.paginate_queryset(lovemap_topics(), request, view=self)
        return paginator.get_paginated_response(TOPIC_OUTPUT.render_all(page or [], None))


class LovemapMineApi(APIView):
    @extend_schema(responses={200: MyEntryOutputSerializer(many=True)}, summary="My map")
    def get(self, request: Request) -> Response:
        rows = my_map(user=requester(request))
        return Response(MY_ENTRY_OUTPUT.render_all(rows, None))


class LovemapMineTopicApi(APIView):
    class InputSerializer(serializers.Serializer):
        answer = WordsField(max_length=ANSWER_MAX_LENGTH)

    @extend_schema(
        request=InputSerializer,
        responses={200: MyEntryOutputSerializer},
        summary="Answer a topic about myself (a new version)",
    )
    def put(self, request: Request, topic_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.lovemap_answer(
            user=requester(request), topic_id=topic_id, text=data.validated_data["answer"]
        )
        return Response(_mine_payload(request, topic_id))


class LovemapConfirmApi(APIView):
    @extend_schema(request=None, responses={200: MyEntryOutputSerializer}, summary="Still true")
    def post(self, request: Request, topic_id: int) -> Response:
        services.lovemap_confirm(user=requester(request), topic_id=topic_id)
        return Response(_mine_payload(request, topic_id))


class LovemapPartnerApi(APIView):
    @extend_schema(
        responses={200: PartnerTopicOutputSerializer(many=True)},
        summary="My map of my partner (text only for topics I'm current on)",
    )
    def get(self, request: Request) -> HttpResponse:
        user = requester(request)
        if statements.PARTNER_MAP.available():
            return json_text(statements.partner_map_json(user=user))
        return Response(PARTNER_TOPIC_OUTPUT.render_all(partner_map(user=user), None))


class LovemapRevealApi(APIView):
    class InputSerializer(serializers.Serializer):
        guess = WordsField(max_length=GUESS_MAX_LENGTH, required=False, allow_blank=True)

    OutputSerializer = REVEAL_OUTPUT.serializer

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer},
        summary="Reveal my partner's answer (after an optional guess)",
    )
    def post(self, request: Request, topic_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reveal = services.lovemap_reveal(
            user=requester(request), topic_id=topic_id, guess=data.validated_data.get("guess")
        )
        entry = reveal.entry
        if entry is None:  # only once its author deleted their account, never just revealed
            raise NotFound("No such topic in your partner's map.")
        return Response(REVEAL_OUTPUT.render(entry, reveal))


class LovemapGuessRatingApi(APIView):
    class InputSerializer(serializers.Serializer):
        rating = serializers.ChoiceField(choices=GuessRating.choices)

    @extend_schema(
        request=InputSerializer,
        responses={200: GuessOutputSerializer},
        summary="Rate my partner's guess about me",
    )
    def post(self, request: Request, guess_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reveal = services.lovemap_guess_rate(
            user=requester(request), guess_id=guess_id, rating=data.validated_data["rating"]
        )
        return Response(GUESS_OUTPUT.render(reveal, None))


class LovemapFreshnessApi(APIView):
    @extend_schema(responses={200: FreshnessOutputSerializer}, summary="Love-map freshness")
    def get(self, request: Request) -> Response:
        return Response(freshness_payload(freshness(user=requester(request))))
