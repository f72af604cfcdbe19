"""`classification_folder`: <split>/<class>/<image>, or <class>/<image> split for the user.

Only files with an image extension are read; other files (README, labels.txt) are ignored.
Classes are the sorted union of class folder names over all splits.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from .errors import DatasetImportError
from .images import ImageChecker, is_image_path
from .limits import ImportLimits
from .formats import register_format
from .splits import SPLIT_ALIASES, canonical_split, map_split_folders, ordered, require_splits, split_train_valid


@register_format("classification_folder", task="classification")
def build_classification_manifest(root: Path, files: list[str], limits: ImportLimits) -> dict[str, Any]:
    images = [p for p in files if is_image_path(p)]
    if not images:
        raise DatasetImportError("no images found (expected <split>/<class>/<image> or <class>/<image>)")
    for path in images:
        if "/" not in path:
            raise DatasetImportError(
                f"{path}: image at the archive root; expected <split>/<class>/<image> or <class>/<image>"
            )
    folders = {p.split("/", 1)[0] for p in files if "/" in p}
    if any(folder.lower() in SPLIT_ALIASES for folder in folders):
        by_split = _images_by_split(images, folders)
    else:
        by_split = _split_unsplit(images)
    classes = sorted({cls for items in by_split.values() for _, cls in items})
    if len(classes) < 2:
        raise DatasetImportError(f"found {len(classes)} class folder(s) {classes}; at least 2 classes are needed")
    _check_decodable(root, by_split, limits)
    index = {name: i for i, name in enumerate(classes)}
    splits = {
        split: {"items": [{"image": path, "labels": [index[cls]]} for path, cls in sorted(items)]}
        for split, items in by_split.items()
    }
    return {
        "format": "classification_folder",
        "task": "classification",
        "multi_label": False,
        "classes": classes,
        "splits": ordered(splits),
    }


def _images_by_split(images: list[str], top_folders: set[str]) -> dict[str, list[tuple[str, str]]]:
    folders = map_split_folders(top_folders)
    strays = sorted({p.split("/", 1)[0] for p in images if canonical_split(p.split("/", 1)[0]) is None})
    if strays:
        raise DatasetImportError(
            f"folder '{strays[0]}' holds images next to the split folders; "
            "put every image under <split>/<class>/ (split: train, valid|val|validation, test)"
        )
    by_split: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for path in images:
        parts = path.split("/")
        if len(parts) == 2:
            raise DatasetImportError(
                f"{path}: image directly under split folder '{parts[0]}'; expected {parts[0]}/<class>/<image>"
            )
        if len(parts) > 3:
            raise DatasetImportError(f"{path}: nested too deep; expected <split>/<class>/<image>")
        by_split[canonical_split(parts[0])].append((path, parts[1]))
    for split, folder in folders.items():
        if not by_split.get(split):
            raise DatasetImportError(f"split folder '{folder}' has no images")
    require_splits(set(by_split), "classification_folder")
    return dict(by_split)


def _split_unsplit(images: list[str]) -> dict[str, list[tuple[str, str]]]:
    """<class>/<image> without split folders: a deterministic ~80/20 train/valid split per class."""
    per_class: dict[str, list[str]] = defaultdict(list)
    for path in images:
        parts = path.split("/")
        if len(parts) > 2:
            raise DatasetImportError(
                f"{path}: nested too deep; expected <class>/<image> (or <split>/<class>/<image> "
                "with split folders train, valid|val|validation, test)"
            )
        per_class[parts[0]].append(path)
    by_split: dict[str, list[tuple[str, str]]] = {"train": [], "valid": []}
    for cls, paths in per_class.items():
        train, valid = split_train_valid(paths)
        by_split["train"] += [(p, cls) for p in train]
        by_split["valid"] += [(p, cls) for p in valid]
    if not by_split["valid"]:
        raise DatasetImportError(
            "cannot make a validation split: every class has a single image (a class needs 2 or more)"
        )
    return by_split


def _check_decodable(root: Path, by_split: dict[str, list[tuple[str, str]]], limits: ImportLimits) -> None:
    checker = ImageChecker(root, limits.max_image_pixels)
    for items in by_split.values():
        for path, _ in items:
            checker.size(path)
    checker.raise_if_failed()
