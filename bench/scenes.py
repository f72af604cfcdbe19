"""Synthetic scenes that read like a user's photos, written as platform datasets.

The project cannot download data sets, so the quality benchmark draws its own: objects of
three classes (round "cells", rectangular "tiles", lobed "leaves") whose colours overlap, so
shape and texture, not hue alone, tell them apart; each instance shaded, textured and
rotated; instances touching and occluding one another (a mask is the visible part); a
textured background; then blur, sensor noise and JPEG compression.

Two kinds of scene, as the issue asks:
- ``small``: many small instances per image (6-14 objects of 10-28 px at 128 px);
- ``large``: a few large ones, as in photos (1-4 objects of 30-80 px).

`write_instance_dataset` writes a COCO export (as the platform imports it);
`write_semantic_dataset` a class-index mask per image (background = class 0).
Everything is a function of the seed, so a run is repeatable.
"""
from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from pycocotools import mask as mask_utils

CLASSES = ("cell", "tile", "leaf")
MIN_VISIBLE_PIXELS = 12  # an instance hidden down to fewer pixels is not annotated


@dataclass(frozen=True)
class SceneKind:
    objects: tuple[int, int]  # how many per image (inclusive)
    size: tuple[int, int]  # object diameter in pixels at 128 px (inclusive)


KINDS = {"small": SceneKind(objects=(6, 14), size=(10, 28)), "large": SceneKind(objects=(1, 4), size=(30, 80)),
         "single": SceneKind(objects=(1, 1), size=(40, 100))}  # one object: a classification photo


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """(size, size) values in [0, 1] varying over about `cells` blobs per side."""
    coarse = Image.fromarray((rng.random((cells, cells)) * 255).astype(np.uint8))
    return np.asarray(coarse.resize((size, size), Image.BICUBIC), dtype=np.float32) / 255.0


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    base = rng.uniform(60, 200, 3)
    tint = rng.uniform(-60, 60, 3)
    field = _smooth_noise(rng, size, int(rng.integers(3, 9)))[..., None]
    grain = _smooth_noise(rng, size, int(rng.integers(16, 40)))[..., None]
    return np.clip(base + tint * (field - 0.5) * 2 + 30 * (grain - 0.5), 0, 255)


def _class_colour(rng: np.random.Generator, class_index: int) -> np.ndarray:
    # Each class leans towards a hue, with spread wide enough that hues of classes overlap.
    centre = np.array([(200, 110, 100), (110, 150, 200), (110, 170, 90)][class_index], dtype=np.float32)
    return np.clip(centre + rng.normal(0, 45, 3), 0, 255)


def _outline(rng: np.random.Generator, class_index: int, cx: float, cy: float, radius: float) -> list[tuple]:
    """Polygon of an instance: an ellipse, a rounded rectangle or a lobed leaf, rotated."""
    angle = rng.uniform(0, math.pi)
    if class_index == 0:  # cell: a slightly wobbly ellipse
        aspect = rng.uniform(0.7, 1.0)
        wobble = rng.uniform(0, 0.08, 3)
        points = [(radius * (1 + wobble[0] * math.sin(3 * t + wobble[1] * 20)) * math.cos(t),
                   radius * aspect * math.sin(t)) for t in np.linspace(0, 2 * math.pi, 40, endpoint=False)]
    elif class_index == 1:  # tile: a rectangle with cut corners
        w, h = radius, radius * rng.uniform(0.45, 0.8)
        c = 0.2 * h
        points = [(-w + c, -h), (w - c, -h), (w, -h + c), (w, h - c), (w - c, h), (-w + c, h), (-w, h - c),
                  (-w, -h + c)]
    else:  # leaf: a star-like outline with 4-7 lobes
        lobes = int(rng.integers(4, 8))
        depth = rng.uniform(0.25, 0.45)
        points = [(radius * (1 - depth * (0.5 + 0.5 * math.cos(lobes * t))) * math.cos(t),
                   radius * (1 - depth * (0.5 + 0.5 * math.cos(lobes * t))) * math.sin(t))
                  for t in np.linspace(0, 2 * math.pi, 60, endpoint=False)]
    cos, sin = math.cos(angle), math.sin(angle)
    return [(cx + x * cos - y * sin, cy + x * sin + y * cos) for x, y in points]


def _surface(rng: np.random.Generator, class_index: int, size: int, colour: np.ndarray) -> np.ndarray:
    """The instance's appearance over the whole canvas: shading plus a class-typical texture."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size
    direction = rng.uniform(0, 2 * math.pi)
    shade = 1 + rng.uniform(0.1, 0.35) * ((xs - 0.5) * math.cos(direction) + (ys - 0.5) * math.sin(direction))
    if class_index == 0:  # cells: soft mottling
        texture = 1 + 0.25 * (_smooth_noise(rng, size, 24) - 0.5)
    elif class_index == 1:  # tiles: stripes
        period = rng.uniform(3, 6)
        texture = 1 + 0.18 * np.sin(2 * math.pi * (xs * math.cos(direction) + ys * math.sin(direction)) * size / period)
    else:  # leaves: veins (sharp ridged noise)
        texture = 1 - 0.35 * np.abs(_smooth_noise(rng, size, 12) - 0.5) ** 0.5
    return np.clip(colour * (shade * texture)[..., None], 0, 255)


def draw_scene(seed: int, kind: str, size: int = 128) -> tuple[Image.Image, list[tuple[int, np.ndarray]]]:
    """(RGB image, [(class index, (H, W) bool visible mask)]) of scene `seed`."""
    rng = np.random.default_rng(seed)
    spec = KINDS[kind]
    scale = size / 128
    canvas = _background(rng, size)
    placed: list[tuple[int, np.ndarray]] = []
    for _ in range(int(rng.integers(spec.objects[0], spec.objects[1] + 1))):
        class_index = int(rng.integers(len(CLASSES)))
        radius = rng.uniform(*spec.size) * scale / 2
        if placed and rng.random() < 0.5:  # touching or overlapping a placed instance
            _, anchor = placed[int(rng.integers(len(placed)))]
            ys, xs = np.nonzero(anchor)
            if len(xs):
                direction = rng.uniform(0, 2 * math.pi)
                cx = xs.mean() + math.cos(direction) * (radius + math.sqrt(len(xs) / math.pi) * rng.uniform(0.5, 1.1))
                cy = ys.mean() + math.sin(direction) * (radius + math.sqrt(len(xs) / math.pi) * rng.uniform(0.5, 1.1))
            else:
                cx, cy = rng.uniform(0, size, 2)
        else:
            cx, cy = rng.uniform(radius * 0.5, size - radius * 0.5, 2)
        mask_image = Image.new("L", (size, size), 0)
        ImageDraw.Draw(mask_image).polygon(_outline(rng, class_index, cx, cy, radius), fill=255)
        mask = np.asarray(mask_image) > 0
        if mask.sum() < MIN_VISIBLE_PIXELS:
            continue
        surface = _surface(rng, class_index, size, _class_colour(rng, class_index))
        soft = np.asarray(mask_image.filter(ImageFilter.GaussianBlur(0.6)), dtype=np.float32)[..., None] / 255
        canvas = canvas * (1 - soft) + surface * soft
        # A new instance hides what it covers of the ones below it.
        placed = [(c, m & ~mask) for c, m in placed] + [(class_index, mask)]
    visible = [(c, m) for c, m in placed if m.sum() >= MIN_VISIBLE_PIXELS]
    image = Image.fromarray(canvas.astype(np.uint8))
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0, 0.9)))
    noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, rng.uniform(2, 9), (size, size, 3))
    image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(rng.integers(60, 95)))
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"), visible


def _splits(train: int, valid: int, test: int):
    """(name, images, seed offset) of each split asked for; the offsets keep the splits' scenes apart."""
    return [(name, count, offset) for name, count, offset in
            (("train", train, 0), ("valid", valid, 1_000_000), ("test", test, 2_000_000)) if count]


def write_instance_dataset(root: Path, kind: str, train: int, valid: int, test: int = 0, seed: int = 0,
                           size: int = 128) -> Path:
    """A COCO instance-segmentation dataset with train, valid and test splits, as the platform stores it."""
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "annotations").mkdir(exist_ok=True)
    splits = {}
    for split, count, offset in _splits(train, valid, test):
        images, annotations = [], []
        for i in range(count):
            image, masks = draw_scene(seed * 10_000_000 + offset + i, kind, size)
            name = f"images/{split}_{i}.jpg"
            image.save(root / name, quality=95)
            images.append({"id": i + 1, "file_name": name, "height": size, "width": size})
            for class_index, mask in masks:
                rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
                x, y, w, h = (float(v) for v in mask_utils.toBbox(rle))
                annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": class_index + 1,
                                    "segmentation": {"size": rle["size"], "counts": rle["counts"].decode("ascii")},
                                    "area": float(mask.sum()), "bbox": [x, y, w, h], "iscrowd": 0})
        coco = {"images": images, "annotations": annotations,
                "categories": [{"id": i + 1, "name": n} for i, n in enumerate(CLASSES)]}
        (root / "annotations" / f"{split}.json").write_text(json.dumps(coco))
        splits[split] = {"coco": f"annotations/{split}.json", "num_images": count}
    manifest = {"format": "coco", "task": "instance_segmentation", "classes": list(CLASSES), "splits": splits}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


def write_semantic_dataset(root: Path, kind: str, train: int, valid: int, test: int = 0, seed: int = 0,
                           size: int = 128) -> Path:
    """Class-index PNG masks (0 = background, then CLASSES) with train, valid and test splits."""
    root = Path(root)
    splits = {}
    for split, count, offset in _splits(train, valid, test):
        (root / split).mkdir(parents=True, exist_ok=True)
        items = []
        for i in range(count):
            image, masks = draw_scene(seed * 10_000_000 + offset + i, kind, size)
            class_map = np.zeros((size, size), dtype=np.uint8)
            for class_index, mask in masks:
                class_map[mask] = class_index + 1
            image.save(root / split / f"{i}.jpg", quality=95)
            Image.fromarray(class_map).save(root / split / f"{i}_mask.png")
            items.append({"image": f"{split}/{i}.jpg", "mask": f"{split}/{i}_mask.png"})
        splits[split] = {"items": items}
    manifest = {"format": "roboflow_seg", "task": "semantic_segmentation", "classes": ["background", *CLASSES],
                "ignore_index": 255, "splits": splits}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root
