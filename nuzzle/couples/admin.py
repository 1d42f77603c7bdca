"""Accounts, couples and invites in the Django admin: for operators (superusers).

Principle 3, private by design: the admin shows account data an operator needs to
manage accounts, and metadata of couples and invites; never what anyone wrote, never
an invite code (it is a credential), never a person's sensitive-question preference.
Curators have no permission on any of these models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Count, QuerySet

from nuzzle.couples.models import Couple, Invite, User

if TYPE_CHECKING:
    from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg, unused-ignore]
    """Viewable by superusers (and anyone explicitly granted `view`), never editable in
    the admin: these rows change only through the app's own flows (pairing, unpairing,
    account deletion), which keep their invariants."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "display_name", "timezone")
        field_classes: dict[str, Any] = {}


class UserChangingForm(UserChangeForm):  # type: ignore[type-arg, unused-ignore]
    class Meta:
        model = User
        fields = "__all__"
        field_classes: dict[str, Any] = {}


@admin.register(User)
class UserAdmin(DjangoUserAdmin):  # type: ignore[type-arg, unused-ignore]
    """Django's user admin for an email login (no username, no first/last name)."""

    form = UserChangingForm
    add_form = UserCreationForm
    list_display = (
        "id",
        "email",
        "display_name",
        "timezone",
        "is_active",
        "is_staff",
        "date_joined",
    )
    list_display_links = ("id", "email")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("email", "display_name")
    ordering = ("-date_joined", "-id")
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("display_name", "timezone")}),
        (
            "Permissions",
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "description": "Curators are staff in the “curator” group: they manage the "
                "prompt bank and nothing else.",
            },
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "display_name",
                    "timezone",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )


@admin.register(Couple)
class CoupleAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "ended_at", "timezone", "member_count")
    list_filter = (("ended_at", admin.EmptyFieldListFilter),)
    ordering = ("-created_at", "-id")
    fields = ("id", "created_at", "ended_at", "ended_by", "timezone", "member_count")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Couple]:
        return super().get_queryset(request).annotate(stat_member_count=Count("memberships"))

    @admin.display(description="Members", ordering="stat_member_count")
    def member_count(self, obj: Couple) -> int:
        return getattr(obj, "stat_member_count", 0)


@admin.register(Invite)
class InviteAdmin(ReadOnlyAdmin):
    """Invite metadata. The code is a credential (whoever has it can pair with the
    inviter), so it is not shown."""

    list_display = (
        "id",
        "inviter_id",
        "created_at",
        "expires_at",
        "revoked_at",
        "accepted_at",
        "accepted_by_id",
        "couple_id",
    )
    ordering = ("-created_at", "-id")
    fields = (
        "id",
        "inviter",
        "created_at",
        "expires_at",
        "revoked_at",
        "accepted_at",
        "accepted_by",
        "couple",
    )
    readonly_fields = fields
