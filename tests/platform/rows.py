"""Rows made straight in the database, for API tests that need a dataset, a job, a model or
a ready deployment to exist but never train, import or load anything."""
from __future__ import annotations

from platform_api.datasets.models import Dataset
from platform_api.deployments.models import Deployment
from platform_api.registry.models import ModelVersion
from platform_api.training.models import Job
from training_templates.models import Template
from tests.factories import store_manifest


def ready_dataset(owner) -> Dataset:
    """With the manifest an import would publish (submission reads the labels), no images."""
    dataset = Dataset.objects.create(owner=owner, name="d", format="classification_folder", task="classification",
                                     status="ready", classes=["a", "b"], splits={"train": 4, "valid": 2})
    store_manifest(dataset)
    return dataset


def succeeded_job(owner, dataset: Dataset) -> Job:
    """Needs the template catalogue loaded (the `templates` fixture)."""
    return Job.objects.create(owner=owner, template=Template.objects.get(pk="fai-cls"), dataset=dataset,
                              trainer="fai_cls", status="succeeded")


def model_version(owner, job: Job) -> ModelVersion:
    return ModelVersion.objects.create(owner=owner, job=job, template_id=job.template_id, dataset=job.dataset,
                                       trainer=job.trainer, classes=["a", "b"], artifact_key=f"models/job-{job.pk}")


def ready_deployment(owner) -> Deployment:
    """Marked ready without a model in memory: for requests refused before predicting."""
    job = succeeded_job(owner, ready_dataset(owner))
    return Deployment.objects.create(owner=owner, model_version=model_version(owner, job), status="ready")
