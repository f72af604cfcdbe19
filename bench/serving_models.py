"""fai-cls artifacts for the serving benchmarks: untrained weights (speed does not depend on
them) written by the trainer's own export, so they load like any trained model."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from trainers.core import DatasetSpec
from trainers.families import build_trainer

CLASSES = [f"class{i}" for i in range(10)]


def write_fai_cls_artifact(backbone: str, resolution: int, artifact_dir: Path) -> Path:
    """An fai-cls artifact (weights.pt, config.json, labels.json) of `backbone` at `resolution`."""
    with tempfile.TemporaryDirectory() as tmp:
        manifest = {"task": "classification", "multi_label": False, "classes": CLASSES,
                    "splits": {"train": {"items": [{"image": "unused.png", "labels": [0]}]}}}
        (Path(tmp) / "manifest.json").write_text(json.dumps(manifest))
        trainer = build_trainer("fai_cls", {"backbone": backbone, "resolution": resolution},
                                DatasetSpec.load(tmp), Path(tmp) / "work", device="cpu")
        recipe = trainer.recipe
        artifact_dir.mkdir(parents=True, exist_ok=True)
        recipe.export(recipe.build_model().eval(), artifact_dir, {})
    return artifact_dir


def photo(seed: int, size: int = 256) -> Image.Image:
    """A drawn picture with gradients and shapes (compresses like a photo, unlike noise)."""
    image = Image.linear_gradient("L").resize((size, size)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for i in range(6):
        x, y = (seed * 37 + i * 53) % size, (seed * 17 + i * 71) % size
        draw.ellipse([x, y, x + size // 4, y + size // 5], fill=((seed * 40 + i * 90) % 256, 120, 200 - i * 20))
    return image
