"""Nuzzle's admin site: Django's, with the log-in rate limited like every other log-in.

Curators' and operators' passwords open more than anyone's, so they get at least the
same protection: `/admin/login/` counts in the same buckets as `/login/` and
`POST /api/v1/auth/token` (scope "auth": per client address, and per email), so
guessing one staff password across the three gains nothing.

Installed as `nuzzle.lib.admin.AdminConfig` in place of `django.contrib.admin`;
`admin.site` and `@admin.register` then mean this site.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.http import HttpRequest, HttpResponse

from nuzzle.lib.ratelimit import limited


class AdminSite(admin.AdminSite):
    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "POST" and (
            refused := limited(request, "auth", email=request.POST.get("username", ""))
        ):
            return refused
        return super().login(request, extra_context)


class AdminConfig(DjangoAdminConfig):
    default_site = "nuzzle.lib.admin.AdminSite"
