"""Check-ins in the Django admin: metadata for operators (superusers) only.

No mood, no energy, no answer or reply text: a check-in's content belongs to its author
(and, if shared, their partner). Counts of answers and responses are shown instead.
Curators have no permission here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.db.models import Count, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from checkins.models import Checkin, CheckinAnswer, CheckinResponse
from nuzzle.couples.admin import ReadOnlyAdmin
from prompts.admin import usage_register
from prompts.models import Prompt

if TYPE_CHECKING:
    from django.http import HttpRequest


def _count_per_checkin(model: type[CheckinAnswer] | type[CheckinResponse]) -> Coalesce:
    rows = (
        model.objects.filter(checkin=OuterRef("pk"))
        .order_by()
        .values("checkin")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), Value(0))


@admin.register(Checkin)
class CheckinAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "author_id",
        "couple_id",
        "local_date",
        "visibility",
        "created_at",
        "answer_count",
        "response_count",
    )
    list_filter = ("visibility",)
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    fields = (
        "id",
        "author_id",
        "couple_id",
        "local_date",
        "visibility",
        "created_at",
        "updated_at",
        "answer_count",
        "response_count",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Checkin]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                stat_answer_count=_count_per_checkin(CheckinAnswer),
                stat_response_count=_count_per_checkin(CheckinResponse),
            )
        )

    @admin.display(description="Author", ordering="author_id")
    def author_id(self, obj: Checkin) -> int:
        return obj.author_id

    @admin.display(description="Couple", ordering="couple_id")
    def couple_id(self, obj: Checkin) -> int | None:
        return obj.couple_id

    @admin.display(description="Answers", ordering="stat_answer_count")
    def answer_count(self, obj: Checkin) -> int:
        return getattr(obj, "stat_answer_count", 0)

    @admin.display(description="Responses", ordering="stat_response_count")
    def response_count(self, obj: Checkin) -> int:
        return getattr(obj, "stat_response_count", 0)


# A check-in question's "times asked" in the prompt bank: the check-ins that answered it.
usage_register(kind=Prompt.Kind.CHECKIN, rows=CheckinAnswer.objects.all(), prompt_field="prompt")
