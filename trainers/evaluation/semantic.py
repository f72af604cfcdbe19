"""Semantic segmentation: every pixel's class from the model's semantic inference (its
Exportable's `class_maps`), per-class IoU and pixel accuracy and the confusion matrix over
classes, and the images with the lowest mean IoU, their wrong pixels drawn in red."""
from __future__ import annotations

import heapq
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from trainers.core import DatasetSpec
from trainers.data.images import open_rgb
from trainers.metrics.segmentation import IGNORE_INDEX, ConfusionMatrix, per_class_iou, semantic_report

from . import drawing
from .batches import batched


def evaluate(predictor, dataset: DatasetSpec, split: str, to_model: list[int], batch_size: int,
             examples_dir: Path, max_examples: int) -> dict[str, Any]:
    exportable = predictor.exportable
    classes = exportable.classes
    ignore = int(dataset.manifest.get("ignore_index", IGNORE_INDEX))
    items = dataset.manifest["splits"][split]["items"]
    total = ConfusionMatrix(len(classes), ignore)
    worst: list[tuple[float, int, np.ndarray, list[str], list[str]]] = []  # a min-heap of -mIoU
    imperfect = 0
    for start, chunk in zip(range(0, len(items), batch_size), batched(items, batch_size)):
        images = [open_rgb(dataset.root / item["image"]) for item in chunk]
        outputs = predictor.outputs(exportable.preprocess(images))
        class_maps = exportable.class_maps(outputs, [(image.height, image.width) for image in images])
        for offset, (item, predicted) in enumerate(zip(chunk, class_maps)):
            predicted = predicted.cpu().numpy()
            truth = _in_model_classes(np.asarray(Image.open(dataset.root / item["mask"]), np.int64), to_model, ignore)
            if truth.shape != predicted.shape:
                raise ValueError(f"{item['mask']} is {truth.shape[1]}x{truth.shape[0]} pixels, its image "
                                 f"{predicted.shape[1]}x{predicted.shape[0]}")
            single = ConfusionMatrix(len(classes), ignore)
            single.update(predicted, truth)
            total.matrix += single.matrix
            iou = per_class_iou(single.matrix)
            score = float(np.nanmean(iou)) if np.isfinite(iou).any() else 1.0
            if score < 1.0:
                imperfect += 1
                wrong = (predicted != truth) & (truth != ignore)
                entry = (-score, start + offset, wrong, _present(truth, classes), _present(predicted, classes))
                (heapq.heappush if len(worst) < max_examples else heapq.heappushpop)(worst, entry)
    report = semantic_report(total.matrix, list(classes))
    examples = []
    for rank, (negative, index, wrong, present, predicted) in enumerate(sorted(worst, reverse=True)):
        image = open_rgb(dataset.root / items[index]["image"])
        name = drawing.save(drawing.with_masks(image, [(wrong, drawing.FALSE)]),
                            examples_dir / f"worst_iou-{rank:03d}.jpg")
        examples.append({"file": name, "image": items[index]["image"], "iou": -negative,
                         "true": present, "predicted": predicted, "wrong_pixels": int(wrong.sum())})
    return {"report": report, "examples": {"kind": "worst_iou", "count": imperfect, "items": examples}}


def _in_model_classes(truth: np.ndarray, to_model: list[int], ignore: int) -> np.ndarray:
    """A mask of dataset class indices as the model's; values that name no class are ignored."""
    lookup = np.full(max(int(truth.max(initial=0)) + 1, len(to_model)), ignore, dtype=np.int64)
    lookup[:len(to_model)] = to_model
    return lookup[truth]


def _present(class_map: np.ndarray, classes: list[str]) -> list[str]:
    return [classes[k] for k in np.unique(class_map) if 0 <= k < len(classes)]
