"""Run a model over a split and score it with `trainers.metrics.classification`."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from trainers.metrics.classification import multi_label_metrics, single_label_metrics

from .heads import activation

MULTI_LABEL_THRESHOLD = 0.5  # a concept is predicted when its probability reaches this
SINGLE_LABEL_MONITOR = "accuracy"
MULTI_LABEL_MONITOR = "f1_macro"


@torch.no_grad()
def predict_probabilities(model: nn.Module, dataset: Dataset, batch_size: int, device: torch.device,
                          logreg: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(probabilities [N, C], multi-hot targets [N, C]) in dataset order."""
    probabilities, targets = [], []
    for images, target in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        logits = model(images.to(device))
        probabilities.append(activation(logits.float(), logreg).cpu())
        targets.append(target)
    return torch.cat(probabilities), torch.cat(targets)


def classification_metrics(probabilities: torch.Tensor, targets: torch.Tensor, classes: list[str],
                           multi_label: bool) -> dict[str, Any]:
    """Single-label: the top concept is the prediction. Multi-label: every concept at or
    above MULTI_LABEL_THRESHOLD is."""
    if multi_label:
        predicted = (probabilities >= MULTI_LABEL_THRESHOLD).numpy()
        return multi_label_metrics(targets.numpy().astype(bool), predicted, classes)
    return single_label_metrics(targets.argmax(1).numpy(), probabilities.argmax(1).numpy(), len(classes), classes)
