"""The curators' workplace: the prompt bank in the Django admin.

Curators (staff in the `curator` group, see migration 0003) may add, change, delete
and view prompts and read their edit history; nothing else. Couple content never
appears here: the daily-question admin (for superusers) shows metadata and counts,
and answers and reactions are not registered at all.

Per-prompt statistics are correlated subqueries over indexes (daily questions by
(prompt, status); check-in answers and love-map entries by prompt), so the changelist
runs a fixed number of queries however many questions were asked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from diff_match_patch import diff_match_patch  # type: ignore[import-untyped]
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import linebreaksbr
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from import_export import fields as ie_fields
from import_export import resources, widgets
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, JSON
from import_export.resources import Diff
from simple_history.admin import SimpleHistoryAdmin
from simple_history.utils import bulk_update_with_history

from nuzzle.couples.admin import ReadOnlyAdmin
from nuzzle.lib.validators import without_constraint_names
from prompts.models import DailyQuestion, Prompt, QuestionAnswer

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse
    from django.urls import URLPattern

NEVER = "—"  # shown for a prompt that was never asked
NOT_DAILY = "n/a"  # answer and skip rates of prompts that are not daily questions


# --- Statistics ----------------------------------------------------------------------
#
# What "times asked" counts depends on the kind of prompt, because each kind is asked
# somewhere else: a daily question is asked of a couple (a DailyQuestion row, here); a
# check-in question is asked in the check-in form and counted in the check-ins that
# answered it; a love-map topic counts the people who have answered it. Check-ins and
# love maps sit above prompts in the layering, so they register their count here
# (`usage_register`, from their admin modules) rather than prompts importing them.
# Answer and skip rates are about daily questions only.


@dataclass(frozen=True)
class UsageCounter:
    """Rows that each count one use of a prompt, and the field naming the prompt."""

    rows: QuerySet[Any]
    prompt_field: str


usage_counters: dict[str, UsageCounter] = {}


def usage_register(*, kind: str, rows: QuerySet[Any], prompt_field: str) -> None:
    """Count `rows` (one per use) as the "times asked" of prompts of `kind`."""
    usage_counters[kind] = UsageCounter(rows=rows, prompt_field=prompt_field)


def _count_per_prompt(counter: UsageCounter) -> Subquery:
    """A correlated subquery: how many of `counter.rows` name one prompt (an index
    lookup on the prompt's foreign key)."""
    field = counter.prompt_field
    return Subquery(
        counter.rows.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(value=Count(field))
        .values("value")
    )


def _per_prompt(value: Any) -> Subquery:
    """A correlated subquery: `value` aggregated over one prompt's daily questions."""
    return Subquery(
        DailyQuestion.objects.filter(prompt=OuterRef("pk"))
        .order_by()
        .values("prompt")
        .annotate(value=value)
        .values("value")
    )


def _rate(count: Count) -> Any:
    """`count` as a share (0..1) of the prompt's questions."""
    return Cast(count, FloatField()) / Cast(Count("prompt"), FloatField())


def with_statistics(queryset: QuerySet[Prompt]) -> QuerySet[Prompt]:
    """Times asked (for daily questions: every daily question, passed ones included;
    for other kinds: their registered count), answer rate (share revealed: both
    partners answered) and skip rate (share passed), per prompt.

    Only the columns prompt, status and revealed_at of daily questions are read (never
    `id`): times asked and skip rate come from the (prompt, status) index alone on
    PostgreSQL; the answer rate needs revealed_at, from the table until that index also
    covers it. Each prompt evaluates only the count of its own kind."""
    other_kinds = [
        When(kind=kind, then=_count_per_prompt(counter))
        for kind, counter in usage_counters.items()
        if kind != Prompt.Kind.QUESTION
    ]
    times_asked = Case(*other_kinds, default=_per_prompt(Count("prompt")))
    return queryset.annotate(
        stat_times_asked=Coalesce(times_asked, Value(0)),
        stat_answer_rate=_per_prompt(_rate(Count("revealed_at"))),
        stat_skip_rate=_per_prompt(
            _rate(Count("prompt", filter=Q(status=DailyQuestion.Status.PASSED)))
        ),
    )


def _percent(rate: float | None) -> str:
    return NEVER if rate is None else f"{round(rate * 100)}%"


# --- Import / export -------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of = + - @ (or a tab or carriage
# return before them) as a formula: a prompt's text or tag could then run in a
# curator's spreadsheet. Such cells are exported with a leading apostrophe, which
# spreadsheets read as "this is text". Cells that already start with apostrophes
# before such a character get one more, so the import can always take exactly one
# away: export and import round-trip every value. (A line feed counts too: the import
# reads files as text, which turns a carriage return into one.)
_FORMULA_LIKE = re.compile(r"'*[=+\-@\t\r\n]")


def neutralise_cell(value: Any) -> Any:
    """A cell as it is written to an exported CSV file (see `_FORMULA_LIKE`)."""
    if isinstance(value, str) and _FORMULA_LIKE.match(value):
        return f"'{value}"
    return value


def restore_cell(value: Any) -> Any:
    """A cell as it is read from a CSV file: `neutralise_cell` undone."""
    if isinstance(value, str) and value.startswith("'") and _FORMULA_LIKE.match(value, 1):
        return value[1:]
    return value


def _map_cells(dataset: Any, change: Callable[[Any], Any]) -> Any:
    """A copy of a tablib Dataset with `change` applied to every cell."""
    changed = type(dataset)(headers=dataset.headers, title=dataset.title)
    for row in dataset:
        changed.append([change(cell) for cell in row])
    return changed


class SpreadsheetSafeCSV(CSV):
    """CSV whose cells no spreadsheet runs as a formula, and which reads back what it
    wrote. Only CSV: JSON is not opened in spreadsheets."""

    def export_data(self, dataset: Any, **kwargs: Any) -> Any:
        return super().export_data(_map_cells(dataset, neutralise_cell), **kwargs)

    def create_dataset(self, in_stream: Any, **kwargs: Any) -> Any:
        return _map_cells(super().create_dataset(in_stream, **kwargs), restore_cell)


def lovemap_rule_errors(
    kind: str, domain: str | None, half_life_days: int | None
) -> dict[str, str]:
    """The check constraint `prompt_lovemap_has_domain_and_half_life`, in words, per
    field: a love-map topic needs a domain and a half-life. (Django's own message for
    the constraint would show a curator its database name.)"""
    if kind != Prompt.Kind.LOVEMAP:
        return {}
    errors = {}
    if not domain:
        errors["domain"] = "A love-map topic needs a domain."
    if not half_life_days:
        errors["half_life_days"] = "A love-map topic needs a half-life, in days."
    return errors


class TagsWidget(widgets.Widget):
    """Tags as "a, b" in CSV and as a JSON list in JSON; either is read back on import
    (a JSON list written into a CSV cell is accepted too)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, list):
            items = value
        else:
            text = str(value).strip()
            if text.startswith("["):
                try:
                    items = json.loads(text)
                except json.JSONDecodeError as error:
                    raise ValueError(f"tags: not a JSON list ({error.msg})") from error
                if not isinstance(items, list):
                    raise ValueError("tags: expected a list")
            else:
                items = text.split(",")
        return [str(item).strip() for item in items if str(item).strip()]

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        tags = [str(tag) for tag in (value or [])]
        if kwargs.get("force_native_type"):
            return tags
        return ", ".join(tags)


class PlainDiff(Diff):
    """The import preview's per-field diff as <ins>/<del> without inline `style`
    attributes (the CSP refuses them; import-export's import.css styles both)."""

    def as_html(self) -> list[str]:
        matcher = diff_match_patch()
        tags = {matcher.DIFF_INSERT: "ins", matcher.DIFF_DELETE: "del", matcher.DIFF_EQUAL: "span"}
        cells: list[str] = []
        for before, after in zip(self.left, self.right, strict=False):
            if before != after and self.new:
                before = ""
            diff = matcher.diff_main(str(before), str(after))
            matcher.diff_cleanupSemantic(diff)
            cells.append(
                format_html_join(
                    "",
                    "<{}>{}</{}>",
                    ((tags[op], text, tags[op]) for op, text in diff if text),
                )
            )
        return cells


class PromptResource(resources.ModelResource):
    """Prompts keyed by `key`: importing a file updates the prompts it names and adds
    the new ones, never duplicates. Ids and timestamps are neither exported nor read."""

    tags = ie_fields.Field(attribute="tags", column_name="tags", widget=TagsWidget())

    class Meta:
        model = Prompt
        import_id_fields = ("key",)
        fields = (
            "key",
            "text",
            "kind",
            "dimension",
            "depth",
            "domain",
            "half_life_days",
            "locale",
            "tags",
            "pack",
            "status",
            "sensitive",
        )
        exclude = ("id", "created_at", "updated_at")
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        # full_clean(): choices, lengths, the key's slug format, the check constraints.
        clean_model_instances = True

    def get_diff_class(self) -> type[Diff]:
        return PlainDiff

    def validate_instance(
        self,
        instance: Prompt,
        import_validation_errors: dict[str, Any] | None = None,
        validate_unique: bool = True,
    ) -> None:
        errors = dict(import_validation_errors or {})
        rule = lovemap_rule_errors(instance.kind, instance.domain, instance.half_life_days)
        for field, message in rule.items():
            errors.setdefault(field, ValidationError(message, code="invalid"))
        try:
            super().validate_instance(instance, errors, validate_unique)
        except ValidationError as exc:
            raise without_constraint_names(exc) from exc

    def before_save_instance(self, instance: Prompt, row: Any, **kwargs: Any) -> None:
        # The edit history names the curator who imported, and why.
        user = kwargs.get("user")
        if user is not None and user.is_authenticated:
            instance._history_user = user  # type: ignore[attr-defined]
        instance._change_reason = "Imported"  # type: ignore[attr-defined]


# --- The prompt admin -------------------------------------------------------------------


class TagsField(forms.CharField):
    """The JSON list of tags, edited as "a, b, c"."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(str(tag) for tag in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [tag.strip() for tag in text.split(",") if tag.strip()]


class PromptForm(forms.ModelForm):  # type: ignore[type-arg, unused-ignore]
    tags = TagsField(required=False, help_text="Comma-separated, e.g. food, travel.")

    class Meta:
        model = Prompt
        fields = (
            "key",
            "text",
            "kind",
            "dimension",
            "depth",
            "domain",
            "half_life_days",
            "sensitive",
            "status",
            "locale",
            "pack",
            "tags",
        )
        widgets = {"text": forms.Textarea(attrs={"rows": 3, "cols": 80})}

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        rule = lovemap_rule_errors(
            cleaned.get("kind", ""), cleaned.get("domain"), cleaned.get("half_life_days")
        )
        for field, message in rule.items():
            if field not in self.errors:
                self.add_error(field, message)
        return cleaned


@admin.register(Prompt)
class PromptAdmin(ImportExportModelAdmin, SimpleHistoryAdmin):
    form = PromptForm
    resource_classes = [PromptResource]
    formats = [SpreadsheetSafeCSV, JSON]
    # Django's changelist plus the published counts; import-export's extends it.
    change_list_template = "admin/prompts/prompt/change_list.html"
    # CSP-clean copies of the libraries' templates (no inline styles or handlers).
    export_template_name = "admin/prompts/prompt/export.html"
    object_history_list_template = "admin/prompts/prompt/object_history_list.html"

    # What a curator scans for first (status and usage) comes right after the text, so
    # it stays on screen on a laptop; the classification follows in one column (kind,
    # then dimension, depth, domain and the sensitive flag beneath it). Pack and locale
    # are filters only: the table fits beside the filters at 1280 px (admin-prompts.css).
    list_display = (
        "key",
        "short_text",
        "status",
        "times_asked",
        "answer_rate",
        "skip_rate",
        "classification",
    )
    list_display_links = ("key", "short_text")
    list_filter = ("kind", "status", "dimension", "depth", "domain", "sensitive", "pack", "locale")
    search_fields = ("key", "text", "tags")
    search_help_text = "Search by key, text or tag."
    ordering = ("kind", "key")
    list_per_page = 100
    actions = ("publish_selected", "retire_selected", "move_to_draft")
    prepopulated_fields = {"key": ("text",)}
    readonly_fields = (
        "preview",
        "times_asked",
        "answer_rate",
        "skip_rate",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("key", "text", "preview")}),
        (
            "What kind of prompt",
            {"fields": ("kind", "dimension", "depth", "domain", "half_life_days", "sensitive")},
        ),
        ("Publishing", {"fields": ("status", "locale", "pack", "tags")}),
        (
            "Usage",
            {
                "fields": ("times_asked", "answer_rate", "skip_rate", "created_at", "updated_at"),
                "description": "Counts only: no admin page shows what couples wrote.",
            },
        ),
    )
    history_list_display = ("status",)

    # --- queryset and columns ---

    def get_queryset(self, request: HttpRequest) -> QuerySet[Prompt]:
        return with_statistics(super().get_queryset(request))

    def get_readonly_fields(self, request: HttpRequest, obj: Prompt | None = None) -> Any:
        # The key is the prompt's identity for the bundled bank and for imports.
        readonly = tuple(super().get_readonly_fields(request, obj))
        return ("key", *readonly) if obj is not None else readonly

    def get_prepopulated_fields(self, request: HttpRequest, obj: Prompt | None = None) -> Any:
        return {} if obj is not None else super().get_prepopulated_fields(request, obj)

    @admin.display(description="Text", ordering="text")
    def short_text(self, obj: Prompt) -> str:
        return Truncator(obj.text).chars(140)

    @admin.display(description="Kind", ordering="kind")
    def classification(self, obj: Prompt) -> str:
        details = [obj.get_dimension_display(), obj.get_depth_display()]
        if obj.domain:
            details.append(obj.get_domain_display())
        if obj.sensitive:
            details.append("sensitive")
        return format_html(
            '{}<span class="classification-detail">{}</span>',
            obj.get_kind_display(),
            " · ".join(str(detail) for detail in details),
        )

    @admin.display(description="Times asked", ordering="stat_times_asked")
    def times_asked(self, obj: Prompt) -> str:
        count = getattr(obj, "stat_times_asked", 0) or 0
        return str(count) if count else NEVER

    @admin.display(description="Answer rate", ordering=F("stat_answer_rate").asc(nulls_first=True))
    def answer_rate(self, obj: Prompt) -> str:
        if obj.kind != Prompt.Kind.QUESTION:
            return NOT_DAILY
        return _percent(getattr(obj, "stat_answer_rate", None))

    @admin.display(description="Skip rate", ordering=F("stat_skip_rate").asc(nulls_first=True))
    def skip_rate(self, obj: Prompt) -> str:
        if obj.kind != Prompt.Kind.QUESTION:
            return NOT_DAILY
        return _percent(getattr(obj, "stat_skip_rate", None))

    @admin.display(description="Preview")
    def preview(self, obj: Prompt) -> str:
        if obj.pk is None:
            return "Save the prompt to preview it."
        described = [obj.get_kind_display(), obj.get_dimension_display(), obj.get_depth_display()]
        if obj.domain:
            described.append(obj.get_domain_display())
        if obj.sensitive:
            described.append("sensitive")
        url = reverse("admin:prompts_prompt_preview", args=[obj.pk])
        return format_html(
            '<div class="readonly"><blockquote>{}</blockquote><p class="help">{}</p>'
            '<p><a href="{}">See it as partners do</a></p></div>',
            linebreaksbr(obj.text, autoescape=True),
            " · ".join(str(part) for part in described),
            url,
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        published = dict(
            Prompt.objects.filter(status=Prompt.Status.PUBLISHED)
            .order_by()
            .values_list("kind")
            .annotate(n=Count("pk"))
            .values_list("kind", "n")
        )
        counts = [(label, published.get(kind, 0)) for kind, label in Prompt.Kind.choices]
        context = {
            "published_now": counts,
            # The wide table needs the page's width at 1280 px: no app list beside it
            # (the breadcrumbs lead back to the other pages).
            "is_nav_sidebar_enabled": False,
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)  # type: ignore[no-any-return, unused-ignore]

    # --- preview as partners see it ---

    def get_urls(self) -> list[URLPattern]:
        preview = path(
            "<path:object_id>/preview/",
            self.admin_site.admin_view(self.preview_view),
            name="prompts_prompt_preview",
        )
        return [preview, *super().get_urls()]

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        prompt = get_object_or_404(Prompt, pk=object_id)
        if not self.has_view_or_change_permission(request, prompt):
            raise PermissionDenied
        return TemplateResponse(
            request,
            "admin/prompts/prompt/preview.html",
            {
                "prompt": prompt,
                "change_url": reverse("admin:prompts_prompt_change", args=[prompt.pk]),
            },
        )

    # --- import / export permissions: the same as editing and viewing prompts ---

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_or_change_permission(request)

    def get_export_data(
        self, file_format: Any, request: HttpRequest, queryset: QuerySet[Prompt], **kwargs: Any
    ) -> Any:
        """As import-export's, but JSON gets real numbers, booleans, nulls and lists
        (import-export keeps native types only for binary formats)."""
        if not isinstance(file_format, JSON):
            return super().get_export_data(file_format, request, queryset, **kwargs)
        if not self.has_export_permission(request):
            raise PermissionDenied
        data = self.get_data_for_export(request, queryset, force_native_type=True, **kwargs)
        exported = file_format.export_data(data)
        encoding = kwargs.get("encoding")
        return exported.encode(encoding) if encoding else exported

    # --- bulk actions ---

    def _set_status(
        self, request: HttpRequest, queryset: QuerySet[Prompt], status: Prompt.Status, verb: str
    ) -> None:
        """Change the status of the selected prompts that need it: one UPDATE, one
        INSERT of history rows (so the edit history shows who did it), one log insert."""
        changing = list(Prompt.objects.filter(pk__in=queryset.values("pk")).exclude(status=status))
        now = timezone.now()
        for prompt in changing:
            prompt.status = status
            prompt.updated_at = now
        if changing:
            bulk_update_with_history(
                changing,
                Prompt,
                ["status", "updated_at"],
                default_user=request.user,
                default_change_reason=f"{verb} in bulk",
            )
            LogEntry.objects.log_actions(
                user_id=cast("int", request.user.pk),
                queryset=changing,
                action_flag=CHANGE,
                change_message=[{"changed": {"fields": ["Status"]}}],
            )
        unchanged = queryset.count() - len(changing)
        message = f"{verb} {len(changing)} prompt{'s' if len(changing) != 1 else ''}."
        if unchanged:
            message += f" {unchanged} already {status.label.lower()}."
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(description="Publish selected prompts", permissions=["change"])
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[Prompt]) -> None:
        self._set_status(request, queryset, Prompt.Status.PUBLISHED, "Published")

    @admin.action(description="Retire selected prompts", permissions=["change"])
    def retire_selected(self, request: HttpRequest, queryset: QuerySet[Prompt]) -> None:
        self._set_status(request, queryset, Prompt.Status.RETIRED, "Retired")

    @admin.action(description="Move selected prompts to draft", permissions=["change"])
    def move_to_draft(self, request: HttpRequest, queryset: QuerySet[Prompt]) -> None:
        self._set_status(request, queryset, Prompt.Status.DRAFT, "Moved to draft")


# --- Daily questions: metadata for operators, never what anyone wrote -------------------


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
