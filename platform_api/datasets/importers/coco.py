"""`coco`: annotations/instances_<split>.json or annotations/<split>.json plus the images.

A split's images are looked up by `file_name` under images/<split>/, <split>/, images/
and the archive root, in that order (<split> as the annotation file spells it, so
instances_val2017.json finds val2017/). A year suffix (train2017) is accepted.
All categories of the files are classes, used or not.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .coco_common import CocoSource, build_coco_manifest
from .errors import DatasetImportError
from .limits import ImportLimits
from .formats import register_format
from .splits import canonical_split

_ANNOTATION_FILE = re.compile(r"^(?:instances_)?((train|valid|val|validation|test)(\d{4})?)\.json$", re.IGNORECASE)


@register_format("coco", task="instance_segmentation")
def build_coco_folder_manifest(root: Path, files: list[str], limits: ImportLimits) -> dict[str, Any]:
    return build_coco_manifest("coco", root, files, _sources(files), limits)


def _sources(files: list[str]) -> list[CocoSource]:
    candidates = [p for p in files if p.startswith("annotations/") and p.count("/") == 1 and p.endswith(".json")]
    sources: dict[str, CocoSource] = {}
    for path in candidates:
        match = _ANNOTATION_FILE.match(path.split("/", 1)[1])
        if match is None:
            continue
        stem, split = match.group(1), canonical_split(match.group(2))
        if split in sources:
            raise DatasetImportError(
                f"{sources[split].annotation_file} and {path} are both annotations of split '{split}'"
            )
        sources[split] = CocoSource(split, path, (f"images/{stem}", stem, "images", ""))
    if not sources:
        found = ", ".join(candidates) or "none"
        raise DatasetImportError(
            "no COCO annotation file found: expected annotations/instances_<split>.json or "
            f"annotations/<split>.json with split train, val|valid|validation or test (JSON files found: {found})"
        )
    return list(sources.values())
