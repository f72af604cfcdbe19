from django.conf import settings
from django.db import models

from trainers.core import RUNTIMES


def default_runtime() -> str:
    return settings.PREDICT_RUNTIME


class Deployment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        READY = "ready"
        FAILED = "failed"
        STOPPED = "stopped"

    LIVE = (Status.PENDING, Status.READY)  # statuses that hold (or are about to hold) a model in memory

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deployments")
    model_version = models.ForeignKey("registry.ModelVersion", on_delete=models.PROTECT, related_name="deployments")
    runtime = models.CharField(max_length=20, choices=[(r, r) for r in RUNTIMES], default=default_runtime,
                               help_text="what runs the model: torch (eager) or onnxruntime")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
