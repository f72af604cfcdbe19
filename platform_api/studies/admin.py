from django.contrib import admin

from platform_api.studies.models import Study, Trial


class ReadOnly(admin.ModelAdmin):
    """Studies are made and moved on through the API; the admin shows them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TrialInline(admin.TabularInline):
    model = Trial
    fields = ["number", "state", "value", "job", "message"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Study)
class StudyAdmin(ReadOnly):
    list_display = ["id", "name", "owner", "template", "dataset", "status", "n_trials", "sampler", "pruner",
                    "created_at"]
    list_filter = ["status", "template", "sampler", "pruner"]
    inlines = [TrialInline]
