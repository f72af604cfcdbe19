"""Classification quality: each Clarifai template, with its defaults, against a bare loop of
the same architecture, on the same data, image size, epochs and batch (bench_quality.py).

Data: one textured object per photo-like scene (bench/scenes.py, kind "single"), labelled
with its class; train, valid (the template keeps its best epoch by it, as a job does) and
test (scored for both). The bare loop is what one writes by hand for a short run from random
weights: the template's own network (features + linear head), AdamW (1e-3, weight decay
0.05) with a cosine schedule, random crops and flips, fp32.
"""
from __future__ import annotations

import json
import math
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2 as T

from scenes import CLASSES, draw_scene
from trainers.core import DatasetSpec
from trainers.data.classification import IMAGENET_MEAN, IMAGENET_STD
from trainers.families import build_trainer, load_predictor

# Template key -> (catalogue name, architecture, values a short run from random weights needs).
TEMPLATES = {
    "clarifai_inception_batchnorm": ("Clarifai_InceptionBatchNorm", "bn_inception", {}),
    "clarifai_inception_v2": ("Clarifai_InceptionV2", "bn_inception", {}),
    "clarifai_resnext": ("Clarifai_ResNext", "resnext50_32x4d", {}),
    "clarifai_inception_transfer_embed_norm": ("Clarifai_InceptionTransferEmbedNorm", "bn_inception", {}),
    "clarifai_resnet50_rsb_a1": ("MMClassification_ResNet_50_RSB_A1", "resnet50", {"pretrained_weights": "None"}),
}
BARE_LEARNING_RATE = 1e-3
BARE_WEIGHT_DECAY = 0.05


def write_classification_dataset(root: Path, train: int, valid: int, test: int, seed: int = 0) -> Path:
    """One object per scene; the label is its class. Scenes are drawn at 128 px."""
    root = Path(root)
    splits = {}
    for split, count, offset in (("train", train, 0), ("valid", valid, 1_000_000), ("test", test, 2_000_000)):
        (root / split).mkdir(parents=True, exist_ok=True)
        items = []
        for i in range(count):
            image, masks = draw_scene(seed * 10_000_000 + offset + i, "single")
            if len(masks) != 1:  # the one object was drawn too small to annotate
                continue
            image.save(root / split / f"{i}.jpg", quality=95)
            items.append({"image": f"{split}/{i}.jpg", "labels": [masks[0][0]]})
        splits[split] = {"items": items}
    manifest = {"format": "classification_folder", "task": "classification", "multi_label": False,
                "classes": list(CLASSES), "splits": splits}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


class _Images(Dataset):
    def __init__(self, root: Path, items: list[dict], transform):
        self.root, self.items, self.transform = Path(root), items, transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        item = self.items[index]
        return self.transform(Image.open(self.root / item["image"]).convert("RGB")), item["labels"][0]


def _transform(image_size: int, train: bool):
    steps = [T.Resize(image_size), T.RandomCrop(image_size) if train else T.CenterCrop(image_size)]
    if train:
        steps.append(T.RandomHorizontalFlip())
    return T.Compose([*steps, T.ToImage(), T.ToDtype(torch.float32, scale=True), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])


def train_bare(root: Path, architecture: str, image_size: int, epochs: int, batch_size: int, seed: int = 0):
    """(accuracy on the test split, wall seconds of training) of the bare loop."""
    from trainers.clarifai_templates.model import ClarifaiClassifier, build_feature_extractor

    manifest = json.loads((root / "manifest.json").read_text())
    torch.manual_seed(seed)
    model = ClarifaiClassifier(build_feature_extractor(architecture), len(manifest["classes"]))
    loader = DataLoader(_Images(root, manifest["splits"]["train"]["items"], _transform(image_size, True)),
                        batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed))
    optimizer = torch.optim.AdamW(model.parameters(), lr=BARE_LEARNING_RATE, weight_decay=BARE_WEIGHT_DECAY)
    total = epochs * len(loader)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * step / total)))
    start = time.perf_counter()
    model.train()
    for _ in range(epochs):
        for images, labels in loader:
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
    seconds = time.perf_counter() - start
    model.eval()
    correct = count = 0
    with torch.no_grad():
        for images, labels in DataLoader(_Images(root, manifest["splits"]["test"]["items"],
                                                 _transform(image_size, False)), batch_size=batch_size):
            correct += int((model(images).argmax(1) == labels).sum())
            count += len(labels)
    return correct / count, seconds


def train_template(root: Path, key: str, overrides: dict, image_size: int, epochs: int, batch_size: int):
    """(accuracy on the test split through the deployed predictor, wall seconds of the fit)."""
    hyperparameters = {"image_size": image_size, "batch_size": batch_size, "num_epochs": epochs, **overrides}
    work_dir = Path(tempfile.mkdtemp(prefix="bench_quality_cls_"))
    start = time.perf_counter()
    result = build_trainer(key, hyperparameters, DatasetSpec.load(root), work_dir).fit()
    seconds = time.perf_counter() - start
    predictor = load_predictor(result.artifact_dir)
    items = json.loads((root / "manifest.json").read_text())["splits"]["test"]["items"]
    correct = 0
    for start_index in range(0, len(items), batch_size):
        chunk = items[start_index:start_index + batch_size]
        predictions = predictor.predict([Image.open(root / item["image"]).convert("RGB") for item in chunk])
        for item, concepts in zip(chunk, predictions):  # concepts come highest first
            correct += int(concepts[0]["cls_id"] == item["labels"][0])
    return correct / len(items), seconds, result.precision
