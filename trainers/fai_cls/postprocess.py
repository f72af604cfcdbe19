"""Logits -> the inference output: per image a list of {cls_id, label, conf}, conf desc."""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import Tensor

from trainers.export.exportable import top


def postprocess(logits: Tensor, classes: Sequence[str], multi_label: bool, threshold: float | list[float],
                top_k: int | None = None) -> list[list[dict[str, Any]]]:
    """Classes with their probability (softmax; sigmoid per class when multi-label) at or above
    `threshold` (0 is a real threshold: every class; a list: one per class id), highest first,
    at most `top_k`.
    The model's defaults: single-label top_k 1 and threshold 0 (the argmax class);
    multi-label its `threshold` hyperparameter and no top_k."""
    logits = logits.detach().float().cpu()
    if logits.dim() == 1:
        logits = logits.unsqueeze(0)
    probabilities = torch.sigmoid(logits) if multi_label else torch.softmax(logits, dim=-1)
    results = []
    for row in probabilities:
        order = torch.argsort(row, descending=True).tolist()
        results.append(top([_detection(i, classes, row[i]) for i in order], threshold, top_k))
    return results


def _detection(cls_id: int, classes: Sequence[str], conf: Tensor) -> dict[str, Any]:
    return {"cls_id": int(cls_id), "label": classes[cls_id] if cls_id < len(classes) else None,
            "conf": float(conf)}
