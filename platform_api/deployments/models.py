from django.conf import settings
from django.db import models
from django.db.models import CASCADE, ProtectedError

from trainers.core import RUNTIMES

AUTO_RUNTIME = "auto"  # the fastest runtime that passes the INT8 gate, probed when the model loads
DEPLOYMENT_RUNTIMES = (*RUNTIMES, AUTO_RUNTIME)


def default_runtime() -> str:
    return settings.PREDICT_RUNTIME


def stop_live_deployments_first(collector, field, sub_objs, using):
    """A model's delete rule for its deployments: a live one (pending or ready) keeps the model
    until it is stopped; stopped and failed ones are history and go with it."""
    live = list(sub_objs.filter(status__in=Deployment.LIVE).only("id", "status"))  # one query
    if live:
        raise ProtectedError("it is deployed", live)
    CASCADE(collector, field, sub_objs, using)


class Deployment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        READY = "ready"
        FAILED = "failed"
        STOPPED = "stopped"

    LIVE = (Status.PENDING, Status.READY)  # statuses that hold (or are about to hold) a model in memory

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deployments")
    model_version = models.ForeignKey("registry.ModelVersion", on_delete=stop_live_deployments_first,
                                      related_name="deployments")
    runtime = models.CharField(max_length=20, choices=[(r, r) for r in DEPLOYMENT_RUNTIMES], default=default_runtime,
                               help_text="what runs the model: torch (eager), onnxruntime, onnxruntime-int8, or auto")
    served_runtime = models.CharField(max_length=20, blank=True,
                                      help_text="the runtime serving it once loaded: `runtime`, or what auto chose")
    probe = models.JSONField(default=dict, blank=True, help_text="auto: each candidate's images/s at batch 1, "
                                                                 "and why a candidate was left out")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"deployment {self.pk} ({self.status})"
