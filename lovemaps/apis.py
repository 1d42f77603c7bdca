"""JSON API for love maps (docs/api.md: Love maps)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lovemaps import services
from lovemaps.models import ANSWER_MAX_LENGTH, GUESS_MAX_LENGTH, GuessRating, LovemapEntry
from lovemaps.selectors.freshness import Freshness, freshness
from lovemaps.selectors.maps import my_map, partner_map
from lovemaps.selectors.topics import lovemap_topics
from nuzzle.couples.scoping import requester
from nuzzle.lib.api import PageQuerySerializer, Pagination, WordsField, paginated
from nuzzle.lib.errors import NotFound
from prompts.models import Prompt


class TopicOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    domain = serializers.ChoiceField(choices=Prompt.Domain.choices)
    half_life_days = serializers.IntegerField()


class GuessOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    guess = serializers.CharField()
    rating = serializers.ChoiceField(choices=GuessRating.choices, allow_null=True)


class MyEntryOutputSerializer(serializers.Serializer):
    topic = TopicOutputSerializer()
    answer = serializers.CharField()
    version = serializers.IntegerField()
    confirmed_at = serializers.DateTimeField()
    stale_at = serializers.DateTimeField()
    stale = serializers.BooleanField()
    guesses = GuessOutputSerializer(many=True)


class PartnerTopicOutputSerializer(serializers.Serializer):
    topic = TopicOutputSerializer()
    status = serializers.ChoiceField(choices=["unseen", "changed", "current"])
    answer = serializers.CharField(allow_null=True, help_text="Null unless `current`.")
    updated_at = serializers.DateTimeField()
    guess = GuessOutputSerializer(allow_null=True)


def topic_payload(topic: Prompt) -> dict[str, Any]:
    return {
        "id": topic.pk,
        "text": topic.text,
        "domain": topic.domain,
        "half_life_days": topic.half_life_days,
    }


def entry_payload(entry: LovemapEntry, *, stale: bool, guesses: list[Any]) -> dict[str, Any]:
    return {
        "topic": topic_payload(entry.topic),
        "answer": entry.text,
        "version": entry.version,
        "confirmed_at": entry.confirmed_at.isoformat(),
        "stale_at": entry.stale_at.isoformat(),
        "stale": stale,
        "guesses": [{"id": g.id, "guess": g.guess, "rating": g.rating} for g in guesses],
    }


def _mine_payload(request: Request, topic_id: int) -> dict[str, Any]:
    [found] = my_map(user=requester(request), topic_id=topic_id)
    return entry_payload(found.entry, stale=found.stale, guesses=found.guesses)


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
        return paginator.get_paginated_response([topic_payload(t) for t in page or []])


class LovemapMineApi(APIView):
    @extend_schema(responses={200: MyEntryOutputSerializer(many=True)}, summary="My map")
    def get(self, request: Request) -> Response:
        rows = my_map(user=requester(request))
        return Response([entry_payload(r.entry, stale=r.stale, guesses=r.guesses) for r in rows])


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
    def get(self, request: Request) -> Response:
        rows = partner_map(user=requester(request))
        return Response(
            [
                {
                    "topic": topic_payload(r.topic),
                    "status": r.status,
                    "answer": r.answer,
                    "updated_at": r.updated_at.isoformat(),
                    "guess": (
                        {"id": r.guess_id, "guess": r.guess, "rating": r.rating}
                        if r.guess_id
                        else None
                    ),
                }
                for r in rows
            ]
        )


class LovemapRevealApi(APIView):
    class InputSerializer(serializers.Serializer):
        guess = WordsField(max_length=GUESS_MAX_LENGTH, required=False, allow_blank=True)

    class OutputSerializer(serializers.Serializer):
        topic = TopicOutputSerializer()
        answer = serializers.CharField()
        guess = GuessOutputSerializer(allow_null=True)

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
        return Response(
            {
                "topic": topic_payload(entry.topic),
                "answer": entry.text,
                "guess": (
                    {"id": reveal.pk, "guess": reveal.guess, "rating": reveal.rating or None}
                    if reveal.guess
                    else None
                ),
            }
        )


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
        return Response({"id": reveal.pk, "guess": reveal.guess, "rating": reveal.rating})


class FreshnessOutputSerializer(serializers.Serializer):
    class MineSerializer(serializers.Serializer):
        stale = serializers.IntegerField()
        total = serializers.IntegerField()

    class PartnerSerializer(serializers.Serializer):
        current = serializers.IntegerField()
        changed = serializers.IntegerField()
        unseen = serializers.IntegerField()

    class DomainSerializer(serializers.Serializer):
        domain = serializers.ChoiceField(choices=Prompt.Domain.choices)
        # A serializer field named like Field.label: fine at runtime, confusing to mypy.
        label = serializers.CharField()  # type: ignore[assignment]
        mine_stale = serializers.IntegerField()
        mine_total = serializers.IntegerField()
        partner_current = serializers.IntegerField()
        partner_changed = serializers.IntegerField()
        partner_unseen = serializers.IntegerField()

    mine = MineSerializer()
    partner = PartnerSerializer()
    domains = DomainSerializer(many=True)
    stalest_domain = serializers.CharField(allow_null=True)


def freshness_payload(fresh: Freshness) -> dict[str, Any]:
    stalest = fresh.stalest_domain
    return {
        "mine": {"stale": fresh.mine_stale, "total": fresh.mine_total},
        "partner": {
            "current": fresh.partner_current,
            "changed": fresh.partner_changed,
            "unseen": fresh.partner_unseen,
        },
        "domains": [d.__dict__ for d in fresh.domains],
        "stalest_domain": stalest.domain if stalest else None,
    }


class LovemapFreshnessApi(APIView):
    @extend_schema(responses={200: FreshnessOutputSerializer}, summary="Love-map freshness")
    def get(self, request: Request) -> Response:
        return Response(freshness_payload(freshness(user=requester(request))))
