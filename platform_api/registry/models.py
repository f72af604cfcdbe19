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
        return f"model {self.pk} ({self.template_id})"


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
