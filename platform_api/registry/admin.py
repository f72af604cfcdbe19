"""Staff's view of every user's model versions (what each succeeded job registered) and of the
pretrained weights files users registered."""
from django.contrib import admin

from platform_api.registry.models import ModelVersion, PretrainedWeights
from platform_api.staff_admin import ReadOnlyAdmin, listed, pretty_json, short_time


def metrics_summary(metrics: dict) -> str:
    """The top-level numbers of a model's metrics, e.g. "accuracy 0.93 · macro_f1 0.91"."""
    numbers = [(name, value) for name, value in (metrics or {}).items()
               if isinstance(value, (int, float)) and not isinstance(value, bool)]
    return " · ".join(f"{name} {value:.3g}" for name, value in numbers[:4]) or "-"


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ["id", "owner", "template", "dataset_name", "job_id", "metrics_shown", "created"]
    list_filter = [("owner", admin.RelatedOnlyFieldListFilter), ("template", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["owner", "template", "dataset", "job"]
    search_fields = ["owner__username", "template__id", "dataset__name"]
    fields = [("owner", "template", "trainer"), ("job", "dataset"), "classes_shown", "artifact_key", "created_at",
              "hyperparameters_shown", "metrics_detail"]

    @admin.display(description="created", ordering="created_at")
    def created(self, model):
        return short_time(model.created_at)

    @admin.display(description="dataset", ordering="dataset__name")
    def dataset_name(self, model):
        return model.dataset.name

    @admin.display(description="job", ordering="job")
    def job_id(self, model):
        return model.job_id

    @admin.display(description="metrics (best epoch)")
    def metrics_shown(self, model):
        return metrics_summary(model.metrics)

    @admin.display(description="hyperparameters")
    def hyperparameters_shown(self, model):
        return pretty_json(model.hyperparameters)

    @admin.display(description="metrics (best epoch)")
    def metrics_detail(self, model):
        return pretty_json(model.metrics)

    @admin.display(description="classes")
    def classes_shown(self, model):
        return listed(model.classes)


@admin.register(PretrainedWeights)
class PretrainedWeightsAdmin(ReadOnlyAdmin):
    list_display = ["id", "owner", "architecture", "name", "size", "created"]
    list_filter = [("owner", admin.RelatedOnlyFieldListFilter), "architecture"]
    list_select_related = ["owner"]
    search_fields = ["owner__username", "name", "architecture"]
    fields = [("owner", "architecture", "name"), ("size", "created_at"), "file_key"]

    @admin.display(description="size", ordering="size_bytes")
    def size(self, weights):
        return f"{weights.size_bytes / 1e6:.1f} MB"

    @admin.display(description="created", ordering="created_at")
    def created(self, weights):
        return short_time(weights.created_at)
