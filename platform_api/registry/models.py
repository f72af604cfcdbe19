from django.conf import settings
from django.db import models


class ModelVersion(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="model_versions")
    job = models.OneToOneField("training.Job", on_delete=models.PROTECT, related_name="model_version")
    template = models.ForeignKey("templates_registry.Template", on_delete=models.PROTECT, related_name="model_versions")
    dataset = models.ForeignKey("datasets.Dataset", on_delete=models.PROTECT, related_name="model_versions")
    trainer = models.CharField(max_length=100)
    hyperparameters = models.JSONField(default=dict)
    metrics = models.JSONField(default=dict)
    classes = models.JSONField(default=list)
    artifact_key = models.CharField(max_length=500, help_text="storage prefix of the artifact directory")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"model {self.pk}"


class PretrainedWeights(models.Model):
    """A state-dict file a user registered; jobs name it, nothing is downloaded."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pretrained_weights")
    name = models.CharField(max_length=200)
    architecture = models.CharField(max_length=100, help_text="backbone key, e.g. resnet50")
    file_key = models.CharField(max_length=500)
    size_bytes = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "pretrained weights"  # not "weightss"
        constraints = [
            models.UniqueConstraint(fields=["owner", "architecture", "name"], name="unique_weights_name")
        ]


class Export(models.Model):
    """A model's export kept in storage (registry/exports.py): a cache entry, rebuilt on demand
    once dropped. All entries together stay within EXPORT_CACHE_BYTES, least recently used
    dropped first."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="exports")
    format = models.CharField(max_length=20)
    size_bytes = models.PositiveBigIntegerField(help_text="the zip, and for onnx the model.onnx deployments load")
    figures = models.JSONField(default=dict, blank=True, help_text="an INT8 export's accuracy gate: the metric before "
                                                                   "and after, the drop, images/s")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["last_used_at", "id"]
        constraints = [models.UniqueConstraint(fields=["model_version", "format"], name="one_export_per_format")]

    def __str__(self):
        return f"{self.format} export of model {self.model_version_id}"


class Evaluation(models.Model):
    """A model scored on a split of a dataset of its task, in one runtime, as leased background
    work (registry/evaluations.py). Its report (report.json and the pictures of the worst
    examples) is kept in storage under `report_key`."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="evaluations")
    dataset = models.ForeignKey("datasets.Dataset", on_delete=models.CASCADE, related_name="evaluations")
    split = models.CharField(max_length=40)
    runtime = models.CharField(max_length=20)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    metrics = models.JSONField(default=dict)
    report_key = models.CharField(max_length=500, blank=True, help_text="storage prefix of the report")
    # The worker running it holds a lease (platform_api/work/leased_work.py).
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    lost_leases = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"evaluation {self.pk} of model {self.model_version_id}"
