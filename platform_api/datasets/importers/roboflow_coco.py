"""`roboflow_coco`: train/, valid/, test/ each holding _annotations.coco.json and its images.

Roboflow exports declare the project itself as a parent category with id 0 and
supercategory "none" (e.g. {"id": 0, "name": "cells", "supercategory": "none"}) that
no annotation uses. Rule: a category is dropped only if its id is 0, its supercategory
is "none" and no annotation in any split uses it; every other category is a class.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .coco_common import CocoSource, build_coco_manifest
from .coco_schema import CocoCategory
from .errors import DatasetImportError
from .limits import ImportLimits
from .formats import register_format
from .splits import export_split_folders

ANNOTATION_NAME = "_annotations.coco.json"


def is_roboflow_parent_category(category: CocoCategory, used_ids: set[int]) -> bool:
    return category.id == 0 and (category.supercategory or "").lower() == "none" and category.id not in used_ids


@register_format("roboflow_coco", task="instance_segmentation")
def build_roboflow_coco_manifest(root: Path, files: list[str], limits: ImportLimits) -> dict[str, Any]:
    folders = _split_folders(files)
    sources = []
    for split, folder in folders.items():
        annotation_file = f"{folder}/{ANNOTATION_NAME}"
        if annotation_file not in files:
            raise DatasetImportError(f"{folder}/: split folder without {ANNOTATION_NAME}")
        sources.append(CocoSource(split, annotation_file, (folder,)))
    return build_coco_manifest(
        "roboflow_coco", root, files, sources, limits, drop_category=is_roboflow_parent_category
    )


def _split_folders(files: list[str]) -> dict[str, str]:
    folders = export_split_folders(files, "Roboflow COCO")
    if not folders:
        raise DatasetImportError(f"no split folders found: expected train/, valid/ (and test/) with {ANNOTATION_NAME}")
    return folders
