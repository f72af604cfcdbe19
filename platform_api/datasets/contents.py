"""What an imported dataset holds, for people and for checks at submission: its manifest and
annotations (without the images), per-split and per-class counts, and sample thumbnails
with their masks drawn.

An import's files never change once published (a new import gets a new `content_key`), so
what is read from them is kept per content key.
"""
from __future__ import annotations

import functools
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from platform_api.datasets.models import Dataset
from platform_api.problems import Conflict
from platform_api.storage import get_storage
from trainers.core import MANIFEST_NAME, TASK_CLASSIFICATION, TASK_INSTANCE_SEGMENTATION, DatasetSpec
from trainers.data.images import open_rgb
from trainers.data.masks import annotation_mask

THUMBNAIL_PIXELS = 256  # the longer side
SAMPLES_PER_SPLIT = 8
MASK_OPACITY = 0.45
# Distinct colours for classes (Tableau 10), repeated past ten.
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]


class DatasetNotReady(Conflict):
    def __init__(self, dataset: Dataset):
        super().__init__(f"dataset {dataset.pk} is {dataset.status}; its contents exist once it is ready", "dataset_not_ready")


def class_colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _file(content_key: str, relative: str) -> Path:
    """A file of the import, local (storage on S3 fetches this one file once)."""
    return get_storage().local_file(f"{content_key}/{relative}")


@functools.lru_cache(maxsize=16)
def _annotations(content_key: str) -> DatasetSpec:
    spec = DatasetSpec.load(_file(content_key, MANIFEST_NAME).parent)
    for split in spec.manifest["splits"].values():
        if "coco" in split:
            _file(content_key, split["coco"])  # beside the manifest, where the trainers read it
    return spec


def annotation_spec(dataset: Dataset) -> DatasetSpec:
    """The dataset as trainers see it, with its manifest and annotation files on local disk
    (images and masks are fetched only when read: `dataset_file`)."""
    if dataset.status != Dataset.Status.READY:
        raise DatasetNotReady(dataset)
    return _annotations(dataset.content_key)


@functools.lru_cache(maxsize=16)
def _coco(content_key: str, relative: str) -> dict[str, Any]:
    return json.loads(_file(content_key, relative).read_text())


def _coco_of(dataset: Dataset, split: dict) -> dict[str, Any]:
    return _coco(dataset.content_key, split["coco"])


@functools.lru_cache(maxsize=16)
def _counts(content_key: str, task: str) -> dict[str, dict[str, int]]:
    spec = _annotations(content_key)
    classes = spec.classes
    counts = {}
    for name, split in spec.manifest["splits"].items():
        tally: Counter = Counter()
        if "coco" in split:  # instances per category
            for annotation in _coco(content_key, split["coco"]).get("annotations", []):
                tally[annotation["category_id"] - 1] += 1  # ids are index + 1 (trainers/README.md)
        elif task == TASK_CLASSIFICATION:  # images per label
            for item in split["items"]:
                tally.update(item["labels"])
        else:  # semantic masks: images in which each class appears
            for item in split["items"]:
                with Image.open(_file(content_key, item["mask"])) as mask:
                    tally.update(int(value) for value in np.unique(np.asarray(mask)) if value < len(classes))
        counts[name] = {classes[index]: tally.get(index, 0) for index in range(len(classes))}
    return counts


def summary(dataset: Dataset) -> dict[str, Any]:
    """Per-split, per-class counts (images per label, instances per category, or images
    showing each class), each class's colour, and some samples of each split."""
    spec = annotation_spec(dataset)
    unit = {TASK_CLASSIFICATION: "images", TASK_INSTANCE_SEGMENTATION: "instances"}.get(dataset.task, "images showing the class")
    samples = []
    for name in spec.manifest["splits"]:
        total = dataset.splits.get(name, 0)
        # Spread over the split: the first, the last and evenly between.
        shown = min(total, SAMPLES_PER_SPLIT)
        picks = sorted({round(k * (total - 1) / max(1, shown - 1)) for k in range(shown)})
        samples += [{"split": name, "index": index, "labels": _labels(spec, name, index)} for index in picks]
    return {
        "class_counts": _counts(dataset.content_key, dataset.task),
        "count_unit": unit,
        "class_colours": {name: class_colour(n) for n, name in enumerate(spec.classes)},
        "samples": samples,
    }


def _labels(spec: DatasetSpec, split_name: str, index: int) -> list[str]:
    """The class names of a classification sample (segmentation samples show theirs in colour)."""
    items = spec.manifest["splits"][split_name].get("items")
    if not items or "labels" not in items[index]:
        return []
    return [spec.classes[label] for label in items[index]["labels"]]


def sample_thumbnail(dataset: Dataset, split_name: str, index: int) -> bytes | None:
    """JPEG of the split's `index`-th image, at most THUMBNAIL_PIXELS on its longer side,
    with its instance or semantic masks drawn in the classes' colours; None when there is
    no such sample."""
    spec = annotation_spec(dataset)
    split = spec.manifest["splits"].get(split_name)
    if split is None or index < 0:
        return None
    if "coco" in split:
        coco = _coco_of(dataset, split)
        if index >= len(coco["images"]):
            return None
        info = coco["images"][index]
        image = open_rgb(_file(dataset.content_key, info["file_name"]))
        mine = [a for a in coco.get("annotations", []) if a["image_id"] == info["id"]]
        layers = [(annotation_mask(a, image.height, image.width).astype(bool), a["category_id"] - 1) for a in mine]
    else:
        items = split["items"]
        if index >= len(items):
            return None
        item = items[index]
        image = open_rgb(_file(dataset.content_key, item["image"]))
        layers = []
        if "mask" in item:
            with Image.open(_file(dataset.content_key, item["mask"])) as mask:
                values = np.asarray(mask)
            layers = [(values == value, int(value)) for value in np.unique(values) if value < len(spec.classes)]
    for mask, class_index in layers:
        _tint(image, mask, class_colour(class_index), box="coco" in split)
    image.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _tint(image: Image.Image, mask: np.ndarray, colour: str, box: bool) -> None:
    """Colours the mask's pixels; an instance also gets its bounding box."""
    if mask.shape != (image.height, image.width) or not mask.any():
        return
    alpha = Image.fromarray((mask * int(255 * MASK_OPACITY)).astype(np.uint8), "L")
    image.paste(Image.new("RGB", image.size, colour), (0, 0), alpha)
    if box:
        ys, xs = np.nonzero(mask)
        ImageDraw.Draw(image).rectangle([int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())],
                                        outline=colour, width=max(2, image.width // 128))
