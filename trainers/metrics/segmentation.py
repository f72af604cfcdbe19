"""Semantic segmentation metrics from a confusion matrix (values in percent, 0-100).

IoU_c = TP / (TP + FP + FN); mIoU averages the classes whose union is non-empty (a class
absent from both ground truth and prediction says nothing). Pixel accuracy = correct /
labelled pixels. Pixels whose ground truth is `ignore_index` are excluded everywhere.
"""
from __future__ import annotations

import numpy as np

IGNORE_INDEX = 255


class ConfusionMatrix:
    """matrix[g, p] = number of pixels with ground truth g predicted as p."""

    def __init__(self, num_classes: int, ignore_index: int = IGNORE_INDEX):
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.matrix = np.zeros((num_classes, num_classes), dtype=np.int64)

    def update(self, prediction: np.ndarray, target: np.ndarray) -> None:
        prediction = np.asarray(prediction, dtype=np.int64).ravel()
        target = np.asarray(target, dtype=np.int64).ravel()
        if prediction.shape != target.shape:
            raise ValueError(f"prediction has {prediction.size} pixels, target {target.size}")
        valid = (target != self.ignore_index) & (target >= 0) & (target < self.num_classes)
        index = target[valid] * self.num_classes + prediction[valid]
        self.matrix += np.bincount(index, minlength=self.num_classes ** 2).reshape(self.num_classes, self.num_classes)


def per_class_iou(matrix: np.ndarray) -> np.ndarray:
    """IoU of every class in [0, 1]; NaN where the class is in neither ground truth nor prediction."""
    tp = np.diag(matrix).astype(np.float64)
    union = matrix.sum(0) + matrix.sum(1) - tp
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, tp / np.maximum(union, 1), np.nan)


def semantic_metrics(matrix: np.ndarray, class_names: list[str]) -> dict[str, float]:
    """{"mIoU", "pixel_accuracy", "IoU/<class>" for classes with a non-empty union}, in percent."""
    iou = per_class_iou(matrix)
    labelled = matrix.sum()
    metrics = {
        "mIoU": float(np.nanmean(iou) * 100) if np.isfinite(iou).any() else 0.0,
        "pixel_accuracy": float(np.trace(matrix) / labelled * 100) if labelled else 0.0,
    }
    for name, value in zip(class_names, iou):
        if np.isfinite(value):
            metrics[f"IoU/{name}"] = float(value * 100)
    return metrics
