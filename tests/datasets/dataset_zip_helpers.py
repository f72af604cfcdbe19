"""Builders for the tiny archives the import tests make (no data files are checked in)."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image


def image_bytes(size=(32, 24), color=(200, 10, 10), fmt="PNG", mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color if mode == "RGB" else color[0]).save(buffer, format=fmt)
    return buffer.getvalue()


def noise_png(side: int, seed: int) -> bytes:
    """Random pixels: PNG cannot compress them, so the member is ~3 * side^2 bytes."""
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=0)
    return buffer.getvalue()


def mask_png(values: np.ndarray, mode: str = "L") -> bytes:
    image = Image.fromarray(values.astype(np.uint8))
    if mode == "RGB":
        image = Image.merge("RGB", [image, image, image])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def json_bytes(document) -> bytes:
    return json.dumps(document).encode()


def write_zip(path: Path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path
