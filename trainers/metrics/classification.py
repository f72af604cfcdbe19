"""Classification metrics in numpy. A ratio with a zero denominator is 0, never NaN
(a class nobody predicted has precision 0; a class with no samples has recall 0)."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    out = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _f1(precision: np.ndarray, recall: np.ndarray) -> np.ndarray:
    return _ratio(2 * precision * recall, precision + recall)


def _per_class(names: Sequence[str], precision, recall, f1, support) -> dict[str, dict[str, float]]:
    return {name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(names, precision, recall, f1, support)}


def _names(class_names: Sequence[str] | None, num_classes: int) -> list[str]:
    return list(class_names) if class_names is not None else [str(i) for i in range(num_classes)]


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """cm[t, p] = number of samples of true class t predicted as p."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return cm


def single_label_metrics(y_true, y_pred, num_classes: int,
                         class_names: Sequence[str] | None = None) -> dict[str, Any]:
    cm = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(cm)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    precision, recall = _ratio(tp, predicted), _ratio(tp, support)
    f1 = _f1(precision, recall)
    return {
        "accuracy": float(_ratio(tp.sum(), cm.sum())),
        "precision_macro": float(precision.mean()),
        "recall_macro": float(recall.mean()),
        "f1_macro": float(f1.mean()),
        "per_class": _per_class(_names(class_names, num_classes), precision, recall, f1, support),
        "confusion_matrix": cm.tolist(),
        "num_samples": int(cm.sum()),
    }


def multi_label_metrics(y_true, y_pred, class_names: Sequence[str] | None = None) -> dict[str, Any]:
    """y_true, y_pred: [N, C] 0/1 (or bool) arrays."""
    y_true, y_pred = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    tp = (y_true & y_pred).sum(axis=0)
    fp = (~y_true & y_pred).sum(axis=0)
    fn = (y_true & ~y_pred).sum(axis=0)
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _f1(precision, recall)
    micro_p, micro_r = _ratio(tp.sum(), tp.sum() + fp.sum()), _ratio(tp.sum(), tp.sum() + fn.sum())
    exact = (y_true == y_pred).all(axis=1) if len(y_true) else np.zeros(0, bool)
    return {
        "exact_match_accuracy": float(exact.mean()) if len(exact) else 0.0,
        "precision_micro": float(micro_p),
        "recall_micro": float(micro_r),
        "f1_micro": float(_f1(micro_p, micro_r)),
        "precision_macro": float(precision.mean()) if precision.size else 0.0,
        "recall_macro": float(recall.mean()) if recall.size else 0.0,
        "f1_macro": float(f1.mean()) if f1.size else 0.0,
        "per_class": _per_class(_names(class_names, y_true.shape[1]), precision, recall, f1, y_true.sum(axis=0)),
        "num_samples": int(len(y_true)),
    }
