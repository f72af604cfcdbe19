"""Segmentation metrics in percent (0-100): semantic ones from a confusion matrix, instance ones
read from pycocotools' COCOeval.

IoU_c = TP / (TP + FP + FN); mIoU averages the classes whose union is non-empty (a class
absent from both ground truth and prediction says nothing). Pixel accuracy = correct /
labelled pixels. Pixels whose ground truth is `ignore_index` are excluded everywhere.
"""
from __future__ import annotations

import contextlib
import io

import numpy as np
from pycocotools.cocoeval import COCOeval

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


def semantic_report(matrix: np.ndarray, class_names: list[str]) -> dict:
    """semantic_metrics, plus per class its IoU, pixel accuracy (the share of its labelled
    pixels predicted as it) and labelled pixels, and the confusion matrix (rows: truth)."""
    iou = per_class_iou(matrix)
    labelled = matrix.sum(1)
    correct = np.diag(matrix)
    per_class = {name: {"IoU": float(iou[k] * 100) if np.isfinite(iou[k]) else None,
                        "pixel_accuracy": float(correct[k] / labelled[k] * 100) if labelled[k] else None,
                        "pixels": int(labelled[k])}
                 for k, name in enumerate(class_names)}
    return {**semantic_metrics(matrix, class_names), "per_class": per_class, "confusion_matrix": matrix.tolist()}


# --- COCO instance segmentation: pycocotools' COCOeval, read per class ----------------------

AREA_KEYS = {"segm/APs": 3, "segm/APm": 4, "segm/APl": 5}  # COCOeval.stats indices


def coco_evaluator(coco_gt, detections: list[dict]):
    """COCOeval(iouType="segm") run on `detections` (evaluate, accumulate, summarize), quietly;
    None when there is nothing to score: no detection, or no ground truth. A detection's
    `bbox` (the platform's [x1, y1, x2, y2], not COCO's) is left out: loadRes derives COCO's
    from the mask, and adds keys to what it gets, so it gets copies."""
    if not detections or not coco_gt.getAnnIds():
        return None
    with contextlib.redirect_stdout(io.StringIO()):
        results = coco_gt.loadRes([{k: v for k, v in d.items() if k != "bbox"} for d in detections])
        evaluator = COCOeval(coco_gt, results, iouType="segm")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator
IOU_CURVES = {"pr_curve": 0.5, "pr_curve_iou75": 0.75}


def _mean_precision(precision: np.ndarray) -> float | None:
    """COCO AP in percent over the entries COCOeval filled (-1 marks no ground truth)."""
    valid = precision[precision > -1]
    return float(valid.mean() * 100) if valid.size else None


def coco_class_report(evaluator, class_names: list[str], category_ids: list[int]) -> dict[str, dict]:
    """Per class: AP, AP50, AP75 (percent), and the interpolated precision-recall curve at IoU
    0.5 and 0.75 over COCOeval's 101 recall points, with the score each point is reached at.
    `evaluator` has run evaluate() and accumulate(); area "all", the largest maxDets."""
    precision, scores = evaluator.eval["precision"], evaluator.eval["scores"]  # [T, R, K, A, M]
    iou_thresholds = list(np.round(evaluator.params.iouThrs, 2))
    recall = [round(float(r), 6) for r in evaluator.params.recThrs]
    per_class = {}
    for name, category_id in zip(class_names, category_ids):
        if category_id not in evaluator.params.catIds:
            per_class[name] = {"AP": None, "AP50": None, "AP75": None, "average_precision": None,
                               "pr_curve": None, "pr_curve_iou75": None}
            continue
        k = evaluator.params.catIds.index(category_id)
        entry = {"AP": _mean_precision(precision[:, :, k, 0, -1]),
                 "AP50": _mean_precision(precision[iou_thresholds.index(0.5), :, k, 0, -1]),
                 "AP75": _mean_precision(precision[iou_thresholds.index(0.75), :, k, 0, -1])}
        entry["average_precision"] = entry["AP"]
        for key, iou in IOU_CURVES.items():
            t = iou_thresholds.index(iou)
            curve = precision[t, :, k, 0, -1]
            if (curve == -1).all():
                entry[key] = None
                continue
            # COCOeval leaves precision 0 past the highest recall reached: keep the points reached.
            reached = np.flatnonzero(curve > 0)
            entry[key] = {"recall": [recall[i] for i in reached], "precision": [round(float(curve[i]), 6) for i in reached],
                          "thresholds": [round(float(scores[t, i, k, 0, -1]), 6) for i in reached]}
        per_class[name] = entry
    return per_class


def coco_area_ap(evaluator) -> dict[str, float | None]:
    """AP for small, medium and large objects in percent; None where the data has none of a size."""
    return {key: (float(evaluator.stats[i]) * 100 if evaluator.stats[i] > -1 else None)
            for key, i in AREA_KEYS.items()}
