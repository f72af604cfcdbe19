"""import_archive: extract an uploaded zip safely, validate it as one format, write the manifest."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .archive import extract_archive
from .errors import DatasetImportError
from .limits import ImportLimits
from .formats import FORMATS
from .splits import SPLIT_ALIASES

MANIFEST_NAME = "manifest.json"  # trainers.core.MANIFEST_NAME (not imported: keep this package light)
# A lone top-level split folder ("train/") is data, not a wrapper. "images/" or "annotations/"
# alone can never be a valid COCO archive, so they may be wrappers (e.g. images/<class>/...).
MEANINGFUL_ROOTS = frozenset(SPLIT_ALIASES)


@dataclass(frozen=True)
class ImportResult:
    manifest: dict[str, Any]
    task: str
    classes: list[str]
    splits: dict[str, int]  # split -> number of images
    num_images: int


def import_archive(
    archive_path: Path, fmt: str, dest_dir: Path, limits: ImportLimits = ImportLimits()
) -> ImportResult:
    """Import the zip at `archive_path` as dataset format `fmt` into `dest_dir`.

    `dest_dir` must not exist or be empty. Work happens in a hidden sibling folder that is
    renamed to `dest_dir` only on success, so on any error (DatasetImportError for a bad
    archive, or anything else) `dest_dir` holds nothing half-imported. Writes
    `dest_dir/manifest.json` in the layout of trainers/README.md.
    """
    dataset_format = FORMATS.get(fmt)
    if dataset_format is None:
        raise DatasetImportError(f"unknown dataset format {fmt!r}; expected one of {sorted(FORMATS)}")
    dest_dir = Path(dest_dir)
    if dest_dir.exists() and any(dest_dir.iterdir()):
        raise FileExistsError(f"{dest_dir} is not empty")
    dest_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest_dir.name}.partial-", dir=dest_dir.parent))
    try:
        files = extract_archive(Path(archive_path), staging, limits, keep_roots=MEANINGFUL_ROOTS)
        manifest = dataset_format.build_manifest(staging, files, limits)
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1))
        if dest_dir.exists():
            dest_dir.rmdir()
        os.replace(staging, dest_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _result(manifest)


def _result(manifest: dict[str, Any]) -> ImportResult:
    counts = {
        name: split["num_images"] if "num_images" in split else len(split["items"])
        for name, split in manifest["splits"].items()
    }
    return ImportResult(
        manifest=manifest,
        task=manifest["task"],
        classes=list(manifest["classes"]),
        splits=counts,
        num_images=sum(counts.values()),
    )
