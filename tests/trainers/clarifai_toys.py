"""Tiny drawn datasets for the Clarifai template tests (no downloads, a few KB on disk)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageDraw

from trainers.core import DatasetSpec

COLOURS = {"red": (220, 30, 30), "blue": (30, 30, 220), "green": (30, 200, 30)}


def draw(colour: str, index: int, size=(40, 32)) -> Image.Image:
    """A grey image with a coloured rectangle whose position varies with `index`."""
    image = Image.new("RGB", size, (128, 128, 128))
    x, y = 2 + (index * 5) % (size[0] // 2), 2 + (index * 3) % (size[1] // 2)
    ImageDraw.Draw(image).rectangle([x, y, x + size[0] // 2, y + size[1] // 2], fill=COLOURS[colour])
    return image


def make_dataset(root: Path, classes=("red", "blue"), per_class: int = 4, valid_per_class: int = 2,
                 size=(40, 32), multi_label: bool = False) -> DatasetSpec:
    root = Path(root)
    splits = {}
    for split, count in (("train", per_class), ("valid", valid_per_class)):
        items = []
        for label, colour in enumerate(classes):
            for i in range(count):
                path = Path(split) / colour / f"{i}.png"
                (root / path).parent.mkdir(parents=True, exist_ok=True)
                draw(colour, i + (100 if split == "valid" else 0), size).save(root / path)
                items.append({"image": str(path), "labels": [label]})
        if count:
            splits[split] = {"items": items}
    manifest = {"format": "classification_folder", "task": "classification", "multi_label": multi_label,
                "classes": list(classes), "splits": splits}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return DatasetSpec.load(root)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The CI box has 2 cores shared with other test processes; torch's default thread pool
    oversubscribes them and makes these tiny models ~10x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
