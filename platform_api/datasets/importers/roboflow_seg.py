"""`roboflow_seg` (semantic segmentation): per split folder `_classes.csv`, `<name>.<ext>`
images and `<name>_mask.png` masks side by side.

Classes are the csv's names sorted by pixel value; masks are rewritten in place so that
each pixel holds its class index (255 = ignore). Every split must carry the same csv.
"""
from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from .errors import DatasetImportError
from .images import ImageChecker, is_image_path
from .limits import ImportLimits
from .formats import register_format
from .seg_masks import IGNORE_INDEX, normalise_mask, read_classes_csv
from .splits import export_split_folders, ordered, require_splits

CLASSES_NAME = "_classes.csv"
MASK_SUFFIX = "_mask.png"


@register_format("roboflow_seg", task="semantic_segmentation")
def build_roboflow_seg_manifest(root: Path, files: list[str], limits: ImportLimits) -> dict[str, Any]:
    folders = export_split_folders(files, "Roboflow segmentation")
    require_splits(set(folders), "roboflow_seg")
    classes = _consistent_classes(root, files, folders)
    values = [value for value, _ in classes]
    checker = ImageChecker(root, limits.max_image_pixels)
    splits = {}
    for split, folder in folders.items():
        pairs = _pairs(folder, [p for p in files if p.startswith(folder + "/")])
        for image, mask in pairs:
            size = checker.size(image)
            if size is None:
                continue
            try:
                normalise_mask(root, mask, f"{folder}/{CLASSES_NAME}", values, size, limits.max_image_pixels)
            except DatasetImportError as exc:
                checker.record(exc.message)
        splits[split] = {"items": [{"image": image, "mask": mask} for image, mask in pairs]}
    checker.raise_if_failed()
    return {
        "format": "roboflow_seg",
        "task": "semantic_segmentation",
        "classes": [name for _, name in classes],
        "ignore_index": IGNORE_INDEX,
        "splits": ordered(splits),
    }




def _consistent_classes(root: Path, files: list[str], folders: dict[str, str]) -> list[tuple[int, str]]:
    first: tuple[str, list[tuple[int, str]]] | None = None
    for folder in folders.values():
        relative = f"{folder}/{CLASSES_NAME}"
        if relative not in files:
            raise DatasetImportError(f"{folder}/: split folder without {CLASSES_NAME}")
        classes = read_classes_csv(root, relative)
        if first is None:
            first = (relative, classes)
        elif classes != first[1]:
            raise DatasetImportError(f"{first[0]} and {relative} list different classes: {first[1]} vs {classes}")
    assert first is not None
    return first[1]


def _pairs(folder: str, paths: list[str]) -> list[tuple[str, str]]:
    """(image, mask) pairs of one split folder, sorted by image path."""
    images: dict[str, str] = {}
    masks: dict[str, str] = {}
    for path in paths:
        if not is_image_path(path):
            continue
        if path.count("/") != 1:
            raise DatasetImportError(f"{path}: images and masks must sit directly in {folder}/")
        name = PurePosixPath(path).name
        if name.lower().endswith(MASK_SUFFIX):
            masks[name[: -len(MASK_SUFFIX)]] = path
            continue
        stem = PurePosixPath(path).stem
        if stem in images:
            raise DatasetImportError(f"{images[stem]} and {path} would share the mask {stem}{MASK_SUFFIX}")
        images[stem] = path
    for stem, image in sorted(images.items()):
        if stem not in masks:
            raise DatasetImportError(f"{image}: image without mask (expected {folder}/{stem}{MASK_SUFFIX})")
    for stem, mask in sorted(masks.items()):
        if stem not in images:
            raise DatasetImportError(f"{mask}: mask without image (expected {folder}/{stem}.jpg or another image)")
    if not images:
        raise DatasetImportError(f"split folder '{folder}/' has no images")
    return sorted((images[stem], masks[stem]) for stem in images)
