"""The COCO instance annotation file, as pydantic models (structure only; meaning is checked later)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import DatasetImportError


class _Lenient(BaseModel):
    # licenses, date_captured, ... are not needed. Every number kept must be finite: Python's
    # json reads NaN, Infinity and 1e999, and a NaN box or area would be stored and trained on.
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class CocoImage(_Lenient):
    id: int
    file_name: str = Field(min_length=1)
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)


class CocoCategory(_Lenient):
    id: int
    name: str = Field(min_length=1)
    supercategory: str | None = None


class CocoAnnotation(_Lenient):
    id: int
    image_id: int
    category_id: int
    segmentation: Any = None  # polygons or RLE: validated in segmentation.py with clearer messages
    bbox: list[float] | None = None
    area: float | None = Field(default=None, ge=0)
    iscrowd: int = Field(default=0, ge=0, le=1)


class CocoFile(_Lenient):
    images: list[CocoImage]
    annotations: list[CocoAnnotation]
    categories: list[CocoCategory]


def read_coco_file(root: Path, relative: str) -> CocoFile:
    """Parse and structurally validate one annotation file; errors name the file and the field."""
    try:
        with open(root / relative, "rb") as f:
            document = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetImportError(f"{relative}: malformed JSON ({exc})") from exc
    if not isinstance(document, dict):
        raise DatasetImportError(f"{relative}: expected a JSON object with images, annotations and categories")
    try:
        return CocoFile.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        owner = _owner(error["loc"], document)
        raise DatasetImportError(f"{relative}: {_location(error['loc'])}: {error['msg']}{owner}{more}") from exc


def _location(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_ENTRY_KINDS = {"images": "image", "annotations": "annotation", "categories": "category"}


def _owner(loc: tuple, document: dict) -> str:
    """" (annotation id 17)" for an error inside annotations[3]: the id a labelling tool shows."""
    if len(loc) < 2 or loc[0] not in _ENTRY_KINDS or not isinstance(loc[1], int):
        return ""
    entries = document.get(loc[0])
    entry = entries[loc[1]] if isinstance(entries, list) and loc[1] < len(entries) else None
    if not isinstance(entry, dict) or "id" not in entry:
        return ""
    return f" ({_ENTRY_KINDS[loc[0]]} id {entry['id']!r})"
