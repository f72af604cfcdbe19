"""Shared by `coco` and `roboflow_coco`: validate per-split COCO files and normalise them.

Output per split: `annotations/<split>.json` under the dataset root, with `file_name`
relative to the root, width/height as decoded, every split carrying the same category
list with ids `index + 1` in `classes` order (classes in ascending original id), and
every annotation with a checked segmentation plus bbox/area (computed from the mask
when missing).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .coco_schema import CocoCategory, CocoFile, read_coco_file
from .errors import DatasetImportError
from .images import ImageChecker
from .limits import ImportLimits
from .paths import safe_member_parts
from .segmentation import BadSegmentation, area_and_bbox
from .splits import ordered, require_splits


@dataclass(frozen=True)
class CocoSource:
    split: str  # canonical split name
    annotation_file: str  # relative to the root
    image_dirs: tuple[str, ...]  # folders searched for `file_name`, in order ("" = the root)


@dataclass
class _Split:
    source: CocoSource
    coco: CocoFile
    paths: dict[int, str]  # image id -> relative path
    sizes: dict[int, tuple[int, int]]  # image id -> (width, height)


# Decides which categories to drop before classes are formed: (category, used ids) -> drop?
CategoryFilter = Callable[[CocoCategory, set[int]], bool]


def build_coco_manifest(
    fmt: str,
    root: Path,
    files: list[str],
    sources: list[CocoSource],
    limits: ImportLimits,
    drop_category: CategoryFilter | None = None,
) -> dict[str, Any]:
    require_splits({s.split for s in sources}, fmt)
    fileset = set(files)
    checker = ImageChecker(root, limits.max_image_pixels)
    splits = [_load_split(root, fileset, source, checker) for source in sources]
    checker.raise_if_failed()
    for split in splits:
        _check_annotations(split)
    categories = _merged_categories(splits, drop_category)
    new_ids = {category.id: i + 1 for i, category in enumerate(categories)}
    manifest_splits = {}
    for split in splits:
        relative = f"annotations/{split.source.split}.json"
        _write_json(root / relative, _normalised(split, categories, new_ids))
        manifest_splits[split.source.split] = {"coco": relative, "num_images": len(split.coco.images)}
    return {
        "format": fmt,
        "task": "instance_segmentation",
        "classes": [category.name for category in categories],
        "splits": ordered(manifest_splits),
    }


def _load_split(root: Path, fileset: set[str], source: CocoSource, checker: ImageChecker) -> _Split:
    name = source.annotation_file
    coco = read_coco_file(root, name)
    if not coco.images:
        raise DatasetImportError(f"{name}: split '{source.split}' has no images")
    _check_unique([i.id for i in coco.images], name, "image id")
    _check_unique([c.id for c in coco.categories], name, "category id")
    _check_unique([a.id for a in coco.annotations], name, "annotation id")
    paths = {image.id: _find_image(image.file_name, image.id, source, fileset) for image in coco.images}
    _check_unique(list(paths.values()), name, "image file")
    sizes = {}
    for image in coco.images:
        size = checker.size(paths[image.id])
        if size is None:
            continue
        declared = (image.width or size[0], image.height or size[1])
        if declared != size:
            checker.record(
                f"{paths[image.id]}: image is {size[0]}x{size[1]} but {name} says {declared[0]}x{declared[1]}"
            )
        sizes[image.id] = size
    return _Split(source, coco, paths, sizes)


def _find_image(file_name: str, image_id: int, source: CocoSource, fileset: set[str]) -> str:
    try:
        relative = "/".join(safe_member_parts(file_name))
    except DatasetImportError as exc:
        raise DatasetImportError(f"{source.annotation_file}: image id {image_id}: {exc.message}") from exc
    for folder in source.image_dirs:
        candidate = f"{folder}/{relative}" if folder else relative
        if candidate in fileset:
            return candidate
    searched = ", ".join(f"{d}/" if d else "the archive root" for d in source.image_dirs)
    raise DatasetImportError(
        f"{source.annotation_file}: image '{file_name}' (id {image_id}) is not in the archive (searched {searched})"
    )


def _check_unique(values: list, annotation_file: str, what: str) -> None:
    seen = set()
    for value in values:
        if value in seen:
            raise DatasetImportError(f"{annotation_file}: duplicate {what} {value!r}")
        seen.add(value)


def _check_annotations(split: _Split) -> None:
    name = split.source.annotation_file
    category_ids = {c.id for c in split.coco.categories}
    for ann in split.coco.annotations:
        where = f"{name}: annotation id {ann.id}"
        if ann.image_id not in split.paths:
            raise DatasetImportError(f"{where} references missing image id {ann.image_id}")
        if ann.category_id not in category_ids:
            raise DatasetImportError(f"{where} has unknown category id {ann.category_id}")
        if ann.segmentation is None:
            raise DatasetImportError(f"{where} has no segmentation (instance segmentation needs masks)")
        if ann.bbox is not None and (len(ann.bbox) != 4 or min(ann.bbox) < 0):
            raise DatasetImportError(
                f"{where}: bbox must be [x, y, width, height] with x, y, width, height >= 0, got {ann.bbox}"
            )
        width, height = split.sizes[ann.image_id]
        try:
            area, bbox = area_and_bbox(ann.segmentation, height, width)
        except BadSegmentation as exc:
            raise DatasetImportError(f"{where} has a bad segmentation: {exc}") from exc
        if ann.area is None:
            ann.area = area
        if ann.bbox is None:
            ann.bbox = bbox


def _merged_categories(splits: list[_Split], drop_category: CategoryFilter | None) -> list[CocoCategory]:
    """Union over splits by id, ascending id; one id must keep one name, one name one id."""
    used = {ann.category_id for split in splits for ann in split.coco.annotations}
    by_id: dict[int, tuple[CocoCategory, str]] = {}
    for split in splits:
        for category in split.coco.categories:
            seen = by_id.get(category.id)
            if seen and seen[0].name != category.name:
                raise DatasetImportError(
                    f"category id {category.id} is '{seen[0].name}' in {seen[1]} "
                    f"but '{category.name}' in {split.source.annotation_file}"
                )
            by_id.setdefault(category.id, (category, split.source.annotation_file))
    categories = [by_id[i][0] for i in sorted(by_id)]
    if drop_category is not None:
        categories = [c for c in categories if not drop_category(c, used)]
    names: dict[str, int] = {}
    for category in categories:
        if category.name in names:
            raise DatasetImportError(
                f"category name '{category.name}' is used by ids {names[category.name]} and {category.id}"
            )
        names[category.name] = category.id
    if not categories:
        raise DatasetImportError("the annotation files define no categories")
    return categories


def _normalised(split: _Split, categories: list[CocoCategory], new_ids: dict[int, int]) -> dict[str, Any]:
    return {
        "images": [
            {"id": image.id, "file_name": split.paths[image.id],
             "width": split.sizes[image.id][0], "height": split.sizes[image.id][1]}
            for image in split.coco.images
        ],
        "annotations": [
            {"id": ann.id, "image_id": ann.image_id, "category_id": new_ids[ann.category_id],
             "segmentation": _checked_part(ann.segmentation), "area": ann.area, "bbox": ann.bbox,
             "iscrowd": ann.iscrowd}
            for ann in split.coco.annotations
        ],
        "categories": [
            {"id": new_ids[c.id], "name": c.name, "supercategory": c.supercategory or ""} for c in categories
        ],
    }


def _checked_part(segmentation: Any) -> Any:
    """Polygons as they are; of an RLE object only what segmentation.py checked (size and
    counts), so no unchecked value (a NaN in another key) is stored."""
    if isinstance(segmentation, dict):
        return {"size": segmentation["size"], "counts": segmentation["counts"]}
    return segmentation


def _write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        json.dump(document, f, allow_nan=False)  # a NaN that got past the checks is a bug: never stored
