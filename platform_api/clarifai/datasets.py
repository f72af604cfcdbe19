"""Datasets of an app (named groups of inputs) and their versions.

PostDatasetVersions freezes the dataset's inputs now (frozen_archive.py) into a platform
dataset, through the same upload and import as `POST /api/v1/datasets/`: the version is
pending until a worker imports it, in progress while one does, then ready or failed with
the import's reason (status.dataset_version_status).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from platform_api.clarifai import frozen_archive
from platform_api.clarifai.models import App, ClarifaiDataset, DatasetVersion
from platform_api.clarifai.namespace import id_or_new
from platform_api.clarifai.problems import Missing
from platform_api.datasets.services import create_dataset
from platform_api.problems import Conflict, Invalid


def create_datasets(app: App, datasets: list[tuple[str, str]]) -> list[ClarifaiDataset]:
    """(dataset_id, description) each; an id the app has already is refused."""
    if not datasets:
        raise Invalid({"datasets": ["send one or more datasets"]})
    created = []
    try:
        with transaction.atomic():
            for index, (dataset_id, description) in enumerate(datasets):
                dataset_id = id_or_new(f"datasets[{index}].id", dataset_id)
                created.append(ClarifaiDataset.objects.create(app=app, dataset_id=dataset_id, description=description))
    except IntegrityError:
        raise Conflict(f"dataset '{dataset_id}' already exists in app '{app.app_id}'", "already_exists") from None
    return created


def get_dataset(app: App, dataset_id: str) -> ClarifaiDataset:
    dataset = ClarifaiDataset.objects.filter(app=app, dataset_id=dataset_id).first()
    if dataset is None:
        raise Missing("dataset", dataset_id, f"app '{app.app_id}'")
    return dataset


def get_version(dataset: ClarifaiDataset, version_id: str) -> DatasetVersion:
    version = dataset.versions.select_related("platform_dataset").filter(version_id=version_id).first()
    if version is None:
        raise Missing("dataset version", version_id, f"dataset '{dataset.dataset_id}'")
    return version


def latest_version(dataset: ClarifaiDataset) -> DatasetVersion | None:
    return dataset.versions.select_related("platform_dataset").order_by("-id").first()


def create_version(dataset: ClarifaiDataset, version_id: str, description: str) -> DatasetVersion:
    version_id = id_or_new("dataset_versions[0].id", version_id)
    if dataset.versions.filter(version_id=version_id).exists():
        raise Conflict(f"dataset version '{version_id}' already exists", "already_exists")
    freeze = frozen_archive.plan(list(dataset.inputs.all()))
    with transaction.atomic():
        version = DatasetVersion.objects.create(dataset=dataset, version_id=version_id, description=description,
                                                counts=freeze.counts, error=freeze.problem)
        if not freeze.problem:
            version.platform_dataset = _platform_dataset(dataset, version, freeze)
            version.save(update_fields=["platform_dataset"])
    return version


def _platform_dataset(dataset: ClarifaiDataset, version: DatasetVersion, freeze: frozen_archive.Freeze):
    app = dataset.app
    name = f"clarifai {app.owner.get_username()}/{app.app_id}/{dataset.dataset_id}@{version.version_id}"[:200]
    with tempfile.TemporaryDirectory(dir=Path(settings.DATA_DIR) / "tmp") as folder:
        archive = Path(folder) / "version.zip"
        frozen_archive.write_archive(freeze, archive)
        return create_dataset(app.owner, name, freeze.format, archive, archive.stat().st_size)
