"""Validation of COCO segmentations (polygons, uncompressed and compressed RLE).

pycocotools' C code trusts its input: a compressed RLE whose counts overrun the image
makes `decode` write past its buffer, and a polygon with absurd coordinates makes
rasterisation allocate without bound. So every segmentation is checked here first and
pycocotools only ever sees valid ones (and is only asked for area and box, never to
decode a mask).
"""
from __future__ import annotations

import math
from typing import Any

from pycocotools import mask as mask_utils


class BadSegmentation(ValueError):
    """Why a segmentation is unusable; the caller adds which annotation it is."""


def area_and_bbox(segmentation: Any, height: int, width: int) -> tuple[float, list[float]]:
    """(mask area in pixels, [x, y, w, h]) of a valid segmentation on a height x width image."""
    rle = _to_rle(segmentation, height, width)
    return float(mask_utils.area(rle)), [float(v) for v in mask_utils.toBbox(rle)]


def _to_rle(segmentation: Any, height: int, width: int) -> dict:
    if isinstance(segmentation, list):
        _check_polygons(segmentation, height, width)
        return mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    if isinstance(segmentation, dict):
        return _check_rle(segmentation, height, width)
    kind = type(segmentation).__name__
    raise BadSegmentation(f"segmentation must be a list of polygons or an RLE object, got {kind}")


def _check_polygons(polygons: list, height: int, width: int) -> None:
    """Each polygon: >= 3 points as a flat [x1, y1, x2, y2, ...] list of finite numbers,
    no point further than one image size outside the image (pycocotools clips the rest)."""
    if not polygons:
        raise BadSegmentation("segmentation is an empty list")
    for i, polygon in enumerate(polygons):
        if not isinstance(polygon, list):
            raise BadSegmentation(
                f"polygon {i} is not a list of coordinates (flat [x1, y1, ...] lists go inside a list)"
            )
        if len(polygon) < 6 or len(polygon) % 2:
            raise BadSegmentation(f"polygon {i} has {len(polygon)} coordinates; need an even number >= 6 (3 points)")
        if not all(_is_number(v) and math.isfinite(v) for v in polygon):
            raise BadSegmentation(f"polygon {i} has a coordinate that is not a finite number")
        xs, ys = polygon[0::2], polygon[1::2]
        if min(xs) < -width or max(xs) > 2 * width or min(ys) < -height or max(ys) > 2 * height:
            raise BadSegmentation(f"polygon {i} lies far outside the {width}x{height} image")


def _check_rle(rle: dict, height: int, width: int) -> dict:
    size, counts = rle.get("size"), rle.get("counts")
    if size != [height, width]:
        raise BadSegmentation(f"RLE size {size} does not match the image's [height, width] {[height, width]}")
    if isinstance(counts, list):
        if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts):
            raise BadSegmentation("uncompressed RLE counts must be non-negative integers")
        _check_total(sum(counts), height, width)
        return mask_utils.frPyObjects({"size": size, "counts": counts}, height, width)
    if isinstance(counts, str):
        _check_total(sum(decode_rle_counts(counts)), height, width)
        return {"size": size, "counts": counts.encode("ascii")}
    raise BadSegmentation("RLE counts must be a list of integers or a compressed string")


def _check_total(total: int, height: int, width: int) -> None:
    if total != height * width:
        raise BadSegmentation(f"RLE counts cover {total} pixels; the image has {height * width}")


def decode_rle_counts(text: str) -> list[int]:
    """Run lengths of a COCO compressed RLE string (the format of pycocotools' rleFrString):
    6-bit chars from '0', 5 payload bits + continuation bit, sign bit on the last char,
    and from the third run on each value is a delta to the run two places before."""
    counts: list[int] = []
    pos = 0
    while pos < len(text):
        value, shift, more = 0, 0, True
        while more:
            if pos >= len(text):
                raise BadSegmentation("compressed RLE counts are truncated")
            char = ord(text[pos]) - 48
            if not 0 <= char < 64 or shift > 60:
                raise BadSegmentation("compressed RLE counts are not a valid COCO RLE string")
            value |= (char & 0x1F) << shift
            more = bool(char & 0x20)
            pos += 1
            shift += 5
            if not more and char & 0x10:
                value |= -1 << shift
        if len(counts) > 2:
            value += counts[-2]
        if not 0 <= value < 2**32:
            raise BadSegmentation("compressed RLE has a negative or huge run length")
        counts.append(value)
    return counts


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
