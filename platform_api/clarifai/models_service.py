"""Models of an app and their versions. A version is a training job submitted through the
platform's own `training.services.submit_job`, on the platform dataset a dataset version
was frozen into: the template's declarations validate the hyperparameters, as for v1.

What is Clarifai's own is checked here, before the job: `train_info.params` naming a
template of the model's type and a dataset version (21118 with every field named), data
to train on (21110) of two or more concepts (21112).
"""
from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from platform_api.clarifai import datasets as clarifai_datasets
from platform_api.clarifai.model_types import hyperparameters_from_wire, model_type, offered_templates, template_specs
from platform_api.clarifai.models import App, ClarifaiModel, ClarifaiModelVersion, DatasetVersion
from platform_api.clarifai.namespace import id_or_new
from platform_api.clarifai.problems import InvalidTrainingParams, Missing, ModelMissing, NoTrainingData, SingleConcept
from platform_api.clarifai.predictions import serving_deployments
from platform_api.clarifai.status import dataset_version_is_ready, dataset_version_status
from platform_api.deployments.services import stop as stop_deployment
from platform_api.problems import Conflict, Invalid
from platform_api.training.models import Job
from platform_api.training.services import JobAlreadyEnded, JobRejected, cancel_job, submit_job
from training_templates.hyperparameter_specs import HyperparameterErrors
from training_templates.services import resolve_for_template

# Keys of train_info.params that are not hyperparameters.
TEMPLATE, DATASET_ID, DATASET_VERSION_ID = "template", "dataset_id", "dataset_version_id"


def create_model(app: App, model_id: str, name: str, model_type_id: str, description: str) -> ClarifaiModel:
    if not model_type_id:
        raise Invalid({"model.model_type_id": ["is required: visual-classifier or visual-segmenter"]})
    try:
        model_type(model_type_id)
    except Missing as exc:
        raise Invalid({"model.model_type_id": [str(exc)]}) from None
    model_id = id_or_new("model.id", model_id)
    try:
        with transaction.atomic():
            return ClarifaiModel.objects.create(app=app, model_id=model_id, name=name or model_id,
                                                model_type_id=model_type_id, description=description)
    except IntegrityError:
        raise Conflict(f"model '{model_id}' already exists in app '{app.app_id}'", "already_exists") from None


def get_model(app: App, model_id: str) -> ClarifaiModel:
    model = ClarifaiModel.objects.filter(app=app, model_id=model_id).first()
    if model is None:
        raise ModelMissing("model", model_id, f"app '{app.app_id}'")
    return model


def versions_of(model: ClarifaiModel):
    """Newest first, with what their answers show."""
    return (model.versions.select_related("job", "job__model_version", "dataset_version__dataset")
            .order_by("-id"))


def get_version(model: ClarifaiModel, version_id: str) -> ClarifaiModelVersion:
    version = versions_of(model).filter(version_id=version_id).first()
    if version is None:
        raise ModelMissing("model version", version_id, f"model '{model.model_id}'")
    return version


def latest_version(model: ClarifaiModel) -> ClarifaiModelVersion | None:
    return versions_of(model).first()


def latest_trained_version(model: ClarifaiModel) -> ClarifaiModelVersion | None:
    return versions_of(model).filter(job__status=Job.Status.SUCCEEDED).first()


def train(model: ClarifaiModel, params: dict[str, Any], concept_ids: list[str], description: str = "",
          version_id: str = "") -> ClarifaiModelVersion:
    """Queues the training of a new version; refuses (nothing queued) what cannot train."""
    version_id = id_or_new("model_versions[0].id", version_id)
    if model.versions.filter(version_id=version_id).exists():
        raise Conflict(f"model version '{version_id}' already exists", "already_exists")
    params = dict(params)
    errors: dict[str, list[str]] = {}
    template = _template(model, params.pop(TEMPLATE, None), errors)
    dataset_version = _dataset_version(model.app, params.pop(DATASET_ID, ""), params.pop(DATASET_VERSION_ID, ""), errors)
    hyperparameters = hyperparameters_from_wire(template_specs(template), params) if template else params
    if template is not None:
        try:
            resolve_for_template(template, hyperparameters)  # submit_job's check, run now to name every field at once
        except HyperparameterErrors as exc:
            errors.update(exc.errors)
    if dataset_version is not None:
        _check_concepts(dataset_version, concept_ids, errors)
    if errors:
        raise InvalidTrainingParams(errors)
    _check_data(dataset_version)
    try:
        with transaction.atomic():  # the job is queued once the version row exists, or not at all
            job = submit_job(model.app.owner, template.pk, dataset_version.platform_dataset_id, hyperparameters,
                             name=f"clarifai {model.app.app_id}/{model.model_id}"[:200])
            return ClarifaiModelVersion.objects.create(
                model=model, version_id=version_id, job=job, dataset_version=dataset_version,
                concepts=sorted(dataset_version.counts.get("concepts", {})), description=description,
            )
    except JobRejected as exc:
        raise InvalidTrainingParams(_as_params(exc.errors)) from None
    except IntegrityError:  # the same version id, posted meanwhile
        raise Conflict(f"model version '{version_id}' already exists", "already_exists") from None


def _template(model: ClarifaiModel, template_id, errors: dict):
    templates = {t.pk: t for t in offered_templates(model_type(model.model_type_id))}
    if not template_id:
        errors[TEMPLATE] = [f"is required; {model.model_type_id} offers {', '.join(templates)}"]
        return None
    if not isinstance(template_id, str) or template_id not in templates:
        errors[TEMPLATE] = [f"{model.model_type_id} offers {', '.join(templates)}; got {template_id!r}"]
        return None
    return templates[template_id]


def _dataset_version(app: App, dataset_id, version_id, errors: dict) -> DatasetVersion | None:
    """The version named, or the dataset's latest when no version is named."""
    if not dataset_id or not isinstance(dataset_id, str):
        errors[DATASET_ID] = ["is required: the dataset whose version to train on"]
        return None
    try:
        dataset = clarifai_datasets.get_dataset(app, dataset_id)
    except Missing as exc:
        errors[DATASET_ID] = [str(exc)]
        return None
    if version_id and isinstance(version_id, str):
        try:
            return clarifai_datasets.get_version(dataset, version_id)
        except Missing as exc:
            errors[DATASET_VERSION_ID] = [str(exc)]
            return None
    latest = clarifai_datasets.latest_version(dataset)
    if latest is None:
        errors[DATASET_VERSION_ID] = [f"dataset '{dataset_id}' has no version: create one with PostDatasetVersions"]
    return latest


def _check_concepts(version: DatasetVersion, concept_ids: list[str], errors: dict) -> None:
    """A model learns every concept of its dataset version: none named means all of them."""
    frozen = sorted(version.counts.get("concepts", {}))
    if concept_ids and sorted(set(concept_ids)) != frozen:
        errors["output_info.data.concepts"] = [
            f"a model trains on every concept of its dataset version ({', '.join(frozen) or 'none'}); "
            f"send those, or none; got {', '.join(sorted(set(concept_ids)))}"]


def _check_data(version: DatasetVersion) -> None:
    concepts = version.counts.get("concepts", {})
    where = f"dataset version '{version.version_id}'"
    if not concepts:
        raise NoTrainingData({DATASET_VERSION_ID: [f"{where} has no labelled input: {version.error or 'nothing to train on'}"]})
    if len(concepts) < 2:
        raise SingleConcept({DATASET_VERSION_ID: [f"{where} has positives of one concept only ({next(iter(concepts))}); "
                                                  "add inputs of another concept and make a new version"]})
    if not dataset_version_is_ready(version):
        state = dataset_version_status(version)
        reason = f"is {state.description.lower()} ({state.code})" + (f": {state.details}" if state.details else "")
        raise InvalidTrainingParams({DATASET_VERSION_ID: [f"{where} {reason}; train once it is ready (64015)"]})


def _as_params(errors: dict) -> dict:
    """submit_job's refusal in the names the client sent: hyperparameters by their own name."""
    named = {}
    for key, value in errors.items():
        if key == "hyperparameters" and isinstance(value, dict):
            named.update(value)
        else:
            named[{"dataset": DATASET_VERSION_ID, "hyperparameters": "params"}.get(key, key)] = value
    return named


def delete_version(version: ClarifaiModelVersion) -> None:
    """Stops its training if it runs, and serving it; the job and the model it registered
    stay in the v1 API."""
    try:
        cancel_job(version.job)
    except JobAlreadyEnded:
        pass
    for deployment in serving_deployments(version.job):
        stop_deployment(deployment)
    version.delete()
