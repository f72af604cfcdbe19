"""Draw tiny classification datasets with PIL: coloured squares on a grey, noisy background."""
from __future__ import annotations

import json
import random
from pathlib import Path

from PIL import Image, ImageDraw

COLOURS = {"red": (220, 30, 30), "blue": (30, 30, 220)}


def draw(colours: list[str], rng: random.Random, size: int = 32) -> Image.Image:
    image = Image.new("RGB", (size, size), (128, 128, 128))
    pixels = image.load()
    for x in range(size):
        for y in range(size):
            g = 128 + rng.randint(-20, 20)
            pixels[x, y] = (g, g, g)
    d = ImageDraw.Draw(image)
    for colour in colours:
        side = rng.randint(10, 14)
        x, y = rng.randint(0, size - side), rng.randint(0, size - side)
        d.rectangle([x, y, x + side, y + side], fill=COLOURS[colour])
    return image


def write_dataset(root: Path, per_split: dict[str, int], multi_label: bool = False, seed: int = 0) -> Path:
    """Single-label: one red or one blue square. Multi-label: any non-empty subset of them."""
    rng = random.Random(seed)
    classes = ["red", "blue"]
    options = [["red"], ["blue"], ["red", "blue"]] if multi_label else [["red"], ["blue"]]
    splits = {}
    for split, count in per_split.items():
        items = []
        for i in range(count):
            colours = options[i % len(options)]
            path = f"{split}/{i}.png"
            (root / split).mkdir(parents=True, exist_ok=True)
            draw(colours, rng).save(root / path)
            items.append({"image": path, "labels": [classes.index(c) for c in colours]})
        splits[split] = {"items": items}
    manifest = {"format": "classification_folder", "task": "classification", "multi_label": multi_label,
                "classes": classes, "splits": splits}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root
