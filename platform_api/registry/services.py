"""Pretrained weights that users register (nothing is ever downloaded)."""
from __future__ import annotations

from pathlib import Path

from django.db import IntegrityError, transaction

from platform_api.problems import Invalid
from platform_api.registry.models import PretrainedWeights
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


def delete_weights(weights: PretrainedWeights) -> None:
    """Deletes the row, then its file (jobs that name it later fail with weights_not_registered)."""
    file_key = weights.file_key
    with transaction.atomic():
        weights.delete()
        if file_key:
            transaction.on_commit(lambda: get_storage().delete(file_key))


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
