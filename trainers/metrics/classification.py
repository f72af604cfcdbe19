"""Classification metrics: glue around scikit-learn, which computes every figure.

A ratio with a zero denominator is 0, never NaN (a class nobody predicted has precision 0;
a class with no samples has recall 0). Figures that need both positives and negatives of a
class (average precision, ROC AUC) are None for a class that lacks one, and left out of the
macro means.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn import metrics as sk

# Points kept of each precision-recall curve: enough to draw it, small enough to store.
CURVE_POINTS = 101
CALIBRATION_BINS = 15


def _per_class(names: Sequence[str], precision, recall, f1, support) -> dict[str, dict[str, float]]:
    return {name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(names, precision, recall, f1, support)}


def _names(class_names: Sequence[str] | None, num_classes: int) -> list[str]:
    return list(class_names) if class_names is not None else [str(i) for i in range(num_classes)]


def _mean(values) -> float:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else 0.0


def single_label_metrics(y_true, y_pred, num_classes: int,
                         class_names: Sequence[str] | None = None) -> dict[str, Any]:
    labels = list(range(num_classes))
    y_true, y_pred = np.asarray(y_true, int), np.asarray(y_pred, int)
    cm = sk.confusion_matrix(y_true, y_pred, labels=labels) if len(y_true) else np.zeros((num_classes,) * 2, int)
    precision, recall, f1, support = (sk.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0) if len(y_true) else np.zeros((4, num_classes)))
    return {
        "accuracy": float(sk.accuracy_score(y_true, y_pred)) if len(y_true) else 0.0,
        "precision_macro": float(np.mean(precision)),
        "recall_macro": float(np.mean(recall)),
        "f1_macro": float(np.mean(f1)),
        "per_class": _per_class(_names(class_names, num_classes), precision, recall, f1, support),
        "confusion_matrix": cm.tolist(),
        "num_samples": int(len(y_true)),
    }


def multi_label_metrics(y_true, y_pred, class_names: Sequence[str] | None = None) -> dict[str, Any]:
    """y_true, y_pred: [N, C] 0/1 (or bool) arrays."""
    y_true, y_pred = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    num_classes = y_true.shape[1] if y_true.ndim == 2 else 0
    if not len(y_true):
        zeros = np.zeros(num_classes)
        return {"exact_match_accuracy": 0.0, "precision_micro": 0.0, "recall_micro": 0.0, "f1_micro": 0.0,
                "precision_macro": 0.0, "recall_macro": 0.0, "f1_macro": 0.0,
                "per_class": _per_class(_names(class_names, num_classes), zeros, zeros, zeros, zeros),
                "num_samples": 0}
    precision, recall, f1, support = sk.precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    micro_p, micro_r, micro_f1, _ = sk.precision_recall_fscore_support(y_true, y_pred, average="micro",
                                                                       zero_division=0)
    return {
        "exact_match_accuracy": float(sk.accuracy_score(y_true, y_pred)),  # subset accuracy
        "precision_micro": float(micro_p),
        "recall_micro": float(micro_r),
        "f1_micro": float(micro_f1),
        "precision_macro": float(np.mean(precision)),
        "recall_macro": float(np.mean(recall)),
        "f1_macro": float(np.mean(f1)),
        "per_class": _per_class(_names(class_names, num_classes), precision, recall, f1, support),
        "num_samples": int(len(y_true)),
    }


# --- reports: curves and figures from the scores, not only the decisions ---------------------

def thinned(*arrays: np.ndarray, points: int = CURVE_POINTS) -> list[list[float]]:
    """At most `points` evenly spaced entries of parallel arrays, first and last kept."""
    size = len(arrays[0])
    keep = np.unique(np.linspace(0, size - 1, points).round().astype(int)) if size > points else np.arange(size)
    return [[round(float(v), 6) for v in np.asarray(array)[keep]] for array in arrays]


def pr_curve(positives: np.ndarray, scores: np.ndarray) -> dict[str, list[float]] | None:
    """{precision, recall, thresholds} of one class, by decreasing threshold (None without positives).
    sklearn's last point (recall 0, precision 1) has no threshold and is dropped."""
    if not positives.any():
        return None
    precision, recall, thresholds = sk.precision_recall_curve(positives, scores)
    precision, recall, thresholds = thinned(precision[:-1][::-1], recall[:-1][::-1], thresholds[::-1])
    return {"precision": precision, "recall": recall, "thresholds": thresholds}


def average_precision(positives: np.ndarray, scores: np.ndarray) -> float | None:
    return float(sk.average_precision_score(positives, scores)) if positives.any() else None


def roc_auc(positives: np.ndarray, scores: np.ndarray) -> float | None:
    """One class against the rest; None unless the class has positives and negatives."""
    if positives.all() or not positives.any():
        return None
    return float(sk.roc_auc_score(positives, scores))


def best_f1_threshold(positives: np.ndarray, scores: np.ndarray) -> tuple[float, float] | None:
    """(threshold, F1 there) with the highest F1 on this class's precision-recall curve."""
    if not positives.any():
        return None
    precision, recall, thresholds = sk.precision_recall_curve(positives, scores)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(precision),
                   where=precision + recall > 0)[:-1]
    best = int(np.argmax(f1))
    return float(thresholds[best]), float(f1[best])


def calibration(confidences: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS) -> dict[str, Any]:
    """Expected calibration error over equal-width confidence bins, and the reliability diagram:
    per non-empty bin, its mean confidence and its accuracy (sklearn's calibration_curve)."""
    from sklearn.calibration import calibration_curve

    if not len(confidences):
        return {"expected_calibration_error": 0.0, "bins": []}
    accuracy, confidence = calibration_curve(correct, confidences, n_bins=bins, strategy="uniform")
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], confidences), minlength=bins)  # calibration_curve's bins
    occupied = np.flatnonzero(counts)  # calibration_curve returns the non-empty bins, in order
    ece = float(np.sum(counts[occupied] / len(confidences) * np.abs(accuracy - confidence)))
    return {"expected_calibration_error": ece,
            "bins": [{"lower": float(edges[b]), "upper": float(edges[b + 1]), "count": int(counts[b]),
                      "confidence": float(c), "accuracy": float(a)}
                     for b, c, a in zip(occupied, confidence, accuracy)]}


def _macro_over(report: dict[str, Any], names: Sequence[str], scored: Sequence[int] | None) -> None:
    """The macro means over the `scored` classes only (those of the data evaluated on: a class the
    data does not have would add a recall of 0 to them)."""
    if scored is None:
        return
    figures = [report["per_class"][names[k]] for k in scored]
    for key in ("precision", "recall", "f1"):
        report[f"{key}_macro"] = _mean(f[key] for f in figures)


def single_label_report(probabilities: np.ndarray, y_true: np.ndarray, class_names: Sequence[str],
                        scored: Sequence[int] | None = None) -> dict[str, Any]:
    """probabilities [N, C] (softmax), y_true [N] class indices: the decisions' metrics plus
    top-5 accuracy (with more than 5 classes), per-class average precision, ROC AUC and PR
    curve, and calibration. `scored`: the classes the macro means cover (default all)."""
    probabilities, y_true = np.asarray(probabilities, float), np.asarray(y_true, int)
    names, num_classes = list(class_names), probabilities.shape[1]
    labels = list(range(num_classes))
    predicted = probabilities.argmax(1) if len(probabilities) else np.zeros(0, int)
    report = single_label_metrics(y_true, predicted, num_classes, names)
    _macro_over(report, names, scored)
    one_hot = np.eye(num_classes, dtype=bool)[y_true] if len(y_true) else np.zeros((0, num_classes), bool)
    for k, name in enumerate(names):
        positives, scores = one_hot[:, k], probabilities[:, k]
        report["per_class"][name].update(average_precision=average_precision(positives, scores),
                                         roc_auc=roc_auc(positives, scores), pr_curve=pr_curve(positives, scores))
    report.update(
        # With 5 classes or fewer every truth is in the top 5: no figure.
        top5_accuracy=float(sk.top_k_accuracy_score(y_true, probabilities, k=5, labels=labels))
        if len(y_true) and num_classes > 5 else None,
        average_precision_macro=_mean(c["average_precision"] for c in report["per_class"].values()),
        roc_auc_macro=_mean(c["roc_auc"] for c in report["per_class"].values()),
        calibration=calibration(probabilities.max(1) if len(probabilities) else np.zeros(0),
                                predicted == y_true),
    )
    report["expected_calibration_error"] = report["calibration"]["expected_calibration_error"]
    return report


def multi_label_report(probabilities: np.ndarray, y_true: np.ndarray, class_names: Sequence[str],
                       threshold: float, scored: Sequence[int] | None = None) -> dict[str, Any]:
    """probabilities [N, C] (sigmoid), y_true [N, C] 0/1: the metrics at the model's `threshold`,
    mAP, each class's PR curve, ROC AUC and its F1-optimal threshold (`tuned_thresholds`)."""
    probabilities, y_true = np.asarray(probabilities, float), np.asarray(y_true, bool)
    names = list(class_names)
    report = multi_label_metrics(y_true, probabilities >= threshold, names)
    _macro_over(report, names, scored)
    tuned = {}
    for k, name in enumerate(names):
        positives, scores = y_true[:, k], probabilities[:, k]
        best = best_f1_threshold(positives, scores)
        if best is not None:
            tuned[name] = best[0]
        report["per_class"][name].update(
            average_precision=average_precision(positives, scores), roc_auc=roc_auc(positives, scores),
            pr_curve=pr_curve(positives, scores),
            tuned_threshold=None if best is None else best[0], f1_at_tuned_threshold=None if best is None else best[1])
    report.update(
        mAP=_mean(c["average_precision"] for c in report["per_class"].values()),
        roc_auc_macro=_mean(c["roc_auc"] for c in report["per_class"].values()),
        threshold=float(threshold), tuned_thresholds=tuned,
        calibration=calibration(probabilities.ravel(), y_true.ravel()),
    )
    report["expected_calibration_error"] = report["calibration"]["expected_calibration_error"]
    return report
