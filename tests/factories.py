"""Small real data the tests make: images, zip archives."""
from __future__ import annotations

import io
import random
import zipfile
import zlib
from pathlib import Path

from PIL import Image

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}


def colour_image(colour: str, size: int = 32, seed: int = 0) -> Image.Image:
    """A noisy square of one colour: easy to learn, not trivially constant."""
    rng = random.Random(f"{colour}-{seed}")
    base = COLOURS[colour]
    image = Image.new("RGB", (size, size))
    image.putdata(
        [tuple(max(0, min(255, c + rng.randint(-40, 40))) for c in base) for _ in range(size * size)]
    )
    return image


def image_bytes(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def classification_zip(
    path: Path, classes=("red", "blue"), per_class: dict | None = None, size: int = 32, root: str = ""
) -> Path:
    """`<split>/<class>/<n>.png` archive; per_class maps split -> images per class."""
    per_class = per_class or {"train": 8, "valid": 4}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for split, count in per_class.items():
            for colour in classes:
                for n in range(count):
                    name = f"{root}{split}/{colour}/{n}.png"
                    # crc32, not hash(): str hashes change with every process (PYTHONHASHSEED)
                    seed = zlib.crc32(f"{split}/{n}".encode()) % 10_000
                    archive.writestr(name, image_bytes(colour_image(colour, size, seed=seed)))
    return path


def mislabelled_zip(path: Path, swapped: str, per_split: dict | None = None) -> Path:
    """red and blue folders whose `swapped` split holds images drawn in the other colour: every
    one of them is a mistake of a model that learned the colours from the others."""
    per_split = per_split or {"train": 4, "valid": 3, "test": 3}
    with zipfile.ZipFile(path, "w") as archive:
        for split, count in per_split.items():
            for folder, other in (("red", "blue"), ("blue", "red")):
                for n in range(count):
                    colour = other if split == swapped else folder
                    archive.writestr(f"{split}/{folder}/{n}.png", image_bytes(colour_image(colour, 32, seed=n)))
    return path


def coco_zip(path: Path, num_images: int = 4) -> Path:
    """A COCO instance-segmentation archive of drawn boxes (polygons) and discs (RLE);
    the same images serve as train and valid so a tiny model can be checked on them."""
    import json
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent / "trainers"))
    from fai_mf_toys import write_coco_dataset

    root = path.parent / (path.stem + "-src")
    write_coco_dataset(root, num_images)
    coco = json.loads((root / "annotations" / "train.json").read_text())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for split in ("train", "valid"):
            archive.writestr(f"annotations/instances_{split}.json", json.dumps(coco))
        for image in coco["images"]:
            archive.write(root / image["file_name"], image["file_name"])
    return path


def roboflow_seg_zip(path: Path, num_images: int = 4) -> Path:
    """A roboflow semantic-segmentation archive: `_classes.csv` + image + `<name>_mask.png` per split."""
    import sys

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parent / "trainers"))
    from fai_mf_toys import SEMANTIC_CLASSES, draw

    csv = "Pixel Value, Class\n" + "".join(f"{value}, {name}\n" for value, name in enumerate(SEMANTIC_CLASSES))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for split in ("train", "valid"):
            archive.writestr(f"{split}/_classes.csv", csv)
            for index in range(num_images):
                image, masks = draw(index)
                class_map = np.zeros(image.size[::-1], dtype=np.uint8)
                for name, mask in masks:
                    class_map[mask] = SEMANTIC_CLASSES.index(name)
                archive.writestr(f"{split}/img{index}.jpg", image_bytes(image, "JPEG"))
                archive.writestr(f"{split}/img{index}_mask.png", image_bytes(Image.fromarray(class_map)))
    return path


def roboflow_coco_zip(path: Path, num_images: int = 4) -> Path:
    """`train/` and `valid/` folders, each with `_annotations.coco.json` and its images."""
    import json

    coco_src = coco_zip(path.with_name(path.stem + "-coco.zip"), num_images)
    with zipfile.ZipFile(coco_src) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        coco = json.loads(source.read("annotations/instances_train.json"))
        for split in ("train", "valid"):
            split_coco = {**coco, "images": [{**image, "file_name": Path(image["file_name"]).name} for image in coco["images"]]}
            archive.writestr(f"{split}/_annotations.coco.json", json.dumps(split_coco))
            for image in coco["images"]:
                archive.writestr(f"{split}/{Path(image['file_name']).name}", source.read(image["file_name"]))
    return path


def store_manifest(dataset):
    """Gives a ready Dataset row made by hand the manifest an import would have published
    (one label per image; no image files), since submission reads its labels."""
    import json
    import tempfile
    import uuid

    from platform_api.storage import get_storage

    classes = dataset.classes or ["a", "b"]
    splits = {name: {"items": [{"image": f"{name}/{n}.png", "labels": [n % len(classes)]} for n in range(count)]}
              for name, count in (dataset.splits or {"train": 2}).items()}
    manifest = {"format": dataset.format, "task": dataset.task, "multi_label": False, "classes": classes, "splits": splits}
    # Its own key, as an import's is: manifests are cached by content key, and a later test's
    # dataset may reuse this one's id.
    dataset.content_key = dataset.content_key or f"datasets/{dataset.pk}/content-{uuid.uuid4().hex[:12]}"
    dataset.save(update_fields=["content_key"])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "manifest.json"
        path.write_text(json.dumps(manifest))
        get_storage().save_file(f"{dataset.content_key}/manifest.json", path)
    return dataset
