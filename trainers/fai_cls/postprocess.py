"""Logits -> the inference output: per image a list of {cls_id, label, conf}, conf desc."""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import Tensor


def postprocess(logits: Tensor, classes: Sequence[str], multi_label: bool, threshold: float) -> list[list[dict[str, Any]]]:
    """Single-label: the argmax class with its softmax probability.
    Multi-label: every class with sigmoid >= threshold (0 is a real threshold: every class)."""
    logits = logits.detach().float().cpu()
    if logits.dim() == 1:
        logits = logits.unsqueeze(0)
    results = []
    if multi_label:
        probabilities = torch.sigmoid(logits)
        for row in probabilities:
            ids = torch.nonzero(row >= threshold).flatten().tolist()
            detections = [_detection(i, classes, row[i]) for i in ids]
            results.append(sorted(detections, key=lambda d: d["conf"], reverse=True))
    else:
        conf, ids = torch.softmax(logits, dim=-1).max(dim=-1)
        results = [[_detection(int(i), classes, c)] for i, c in zip(ids, conf)]
    return results


def _detection(cls_id: int, classes: Sequence[str], conf: Tensor) -> dict[str, Any]:
    return {"cls_id": int(cls_id), "label": classes[cls_id] if cls_id < len(classes) else None,
            "conf": float(conf)}
