"""Training templates: a trainer plus a declared set of hyperparameters."""
from django.db import models

from trainers.core import REQUESTABLE_PRECISIONS as PRECISIONS

TASK_CHOICES = [
    ("classification", "classification"),
    ("instance_segmentation", "instance segmentation"),
    ("semantic_segmentation", "semantic segmentation"),
]
TYPE_CHOICES = [(t, t) for t in ("int", "float", "bool", "enum", "string")]


def _all_precisions() -> list[str]:
    return list(PRECISIONS)


class Template(models.Model):
    id = models.CharField(primary_key=True, max_length=100)
    name = models.CharField(max_length=200)
    task = models.CharField(max_length=40, choices=TASK_CHOICES)
    # Dataset tasks this template can train on (fai-mf: instance and semantic).
    dataset_tasks = models.JSONField(default=list)
    trainer = models.CharField(max_length=100, help_text="key in trainers.families")
    # Numeric precisions a job of this template may ask for (trainers.engine.precision).
    precisions = models.JSONField(default=_all_precisions, help_text="precisions a job may request")
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True, help_text="inactive templates take no new jobs")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.id


class Hyperparameter(models.Model):
    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="hyperparameters")
    name = models.CharField(max_length=100)
    type = models.CharField(max_length=10, choices=TYPE_CHOICES)
    default = models.JSONField(null=True, blank=True)
    minimum = models.FloatField(null=True, blank=True)
    maximum = models.FloatField(null=True, blank=True)
    step = models.FloatField(null=True, blank=True)
    choices = models.JSONField(null=True, blank=True)
    log_scale = models.BooleanField(default=False, help_text="search this parameter on a log scale")
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["template", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "name"], name="unique_hyperparameter_name")
        ]

    def __str__(self):
        return f"{self.template_id}.{self.name}"
