"""Daily questions in the admin, for operators (superusers): metadata and counts, never
what anyone wrote. Answers and reactions are not registered at all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.db.models import Count, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from nuzzle.couples.admin import ReadOnlyAdmin
from prompts.models import DailyQuestion, QuestionAnswer

if TYPE_CHECKING:
    from django.http import HttpRequest


@admin.register(DailyQuestion)
class DailyQuestionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "couple_id",
        "prompt",
        "couple_date",
        "status",
        "revealed_at",
        "answer_count",
    )
    list_filter = ("status",)
    list_select_related = ("prompt",)
    ordering = ("-couple_date", "-id")
    show_full_result_count = False
    fields = (
        "id",
        "couple_id",
        "prompt",
        "couple_date",
        "status",
        "created_at",
        "closes_at",
        "revealed_at",
        "answer_count",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[DailyQuestion]:
        answers = (
            QuestionAnswer.objects.filter(question=OuterRef("pk"))
            .order_by()
            .values("question")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(stat_answer_count=Coalesce(Subquery(answers), Value(0)))
        )

    @admin.display(description="Couple", ordering="couple_id")
    def couple_id(self, obj: DailyQuestion) -> int:
        return obj.couple_id

    @admin.display(description="Answers", ordering="stat_answer_count")
    def answer_count(self, obj: DailyQuestion) -> int:
        return getattr(obj, "stat_answer_count", 0)
