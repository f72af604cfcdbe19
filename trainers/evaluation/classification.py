"""Classification: every image's class probabilities from the predictor, the report from
trainers.metrics.classification, and the misclassified images, most confident first."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from trainers.core import DatasetSpec, TrainerError
from trainers.data.classification import load_rgb, split_items

from . import drawing
from .batches import batched

TOP_PREDICTIONS = 3  # shown with each misclassified image


def probabilities(predictor, dataset: DatasetSpec, items: list[dict], batch_size: int) -> np.ndarray:
    """[N, C] probabilities (softmax, or sigmoid per class) in the model's class order."""
    exportable, chunks = predictor.exportable, []
    for chunk in batched(items, batch_size):
        images = [load_rgb(dataset.root / item["image"]) for item in chunk]
        outputs = predictor.outputs(exportable.preprocess(images))
        chunks.append(next(iter(exportable.probabilities(outputs).values())).float().cpu().numpy())
    return np.concatenate(chunks) if chunks else np.zeros((0, len(exportable.classes)))


def evaluate(predictor, dataset: DatasetSpec, split: str, to_model: list[int], batch_size: int,
             examples_dir: Path, max_examples: int) -> dict[str, Any]:
    from trainers.metrics.classification import multi_label_report, single_label_report

    classes = predictor.exportable.classes
    items = split_items(dataset, split)
    scores = probabilities(predictor, dataset, items, batch_size)
    truth = np.zeros((len(items), len(classes)), bool)
    for row, item in enumerate(items):
        truth[row, [to_model[label] for label in item["labels"]]] = True
    multi_label = bool(predictor.exportable.multi_label)
    crowded = next((item for item in items if len(item["labels"]) != 1), None)
    if not multi_label and crowded is not None:
        raise TrainerError("multi_label_required", f"{crowded['image']} has {len(crowded['labels'])} labels; a "
                                                   "single-label model is evaluated on images with one label each")
    if multi_label:
        threshold = float(predictor.exportable.decision_threshold)
        report = multi_label_report(scores, truth, classes, threshold, scored=sorted(set(to_model)))
        wrong = _multi_label_errors(scores, truth, threshold)
    else:
        report = single_label_report(scores, truth.argmax(1), classes, scored=sorted(set(to_model)))
        wrong = _single_label_errors(scores, truth.argmax(1))
    examples = [_example(dataset, items[i], scores[i], truth[i], classes, confidence, rank, examples_dir)
                for rank, (i, confidence) in enumerate(wrong[:max_examples])]
    return {"report": report, "examples": {"kind": "misclassified", "count": len(wrong), "items": examples}}


def _single_label_errors(scores: np.ndarray, truth: np.ndarray) -> list[tuple[int, float]]:
    """(image, confidence of its wrong top class), most confident first."""
    predicted = scores.argmax(1) if len(scores) else np.zeros(0, int)
    wrong = np.flatnonzero(predicted != truth)
    return sorted(((int(i), float(scores[i, predicted[i]])) for i in wrong), key=lambda e: -e[1])


def _multi_label_errors(scores: np.ndarray, truth: np.ndarray, threshold: float) -> list[tuple[int, float]]:
    """(image, confidence of its surest wrong decision), most confident first: a class reported
    but absent counts its probability, a class present but missed counts 1 - probability."""
    decided = scores >= threshold
    errors = []
    for i in np.flatnonzero((decided != truth).any(1)):
        confidence = np.where(decided[i] & ~truth[i], scores[i], 0).max()
        confidence = max(confidence, np.where(~decided[i] & truth[i], 1 - scores[i], 0).max())
        errors.append((int(i), float(confidence)))
    return sorted(errors, key=lambda e: -e[1])


def _example(dataset: DatasetSpec, item: dict, scores: np.ndarray, truth: np.ndarray, classes: list[str],
             confidence: float, rank: int, examples_dir: Path) -> dict[str, Any]:
    order = np.argsort(-scores)[:TOP_PREDICTIONS]
    name = drawing.save(load_rgb(dataset.root / item["image"]), examples_dir / f"misclassified-{rank:03d}.jpg")
    return {"file": name, "image": item["image"], "confidence": confidence,
            "true": [classes[k] for k in np.flatnonzero(truth)],
            "predicted": [{"label": classes[k], "conf": float(scores[k])} for k in order]}
