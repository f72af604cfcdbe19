"""Staff's view of every user's datasets: format, import status and the error that failed one."""
from django.contrib import admin
from django.utils.text import Truncator

from platform_api.datasets.models import Dataset
from platform_api.staff_admin import ReadOnlyAdmin, listed, pretty_json, short_time


@admin.register(Dataset)
class DatasetAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "owner", "format", "status", "num_images", "class_count", "error_brief",
                    "created"]
    list_display_links = ["id", "name"]
    list_filter = ["status", "format", "task", ("owner", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__username"]
    fields = [("name", "owner"), ("format", "task", "status"), "error", ("num_images", "classes_shown"), "splits_shown",
              ("archive_key", "content_key"), ("created_at", "updated_at")]

    @admin.display(description="created", ordering="created_at")
    def created(self, dataset):
        return short_time(dataset.created_at)

    @admin.display(description="classes")
    def class_count(self, dataset):
        return len(dataset.classes)

    @admin.display(description="error")
    def error_brief(self, dataset):
        return Truncator(dataset.error).chars(60) or "-"

    @admin.display(description="splits")
    def splits_shown(self, dataset):
        return pretty_json(dataset.splits)

    @admin.display(description="classes")
    def classes_shown(self, dataset):
        return listed(dataset.classes)
