"""The pictures of an evaluation's worst examples: the image, at most SIDE pixels on its long
side, with masks drawn over it. JPEG, so a report's examples stay a few hundred kilobytes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SIDE = 384
MATCHED = (40, 200, 80)  # a prediction that matches the truth
FALSE = (230, 40, 40)  # a prediction with no truth under it
MISSED = (255, 200, 0)  # a truth nothing predicted


def shrunk(image: Image.Image) -> Image.Image:
    image = image.convert("RGB")
    scale = SIDE / max(image.size)
    if scale < 1:
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.BILINEAR)
    return image


def with_masks(image: Image.Image, masks: list[tuple[np.ndarray, tuple[int, int, int]]],
               opacity: float = 0.45) -> Image.Image:
    """`masks`: (H, W) bool at the image's size, with the colour to tint it; an outline marks each."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.float32).copy()
    for mask, colour in masks:
        mask = np.asarray(mask, bool)
        if mask.shape != pixels.shape[:2]:
            continue
        pixels[mask] = pixels[mask] * (1 - opacity) + np.asarray(colour, np.float32) * opacity
        pixels[_outline(mask)] = colour
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def _outline(mask: np.ndarray) -> np.ndarray:
    inner = mask.copy()
    inner[1:, :] &= mask[:-1, :]
    inner[:-1, :] &= mask[1:, :]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    return mask & ~inner


def save(image: Image.Image, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    shrunk(image).save(path, format="JPEG", quality=85)
    return path.name
