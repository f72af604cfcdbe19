"""Tiny synthetic segmentation datasets (real masks drawn with PIL) and the tiny FAI-MF config."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from pycocotools import mask as mask_utils

from trainers.core import DatasetSpec

SIZE = 64
CLASSES = ["box", "disc"]
COLOURS = {"box": (220, 40, 40), "disc": (40, 60, 220)}

TINY_HYPERPARAMETERS = {
    "backbone": "tiny_test", "resolution": 64, "num_queries": 8,
    "pixel_decoder_out_dim": 32, "pixel_decoder_feat_dim": 32, "pixel_decoder_encoder_layers": 1,
    "transformer_predictor_hidden_dim": 32, "transformer_predictor_dec_layers": 2, "head_out_dim": 32,
    "learning_rate": 3e-3, "backbone_multiplier": 1.0, "weight_decay": 0.0, "warmup_iters": 0,
    "grad_clip_norm": 0.0, "augmentation_strength": 0.0, "batch_size": 4, "threshold": 0.3,
}
TINY_MODEL_OVERRIDES = {"num_heads": 4, "encoder_ffn_dim": 64, "decoder_ffn_dim": 64, "num_points": 256}
TINY_ENGINE_OVERRIDES = {"precision": "fp32", "channels_last": False}


def layout(index: int) -> list[tuple[str, tuple[int, int, int, int]]]:
    """Shapes of image `index`: a box and a disc at positions that vary with the index."""
    rng = np.random.default_rng(index)
    x = int(rng.integers(2, 14))
    y = int(rng.integers(2, 30))
    shapes = [("box", (x, y, x + 20, y + 24))]
    cx, cy = int(rng.integers(38, 48)), int(rng.integers(14, 46))
    shapes.append(("disc", (cx - 12, cy - 12, cx + 12, cy + 12)))
    return shapes


def draw(index: int) -> tuple[Image.Image, list[tuple[str, np.ndarray]]]:
    image = Image.new("RGB", (SIZE, SIZE), (200, 200, 190))
    masks = []
    for name, box in layout(index):
        mask = Image.new("L", (SIZE, SIZE), 0)
        shape = ImageDraw.Draw(mask).rectangle if name == "box" else ImageDraw.Draw(mask).ellipse
        shape(box, fill=255)
        image.paste(COLOURS[name], mask=mask)
        masks.append((name, np.asarray(mask) > 0))
    return image, masks


def write_coco_dataset(root: Path, num_images: int = 4) -> DatasetSpec:
    """Boxes annotated as polygons, discs as compressed RLE (both readers exercised)."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for i in range(num_images):
        image, masks = draw(i)
        image.save(root / "images" / f"{i}.png")
        images.append({"id": i + 1, "file_name": f"images/{i}.png", "height": SIZE, "width": SIZE})
        for (name, mask), (_, (x1, y1, x2, y2)) in zip(masks, layout(i)):
            if name == "box":
                segmentation = [[x1, y1, x2 + 1, y1, x2 + 1, y2 + 1, x1, y2 + 1]]
            else:
                rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
                segmentation = {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1,
                                "category_id": CLASSES.index(name) + 1, "segmentation": segmentation,
                                "area": float(mask.sum()), "bbox": [x1, y1, x2 - x1 + 1, y2 - y1 + 1],
                                "iscrowd": 0})
    coco = {"images": images, "annotations": annotations,
            "categories": [{"id": i + 1, "name": n} for i, n in enumerate(CLASSES)]}
    (root / "annotations").mkdir(exist_ok=True)
    (root / "annotations" / "train.json").write_text(json.dumps(coco))
    manifest = {"format": "coco", "task": "instance_segmentation", "classes": CLASSES,
                "splits": {"train": {"coco": "annotations/train.json", "num_images": num_images}}}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return DatasetSpec.load(root)


SEMANTIC_CLASSES = ["background", "box", "disc"]
IGNORE = 255


def write_semantic_dataset(root: Path, num_images: int = 4) -> DatasetSpec:
    """Class-index PNG masks; a 1-pixel ignore (255) ring around each disc."""
    (root / "train").mkdir(parents=True, exist_ok=True)
    items = []
    for i in range(num_images):
        image, masks = draw(i)
        class_map = np.zeros((SIZE, SIZE), dtype=np.uint8)
        for (name, mask), (_, (x1, y1, x2, y2)) in zip(masks, layout(i)):
            if name == "disc":
                ring = Image.new("L", (SIZE, SIZE), 0)
                ImageDraw.Draw(ring).ellipse((x1 - 1, y1 - 1, x2 + 1, y2 + 1), fill=255)
                class_map[np.asarray(ring) > 0] = IGNORE
            class_map[mask] = SEMANTIC_CLASSES.index(name)
        image.save(root / "train" / f"{i}.png")
        Image.fromarray(class_map).save(root / "train" / f"{i}_mask.png")
        items.append({"image": f"train/{i}.png", "mask": f"train/{i}_mask.png"})
    manifest = {"format": "roboflow_seg", "task": "semantic_segmentation", "classes": SEMANTIC_CLASSES,
                "ignore_index": 255, "splits": {"train": {"items": items}}}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return DatasetSpec.load(root)
