"""The registry: models that jobs produce, and pretrained weights that users register
(nothing is ever downloaded)."""
from __future__ import annotations

from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from platform_api.problems import InUse, Invalid
from platform_api.registry.models import ModelVersion, PretrainedWeights
from platform_api.storage import get_storage


class WeightsRejected(Invalid):
    """A weights file that cannot be registered; the message is the `file` field's."""

    def __init__(self, message: str):
        super().__init__({"file": [message]})


def check_state_dict(path: Path) -> int:
    """Number of tensors in a state-dict file; refuses anything else (weights_only load)."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsRejected(f"not a PyTorch state-dict file: {exc}") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsRejected("the file must hold a state dict: a mapping of parameter names to tensors")
    return len(state)


def delete_model(model_version: ModelVersion) -> bool:
    """Deletes the model with its exports and stopped deployments, then its files; the job
    that made it stays, with no model. False when it was already gone (of concurrent deletes
    one frees the files). A live deployment, or a Clarifai model version that serves it (a rule
    the Clarifai front connects), keeps it: InUse (model_in_use)."""
    artifact_key = model_version.artifact_key
    try:
        with transaction.atomic():
            # Locked, so a deploy of it waits and then finds it gone.
            locked = ModelVersion.objects.select_for_update().filter(pk=model_version.pk).first()
            if locked is None:
                return False
            locked.delete()
            storage = get_storage()
            transaction.on_commit(lambda: storage.delete(f"exports/{artifact_key}"))
            transaction.on_commit(lambda: storage.delete(artifact_key))
    except ProtectedError as exc:
        raise InUse(f"model {model_version.pk}", exc,
                    "stop its live deployments (POST /api/v1/deployments/{id}/stop/) and delete the Clarifai model "
                    "versions that serve it (DeleteModelVersion) first", "model_in_use") from None
    return True


def delete_weights(weights: PretrainedWeights) -> bool:
    """Deletes the row, then its file (jobs that name it later fail with weights_not_registered);
    False when the row was already gone (a concurrent or retried delete got there first)."""
    file_key = weights.file_key
    with transaction.atomic():
        deleted = weights.delete()[1].get(PretrainedWeights._meta.label, 0)
        if deleted and file_key:
            transaction.on_commit(lambda: get_storage().delete(file_key))
    return bool(deleted)


def register_weights(owner, name: str, architecture: str, path: Path, size: int) -> PretrainedWeights:
    check_state_dict(path)
    try:
        with transaction.atomic():
            weights = PretrainedWeights.objects.create(owner=owner, name=name, architecture=architecture, size_bytes=size)
            weights.file_key = f"weights/{weights.pk}.pt"
            weights.save(update_fields=["file_key"])
            get_storage().save_file(weights.file_key, path)
    except IntegrityError:
        raise WeightsRejected(f"weights named {name!r} for {architecture} are already registered") from None
    return weights


def weights_registered(owner_id: int, architecture: str, name: str) -> bool:
    return PretrainedWeights.objects.filter(owner_id=owner_id, architecture=architecture, name=name).exists()


def weights_resolver(owner_id: int):
    def resolve(architecture: str, name: str) -> Path | None:
        weights = PretrainedWeights.objects.filter(owner_id=owner_id, architecture=architecture, name=name).first()
        return get_storage().local_file(weights.file_key) if weights else None

    return resolve


def record_model_version(job, artifact_key: str, metrics: dict) -> None:
    """The model a succeeded job made, from the job's row (called by training, inside the
    transaction that ends the job; a retry finds the row already there)."""
    ModelVersion.objects.get_or_create(
        job=job,
        defaults=dict(
            owner=job.owner,
            template_id=job.template_id,
            dataset_id=job.dataset_id,
            trainer=job.trainer,
            hyperparameters=job.hyperparameters,
            metrics=metrics,
            classes=job.dataset.classes,
            artifact_key=artifact_key,
        ),
    )
