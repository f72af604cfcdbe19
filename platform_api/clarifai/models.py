"""What the Clarifai v2 API adds to the platform: apps (a user's namespaces) and, in them,
concepts, inputs, datasets and their frozen versions, models and their versions.

A dataset version is frozen into a platform dataset (datasets.Dataset) and a model version
is a training job (training.Job): status, metrics and weights stay the platform's own.
"""
from django.conf import settings
from django.db import models


class App(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clarifai_apps")
    app_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["owner", "app_id"], name="unique_clarifai_app")]

    def __str__(self):
        return f"{self.owner_id}/{self.app_id}"


class Concept(models.Model):
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="concepts")
    concept_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["app", "concept_id"], name="unique_clarifai_concept")]


class ClarifaiDataset(models.Model):
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="datasets")
    dataset_id = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["app", "dataset_id"], name="unique_clarifai_dataset")]


class Input(models.Model):
    """An uploaded image with its labels. `concepts`: [{"id", "value"}] (1 positive, 0
    negative); `regions`: [{"id", "concept", "polygon": [[row, col], ...]} or {..., "mask_key"}]
    with coordinates normalised to the upright image."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="inputs")
    input_id = models.CharField(max_length=100)
    image_key = models.CharField(max_length=500, help_text="storage key of the image as uploaded")
    image_format = models.CharField(max_length=10, help_text="file extension of the image's format")
    width = models.PositiveIntegerField(help_text="upright, after the EXIF orientation")
    height = models.PositiveIntegerField()
    concepts = models.JSONField(default=list)
    regions = models.JSONField(default=list)
    datasets = models.ManyToManyField(ClarifaiDataset, related_name="inputs", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["app", "input_id"], name="unique_clarifai_input")]


class DatasetVersion(models.Model):
    """A dataset's inputs frozen, with their train/valid split, into a platform dataset
    (which its import validates); `error` says why none could be made."""

    dataset = models.ForeignKey(ClarifaiDataset, on_delete=models.CASCADE, related_name="versions")
    version_id = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    platform_dataset = models.ForeignKey(
        "datasets.Dataset", on_delete=models.PROTECT, null=True, blank=True, related_name="clarifai_versions"
    )
    error = models.TextField(blank=True)
    # {"inputs", "unlabeled_inputs", "splits": {split: n}, "concepts": {id: positives}, "regions", ...}
    counts = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["dataset", "version_id"], name="unique_clarifai_dataset_version")]

    def __str__(self):
        return f"Clarifai dataset version {self.version_id}"


class ClarifaiModel(models.Model):
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="models")
    model_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    model_type_id = models.CharField(max_length=50)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["app", "model_id"], name="unique_clarifai_model")]


class ClarifaiModelVersion(models.Model):
    """A training of the model: its job trains, and registers the weights predict serves."""

    model = models.ForeignKey(ClarifaiModel, on_delete=models.CASCADE, related_name="versions")
    version_id = models.CharField(max_length=100)
    job = models.OneToOneField("training.Job", on_delete=models.CASCADE, related_name="clarifai_version")
    dataset_version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="model_versions")
    concepts = models.JSONField(default=list, help_text="concept ids trained on, in the model's class order")
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["model", "version_id"], name="unique_clarifai_model_version")]

    def __str__(self):
        return f"Clarifai model version {self.version_id}"
