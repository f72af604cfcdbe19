"""Semantic masks: read pixel values, map them to class indices, write single-channel PNGs."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import DatasetImportError
from .images import open_image

IGNORE_INDEX = 255


def read_classes_csv(root: Path, relative: str) -> list[tuple[int, str]]:
    """Roboflow's `_classes.csv`: a "Pixel Value, Class" header, then one "value, name" a line
    (whitespace around cells tolerated). Returned sorted by pixel value."""
    try:
        text = (root / relative).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetImportError(f"{relative}: not UTF-8 text ({exc})") from exc
    rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    rows = [row for row in rows if any(row)]
    if not rows or [cell.lower() for cell in rows[0]] != ["pixel value", "class"]:
        raise DatasetImportError(f"{relative}: first line must be the header 'Pixel Value, Class'")
    classes: dict[int, str] = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != 2 or not row[0].isdigit() or not 0 <= int(row[0]) <= 255 or not row[1]:
            raise DatasetImportError(f"{relative}: row {line} {row}: expected '<pixel value 0-255>, <class name>'")
        value, name = int(row[0]), row[1]
        if value in classes:
            raise DatasetImportError(f"{relative}: pixel value {value} is listed twice")
        if name in classes.values():
            raise DatasetImportError(f"{relative}: class '{name}' is listed twice")
        classes[value] = name
    if len(classes) < 2:
        raise DatasetImportError(f"{relative}: lists {len(classes)} class(es); at least 2 are needed")
    if len(classes) > IGNORE_INDEX:
        raise DatasetImportError(f"{relative}: more than {IGNORE_INDEX} classes (255 is the ignore index)")
    return sorted(classes.items())


def normalise_mask(root: Path, relative: str, classes_file: str, values: list[int],
                   image_size: tuple[int, int], max_pixels: int) -> None:
    """Rewrite the mask in place as an 8-bit PNG of class indices (`values` order).

    Pixel value 255, when not a listed class, becomes the ignore index; any other value
    not in `values` is an error naming the mask and the value.
    """
    with open_image(root / relative, relative, max_pixels) as mask:
        if mask.size != image_size:
            raise DatasetImportError(
                f"{relative}: mask is {mask.size[0]}x{mask.size[1]} but its image is {image_size[0]}x{image_size[1]}"
            )
        pixels = _pixel_values(mask, relative)
    present, inverse = np.unique(pixels, return_inverse=True)
    index = {value: i for i, value in enumerate(values)}
    unknown = [int(v) for v in present if int(v) not in index and int(v) != IGNORE_INDEX]
    if unknown:
        raise DatasetImportError(f"{relative}: pixel value {unknown[0]} is not listed in {classes_file}")
    mapped = np.array([index.get(int(v), IGNORE_INDEX) for v in present], dtype=np.uint8)
    Image.fromarray(mapped[inverse].reshape(pixels.shape)).save(root / relative, format="PNG")


def _pixel_values(mask: Image.Image, relative: str) -> np.ndarray:
    """2-D array of the mask's values. Palette ("P") masks give palette indices; RGB(A)
    masks must have equal R, G and B (alpha is ignored)."""
    if mask.mode in ("L", "P", "I", "I;16", "I;16L", "I;16B"):
        return np.asarray(mask)
    if mask.mode == "1":
        return np.asarray(mask).astype(np.uint8)
    if mask.mode == "LA":
        return np.asarray(mask)[..., 0]
    if mask.mode in ("RGB", "RGBA"):
        rgb = np.asarray(mask)[..., :3]
        if not ((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()):
            raise DatasetImportError(f"{relative}: RGB mask whose channels differ; masks must be single-channel")
        return rgb[..., 0]
    raise DatasetImportError(f"{relative}: unsupported mask mode {mask.mode}; use a single-channel PNG")
