"""A dataset version's inputs written as an archive in a format the platform imports, so
the import validates it and makes the platform dataset jobs train on, as for an upload.

- Image-level concepts: `classification_folder`, `<split>/<concept>/<input>.<ext>`; an
  input is filed under its one positive concept (negatives say only what it is not).
- Regions: `coco`, `annotations/instances_<split>.json` + `images/<input>.<ext>`; each
  region one annotation (a polygon in pixels, or its mask as COCO RLE).

The train/valid split is this version's own and deterministic: the importers' split
(~80/20 by the SHA-256 of each id), per concept for classification, per input for regions.
"""
from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from platform_api.clarifai.inputs import image_bytes, mask_bytes
from platform_api.clarifai.models import Input
from platform_api.datasets.importers.splits import split_train_valid

CLASSIFICATION, SEGMENTATION = "classification_folder", "coco"
MAX_NAMED = 5  # inputs a problem names before "and N more"


@dataclass
class Freeze:
    format: str
    splits: dict[str, list[Input]] = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    problem: str = ""  # why these inputs make no dataset; then nothing is written


def plan(inputs: list[Input]) -> Freeze:
    """Regions make a segmentation version (inputs with only image-level concepts are left
    out of it); otherwise inputs with a positive concept make a classification one."""
    if any(row.regions for row in inputs):
        return _segmentation(inputs)
    return _classification(inputs)


def _positives(row: Input) -> list[str]:
    return [label["id"] for label in row.concepts if label["value"] == 1.0]


def _classification(inputs: list[Input]) -> Freeze:
    labelled = [row for row in inputs if _positives(row)]
    freeze = Freeze(CLASSIFICATION, counts={
        "inputs": len(inputs),
        "unlabeled_inputs": len(inputs) - len(labelled),
        "positive_tags": sum(len(_positives(row)) for row in inputs),
        "negative_tags": sum(1 for row in inputs for label in row.concepts if label["value"] == 0.0),
        "concepts": dict(sorted(Counter(c for row in labelled for c in _positives(row)).items())),
    })
    several = [row.input_id for row in labelled if len(_positives(row)) > 1]
    if several:
        freeze.problem = (f"{_named(several)} have several positive concepts; a classification dataset version "
                          "holds one positive concept per input (mark the others 0, or leave them out)")
    elif not labelled:
        freeze.problem = "no input has a positive concept (value 1) or a region: nothing to train on"
    by_concept: dict[str, list[Input]] = {}
    for row in labelled:
        by_concept.setdefault(_positives(row)[0], []).append(row)
    freeze.splits = _split_each(by_concept.values())
    freeze.counts["splits"] = {split: len(rows) for split, rows in freeze.splits.items()}
    return freeze


def _segmentation(inputs: list[Input]) -> Freeze:
    with_regions = [row for row in inputs if row.regions]
    regions = [region for row in with_regions for region in row.regions]
    freeze = Freeze(SEGMENTATION, counts={
        "inputs": len(inputs),
        "unlabeled_inputs": len(inputs) - len(with_regions),
        "region_inputs": len(with_regions),
        "regions": len(regions),
        "polygons": sum(1 for region in regions if "polygon" in region),
        "masks": sum(1 for region in regions if "mask_key" in region),
        "positive_region_tags": len(regions),
        "concepts": dict(sorted(Counter(region["concept"] for region in regions).items())),
    })
    freeze.splits = _split_each([with_regions])
    freeze.counts["splits"] = {split: len(rows) for split, rows in freeze.splits.items()}
    return freeze


def _split_each(groups) -> dict[str, list[Input]]:
    splits: dict[str, list[Input]] = {"train": [], "valid": []}
    for rows in groups:
        by_id = {row.input_id: row for row in rows}
        train, valid = split_train_valid(list(by_id))
        splits["train"] += [by_id[i] for i in train]
        splits["valid"] += [by_id[i] for i in valid]
    return {split: rows for split, rows in splits.items() if rows}


def _named(ids: list[str]) -> str:
    shown = ", ".join(f"'{i}'" for i in ids[:MAX_NAMED])
    return f"inputs {shown}" + (f" and {len(ids) - MAX_NAMED} more" if len(ids) > MAX_NAMED else "")


def write_archive(freeze: Freeze, path: Path) -> None:
    # Images are compressed already: stored, not deflated.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        if freeze.format == CLASSIFICATION:
            for split, rows in freeze.splits.items():
                for row in rows:
                    archive.writestr(f"{split}/{_positives(row)[0]}/{row.input_id}.{row.image_format}", image_bytes(row))
            return
        categories = sorted(freeze.counts["concepts"])
        for split, rows in freeze.splits.items():
            archive.writestr(f"annotations/instances_{split}.json", json.dumps(_coco(rows, categories)))
            for row in rows:
                archive.writestr(f"images/{_file_name(row)}", image_bytes(row))


def _file_name(row: Input) -> str:
    return f"{row.input_id}.{row.image_format}"


def _coco(rows: list[Input], categories: list[str]) -> dict:
    category_ids = {name: index + 1 for index, name in enumerate(categories)}
    images, annotations = [], []
    for image_id, row in enumerate(rows, start=1):
        images.append({"id": image_id, "file_name": _file_name(row), "width": row.width, "height": row.height})
        for region in row.regions:
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "iscrowd": 0,
                                "category_id": category_ids[region["concept"]],
                                "segmentation": _segmentation_of(region, row.width, row.height)})
    return {"images": images, "annotations": annotations,
            "categories": [{"id": category_ids[name], "name": name} for name in categories]}


def _segmentation_of(region: dict, width: int, height: int):
    """A polygon in pixels ([[x1, y1, x2, y2, ...]]), or the mask as compressed RLE."""
    if "polygon" in region:
        return [[value for row, col in region["polygon"] for value in (col * width, row * height)]]
    inside = np.asarray(Image.open(io.BytesIO(mask_bytes(region))).convert("L")) >= 128
    rle = mask_utils.encode(np.asfortranarray(inside.astype(np.uint8)))
    return {"size": [height, width], "counts": rle["counts"].decode("ascii")}
