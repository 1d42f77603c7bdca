"""Nudges in the Django admin: metadata for operators (superusers), read-only.

What an operator needs to answer "did Robin's nudge go out, and if not, why?": kind,
status, times, attempts and the reason, by user id. No email is rendered here, and the
outbox's `context` holds only counts and flags (kinds.py), never anyone's words.
Nothing is editable here: schedule rows move only through the services (so due times
stay consistent with preferences), and an outbox row is the record that a nudge was
sent — deleting one would let the same nudge go out again. Curators have no permission
on any of these models (prompts migration 0003).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin

from nuzzle.couples.admin import ReadOnlyAdmin
from nuzzle.nudges.models import Nudge, NudgePreferences, NudgeSchedule
from nuzzle.nudges.schedule import mask_to_days

if TYPE_CHECKING:
    from django.http import HttpRequest

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class PersonsRowsAdmin(ReadOnlyAdmin):
    """Read-only, and never deleted on its own pages. These rows belong to one person
    and cascade with the account, so when an operator deletes a user (another model's
    delete page) they may go along; otherwise every account, each of which has
    preferences and schedule rows, would become undeletable in the admin."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        match = getattr(request, "resolver_match", None)
        own_pages = f"{self.opts.app_label}_{self.opts.model_name}_"
        if obj is None or match is None or (match.url_name or "").startswith(own_pages):
            return False
        return admin.ModelAdmin.has_delete_permission(self, request, obj)


@admin.register(Nudge)
class NudgeAdmin(PersonsRowsAdmin):
    list_display = (
        "id",
        "user_id",
        "kind",
        "status",
        "scheduled_for",
        "sent_at",
        "sent_via",
        "attempts",
        "reason",
    )
    list_filter = ("status", "kind", "sent_via")
    ordering = ("-scheduled_for", "-id")
    # The outbox grows by people × nudges a day: no second, unfiltered COUNT(*).
    show_full_result_count = False
    fields = (
        "id",
        "user_id",
        "kind",
        "period",
        "local_date",
        "status",
        "reason",
        "attempts",
        "scheduled_for",
        "next_attempt_at",
        "lease_until",
        "sent_at",
        "sent_via",
        "created_at",
        "context",
    )
    readonly_fields = fields


@admin.register(NudgeSchedule)
class NudgeScheduleAdmin(PersonsRowsAdmin):
    list_display = ("id", "user_id", "kind", "enabled", "next_due_at")
    list_filter = ("kind", "enabled")
    ordering = ("next_due_at", "id")
    show_full_result_count = False
    fields = list_display
    readonly_fields = fields


@admin.register(NudgePreferences)
class NudgePreferencesAdmin(PersonsRowsAdmin):
    # `last_active_at` is left out on purpose: the model promises it is shown to no one.
    list_display = (
        "user_id",
        "nudge_time",
        "weekdays",
        "quiet_start",
        "quiet_end",
        "paused_until",
        "daily_cap",
        "suppressed_at",
        "updated_at",
    )
    list_filter = (("suppressed_at", admin.EmptyFieldListFilter),)
    ordering = ("-updated_at", "user_id")
    show_full_result_count = False
    fields = (*list_display, "suppressed_reason")
    readonly_fields = fields

    @admin.display(description="Days")
    def weekdays(self, obj: NudgePreferences) -> str:
        return " ".join(WEEKDAYS[day] for day in mask_to_days(obj.days)) or "none"
