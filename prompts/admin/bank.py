"""The prompt bank in the admin, where curators work: the changelist with usage
statistics, editing with a preview as partners see a prompt, import and export, the
edit history and bulk status changes.

Curators (staff in the `curator` group, see migration 0003) may add, change, delete and
view prompts and read their edit history; nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, QuerySet
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import linebreaksbr
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import JSON
from simple_history.admin import SimpleHistoryAdmin
from simple_history.utils import bulk_update_with_history

from prompts.admin.forms import PromptForm
from prompts.admin.resources import PromptResource, SpreadsheetSafeCSV
from prompts.admin.statistics import NEVER, NOT_DAILY, percent, with_statistics
from prompts.models import Prompt

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse
    from django.urls import URLPattern


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
        return percent(getattr(obj, "stat_answer_rate", None))

    @admin.display(description="Skip rate", ordering=F("stat_skip_rate").asc(nulls_first=True))
    def skip_rate(self, obj: Prompt) -> str:
        if obj.kind != Prompt.Kind.QUESTION:
            return NOT_DAILY
        return percent(getattr(obj, "stat_skip_rate", None))

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
