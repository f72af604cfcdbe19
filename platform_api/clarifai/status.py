"""Every Clarifai status code this platform answers, in one place: which code answers each
problem a service raises, and which code tells the state of a dataset version (its
platform dataset's import) and of a model version (its training job).

The clients read `status.code` (10000 = SUCCESS) and ignore the HTTP status; the REST
front still sends a fitting one (HTTP_STATUS) for people using curl.
"""
from __future__ import annotations

from typing import Any

from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from clarifai_grpc.grpc.api.status.status_pb2 import Status

from platform_api.clarifai.problems import (
    BadKey,
    DeploymentFailed,
    InvalidTrainingParams,
    Missing,
    ModelMissing,
    NoTrainingData,
    NotTrained,
    SingleConcept,
    Unimplemented,
    Untrained,
)
from platform_api.datasets.models import Dataset
from platform_api.problems import Conflict, Invalid
from platform_api.training.models import Job

# The first class the problem is an instance of decides its code.
PROBLEM_CODES: tuple[tuple[type[Exception], int, str], ...] = (
    (BadKey, codes.CONN_KEY_NOT_FOUND, "API key not found"),
    (ModelMissing, codes.MODEL_DOES_NOT_EXIST, "Model does not exist"),
    (Missing, codes.CONN_DOES_NOT_EXIST, "Resource does not exist"),
    (InvalidTrainingParams, codes.MODEL_TRAINING_INVALID_PARAMS, "Invalid training parameters"),
    (NoTrainingData, codes.MODEL_TRAINING_NO_DATA, "No training data"),
    (SingleConcept, codes.MODEL_TRAINING_ONE_VS_N_SINGLE_CLASS, "Training needs inputs of two or more concepts"),
    (Untrained, codes.MODEL_UNTRAINED, "Model is not trained"),
    (DeploymentFailed, codes.MODEL_DEPLOYMENT_FAILED, "Model deployment failed"),
    (Unimplemented, codes.NOT_IMPLEMENTED, "Not implemented"),
    (Invalid, codes.CONN_INVALID_REQUEST, "Invalid request"),
    (Conflict, codes.CONN_INVALID_REQUEST, "Invalid request"),
)

HTTP_STATUS = {
    codes.SUCCESS: 200,
    codes.CONN_KEY_NOT_FOUND: 401,
    codes.CONN_DOES_NOT_EXIST: 404,
    codes.MODEL_DOES_NOT_EXIST: 404,
    codes.NOT_IMPLEMENTED: 501,
    codes.INTERNAL_SERVER_ISSUE: 500,
}


def http_status(code: int) -> int:
    return HTTP_STATUS.get(code, 400)


def success() -> Status:
    return Status(code=codes.SUCCESS, description="Ok")


def input_stored() -> Status:
    """An input is stored when PostInputs answers (nothing is downloaded later)."""
    return Status(code=codes.INPUT_DOWNLOAD_SUCCESS, description="Download complete")


def evaluated() -> Status:
    return Status(code=codes.MODEL_EVALUATED, description="Model was successfully evaluated")


def internal_error() -> Status:
    return Status(code=codes.INTERNAL_SERVER_ISSUE, description="Internal error",
                  details="the server log has the details")


def status_for(problem: Exception) -> Status | None:
    """The status answering a problem a service raised; None for anything else (a bug)."""
    if isinstance(problem, NotTrained):
        state = model_version_status(problem.job)
        return Status(code=state.code, description=state.description, details=str(problem))
    for kind, code, description in PROBLEM_CODES:
        if isinstance(problem, kind):
            return Status(code=code, description=description, details=_details(problem))
    return None


def _details(problem: Exception) -> str:
    if isinstance(problem, Invalid):
        return "; ".join(f"{field}: {message}" for field, message in _flatten(problem.errors))
    if isinstance(problem, Conflict):
        return problem.message
    return str(problem)


def _flatten(errors: Any, prefix: str = ""):
    """(field path, message) pairs of a `{field: [messages]}` tree."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(errors, (list, tuple)):
        for item in errors:
            yield from _flatten(item, prefix)
    else:
        yield prefix or "request", str(errors)


# ---------------------------------------------------------------- a dataset version's state

def dataset_version_status(version) -> Status:
    """64005 pending -> 64010 in progress (a worker imports it) -> 64015 ready, or 64020 failed."""
    dataset = version.platform_dataset
    if version.error or dataset is None:
        return Status(code=codes.DATASET_VERSION_FAILURE, description="Dataset version failed",
                      details=version.error or "no platform dataset")
    if dataset.status == Dataset.Status.READY:
        return Status(code=codes.DATASET_VERSION_READY, description="Dataset version is ready")
    if dataset.status == Dataset.Status.FAILED:
        return Status(code=codes.DATASET_VERSION_FAILURE, description="Dataset version failed", details=dataset.error)
    if dataset.lease_owner:
        return Status(code=codes.DATASET_VERSION_IN_PROGRESS, description="Dataset version is being built")
    return Status(code=codes.DATASET_VERSION_PENDING, description="Dataset version is waiting to be built")


def dataset_version_is_ready(version) -> bool:
    return dataset_version_status(version).code == codes.DATASET_VERSION_READY


# ---------------------------------------------------------------- a model version's state

# A failed job's error code (docs/API.md) -> the Clarifai code that names it; others 21106.
FAILURE_CODES = {
    "invalid_hyperparameters": codes.MODEL_TRAINING_INVALID_PARAMS,
    "weights_not_registered": codes.MODEL_TRAINING_INVALID_PARAMS,
    "no_classes": codes.MODEL_TRAINING_NO_DATA,
    "no_train_split": codes.MODEL_TRAINING_NO_DATA,
    "dataset_too_small": codes.MODEL_TRAINING_INSUFFICIENT_DATA,
}


def model_version_status(job: Job) -> Status:
    """21103 queued -> 21101 training (whole percent and seconds left) -> 21100 trained;
    a failure 21106 or the code that names it."""
    if job.status == Job.Status.QUEUED:
        return Status(code=codes.MODEL_QUEUED_FOR_TRAINING, description="Model is queued for training")
    if job.status == Job.Status.RUNNING:
        progress = job.progress or {}
        return Status(code=codes.MODEL_TRAINING, description="Model is training",
                      percent_completed=max(0, min(100, round(progress.get("percent") or 0))),
                      time_remaining=max(0, round(progress.get("eta_seconds") or 0)))
    if job.status == Job.Status.SUCCEEDED:
        return Status(code=codes.MODEL_TRAINED, description="Model is trained and ready", percent_completed=100)
    if job.status == Job.Status.CANCELLED:
        return Status(code=codes.MODEL_TRAINING_FAILED, description="Model training was cancelled")
    return Status(code=FAILURE_CODES.get(job.error_code, codes.MODEL_TRAINING_FAILED),
                  description="Model training failed", details=f"{job.error_code}: {job.error_message}")


def is_trained(job: Job) -> bool:
    return job.status == Job.Status.SUCCEEDED
