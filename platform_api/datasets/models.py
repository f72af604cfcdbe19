from django.conf import settings
from django.db import models

FORMAT_TASKS = {
    "classification_folder": "classification",
    "coco": "instance_segmentation",
    "roboflow_coco": "instance_segmentation",
    "roboflow_seg": "semantic_segmentation",
}


class Dataset(models.Model):
    class Status(models.TextChoices):
        IMPORTING = "importing"
        READY = "ready"
        FAILED = "failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    format = models.CharField(max_length=40, choices=[(f, f) for f in FORMAT_TASKS])
    task = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IMPORTING)
    error = models.TextField(blank=True)
    archive_key = models.CharField(max_length=500, help_text="storage key of the uploaded zip")
    content_key = models.CharField(max_length=500, blank=True, help_text="storage prefix of the imported files")
    num_images = models.PositiveIntegerField(default=0)
    classes = models.JSONField(default=list)
    splits = models.JSONField(default=dict)
    # The worker importing it holds a lease (platform_api/work/leased_work.py); a dead worker's
    # import is taken over once the lease lapses.
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    lost_leases = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.name} ({self.format})"
