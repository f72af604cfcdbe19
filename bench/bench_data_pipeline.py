"""The classification input pipeline vs torchvision's ImageFolder + DataLoader.

    .venv/bin/python bench/bench_data_pipeline.py [--images 2000] [--size 48] [--resolution 32] [--epochs 5]

Both read the same JPEG files from disk, with the same transforms (square bilinear resize to
`resolution`, random horizontal flip, to tensor, ImageNet normalisation), batch 64, shuffled,
in the main process (as the engine trains on CPU). Each epoch is timed; the first epoch is
cold for both. Where decoding dominates, the platform decodes each image once and keeps the
resized pixels (trainers/data/decoded_cache.py), so its later epochs skip the decoding.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402
from torchvision import datasets, transforms  # noqa: E402

from trainers.core import DatasetSpec  # noqa: E402
from trainers.data.classification import IMAGENET_MEAN, IMAGENET_STD, ClassificationDataset  # noqa: E402
from trainers.engine.sampling import epoch_indices  # noqa: E402

CLASSES = ("a", "b", "c", "d")
BATCH = 64


def write_images(root: Path, count: int, size: int) -> DatasetSpec:
    """Noise images with a class-coloured square, as JPEG in <class>/<n>.jpg, plus a manifest."""
    rng = np.random.default_rng(0)
    items = []
    for i in range(count):
        label = i % len(CLASSES)
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        pixels[size // 4: size // 2, size // 4: size // 2] = (60 * label, 255 - 60 * label, 128)
        path = Path("train") / CLASSES[label] / f"{i}.jpg"
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(root / path, quality=90)
        items.append({"image": str(path), "labels": [label]})
    manifest = {"task": "classification", "classes": list(CLASSES), "splits": {"train": {"items": items}}}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return DatasetSpec.load(root)


def torchvision_loader(root: Path, resolution: int, epoch: int) -> DataLoader:
    transform = transforms.Compose([
        transforms.Resize((resolution, resolution), interpolation=transforms.InterpolationMode.BILINEAR),
        transforms.RandomHorizontalFlip(0.5), transforms.ToTensor(), transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    dataset = datasets.ImageFolder(str(root / "train"), transform=transform)
    return DataLoader(dataset, batch_size=BATCH, shuffle=True, generator=torch.Generator().manual_seed(epoch))


def platform_loader(dataset: ClassificationDataset, epoch: int) -> DataLoader:
    """As the engine builds it: a deterministic per-epoch order as the sampler."""
    return DataLoader(dataset, batch_size=BATCH, sampler=epoch_indices(len(dataset), None, 0, epoch))


def time_epoch(loader: DataLoader) -> float:
    start = time.perf_counter()
    seen = 0
    for images, _ in loader:
        seen += len(images)
    elapsed = time.perf_counter() - start
    assert seen == len(loader.dataset)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--size", type=int, default=48, help="side of the JPEG files")
    parser.add_argument("--resolution", type=int, default=32, help="side the model sees")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)  # per-image work: threads only add overhead
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        spec = write_images(root, args.images, args.size)
        ours = ClassificationDataset(spec, "train", args.resolution, multi_label=False, train=True,
                                     horizontal_flip=0.5)
        times = {"torchvision": [], "platform": []}
        for epoch in range(1, args.epochs + 1):  # alternating, so both see the same page cache
            times["torchvision"].append(time_epoch(torchvision_loader(root, args.resolution, epoch)))
            times["platform"].append(time_epoch(platform_loader(ours, epoch)))
            print(f"epoch {epoch}: torchvision {times['torchvision'][-1]:.2f} s   platform {times['platform'][-1]:.2f} s",
                  flush=True)
    n = args.images
    print(f"{n} JPEG images {args.size}x{args.size} -> {args.resolution}x{args.resolution}, batch {BATCH}, "
          f"{args.epochs} epochs, main process; decoded cache {ours.cache.nbytes / 2**20:.1f} MiB")
    for label, pick in (("first epoch", slice(0, 1)), ("later epochs", slice(1, None)), ("all epochs", slice(None))):
        tv, pf = sum(times["torchvision"][pick]), sum(times["platform"][pick])
        if not times["platform"][pick]:
            continue
        epochs = len(times["platform"][pick])
        print(f"{label:12s}: torchvision {n * epochs / tv:8.0f} img/s   platform {n * epochs / pf:8.0f} img/s   "
              f"ratio platform/torchvision {tv / pf:.2f} (target >= 1.0)")


if __name__ == "__main__":
    main()
