"""What the staff views of datasets, jobs, models and deployments share: every row readable,
none added, edited or deleted here. Rows change only through their services, which the
views' actions call (cancel a job, stop a deployment), as the REST API does."""
from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html


class ReadOnlyAdmin(admin.ModelAdmin):
    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field for line in self.fields or () for field in (line if isinstance(line, tuple) else (line,))]


def pretty_json(value: Any):
    """A JSON value as an indented block that wraps (hyperparameters, metrics)."""
    if value in (None, {}, []):
        return "-"
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', json.dumps(value, indent=2))


def allowed(request, permission: str) -> bool:
    return request.user.has_perm(permission)


def short_time(moment) -> str:
    """A list column's time, e.g. 2026-01-31 14:05 (the detail page has the full one)."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"


def listed(values) -> str:
    """A list of names as a person reads it: rose, tulip."""
    return ", ".join(str(value) for value in values) or "-"
