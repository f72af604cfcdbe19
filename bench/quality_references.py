"""The references a user would pick instead of FAI-MF, as bare torchvision training loops.

- Instance: torchvision's Mask R-CNN with an FPN on ResNet-18 (the same backbone as the
  FAI-MF run), no pretrained weights, trainable batch norm; SGD 0.02 with momentum, linear
  warmup then cosine, horizontal flips, 128 sampled RoIs per image. The rate is torchvision's detection
  reference's, 0.02 at batch 16, scaled linearly to the batch (0.005 at 4): 0.02 at batch 4
  diverged (NaN) from random weights here.
- Semantic: torchvision's DeepLabV3 with a MobileNetV3-Large backbone (about the size of
  ResNet-18), no pretrained weights; SGD 0.02, poly decay, flips, as torchvision's
  segmentation references train it.

Both read the benchmark's datasets with FAI-MF's own readers, so they see the same pixels.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
from torchvision.models.segmentation import deeplabv3_mobilenet_v3_large
from torchvision.ops import masks_to_boxes

from trainers.data.classification import IMAGENET_MEAN, IMAGENET_STD
from trainers.data.coco import load_coco
from trainers.data.images import open_rgb
from trainers.fai_mf.data import CocoInstanceDataset, collate, read_class_map
from trainers.fai_mf.transforms import SquareTransform, image_to_tensor, resize_image
from trainers.metrics.segmentation import ConfusionMatrix, semantic_metrics

LEARNING_RATE = 0.02
DETECTION_RATE_PER_IMAGE = 0.02 / 16  # torchvision's detection reference: 0.02 at batch 16, scaled linearly
MOMENTUM = 0.9
WEIGHT_DECAY = 1e-4
WARMUP_FRACTION = 0.05


def _warmup_cosine(total_steps: int):
    warmup = max(1, int(total_steps * WARMUP_FRACTION))
    return lambda step: (step + 1) / warmup if step < warmup else \
        0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total_steps - warmup)))


def _step(loss: torch.Tensor, optimizer, scheduler, name: str) -> None:
    if not torch.isfinite(loss):  # a reference that diverged would make every ratio meaningless
        raise RuntimeError(f"{name}'s loss became {float(loss)}")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    scheduler.step()


def _flip(image: torch.Tensor, target_masks: torch.Tensor):
    if torch.rand(()) < 0.5:
        return image.flip(-1), target_masks.flip(-1)
    return image, target_masks


def train_mask_rcnn(root: Path, num_classes: int, resolution: int, epochs: int, batch_size: int,
                    seed: int = 0) -> tuple[MaskRCNN, float]:
    """(trained model in eval mode, wall seconds of training)."""
    torch.manual_seed(seed)
    # Trainable batch norm, as torchvision's maskrcnn_resnet50_fpn builder picks without pretrained
    # weights (resnet_fpn_backbone's default, frozen statistics, is for a pretrained backbone).
    backbone = resnet_fpn_backbone(backbone_name="resnet18", weights=None, trainable_layers=5,
                                   norm_layer=torch.nn.BatchNorm2d)
    model = MaskRCNN(backbone, num_classes=num_classes + 1, min_size=resolution, max_size=resolution,
                     box_batch_size_per_image=128, box_score_thresh=0.0, box_detections_per_img=100)
    dataset = CocoInstanceDataset(root, "annotations/train.json", SquareTransform(resolution, 0.0))
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, collate_fn=collate,
                        generator=torch.Generator().manual_seed(seed))
    optimizer = torch.optim.SGD(model.parameters(), lr=DETECTION_RATE_PER_IMAGE * batch_size, momentum=MOMENTUM,
                                weight_decay=WEIGHT_DECAY)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _warmup_cosine(epochs * len(loader)))
    start = time.perf_counter()
    model.train()
    for _ in range(epochs):
        for images, targets in loader:
            inputs, detection_targets = [], []
            for image, target in zip(images, targets):
                image, masks = _flip(image, target["masks"])
                if len(masks) == 0:
                    continue
                inputs.append(image)
                detection_targets.append({"boxes": masks_to_boxes(masks).float(), "labels": target["labels"] + 1,
                                          "masks": masks.to(torch.uint8)})
            if not inputs:
                continue
            _step(sum(model(inputs, detection_targets).values()), optimizer, scheduler, "Mask R-CNN")
    return model.eval(), time.perf_counter() - start


@torch.no_grad()
def mask_rcnn_detections(model: MaskRCNN, root: Path, coco_file: str, resolution: int) -> dict[int, dict]:
    """image id -> {"scores", "labels" (0-based), "masks" (N, H, W) bool at the annotated size}."""
    coco = load_coco(Path(root) / coco_file)
    results = {}
    for image_id in sorted(coco.imgs):
        info = coco.imgs[image_id]
        image = image_to_tensor(open_rgb(Path(root) / info["file_name"]))
        output = model([resize_image(image, resolution)])[0]
        masks = F.interpolate(output["masks"], size=(info["height"], info["width"]), mode="bilinear",
                              align_corners=False)[:, 0] > 0.5
        results[image_id] = {"scores": output["scores"], "labels": output["labels"] - 1, "masks": masks}
    return results


def _normalised(images: torch.Tensor) -> torch.Tensor:
    """ImageNet normalisation of (B, 3, H, W) images in [0, 1], as FAI-MF applies it."""
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (images - mean) / std


def _semantic_batches(root: Path, items: list[dict], resolution: int, batch_size: int, generator):
    order = torch.randperm(len(items), generator=generator).tolist()
    for start in range(0, len(order), batch_size):
        chunk = [items[i] for i in order[start:start + batch_size]]
        images, maps = [], []
        for item in chunk:
            image = resize_image(image_to_tensor(open_rgb(Path(root) / item["image"])), resolution)
            class_map = F.interpolate(read_class_map(Path(root) / item["mask"])[None, None].float(),
                                      size=(resolution, resolution), mode="nearest-exact")[0].long()
            image, class_map = _flip(image, class_map)
            images.append(image)
            maps.append(class_map[0])
        yield torch.stack(images), torch.stack(maps)


def train_deeplab(root: Path, items: list[dict], num_classes: int, resolution: int, epochs: int,
                  batch_size: int, ignore_index: int, seed: int = 0):
    """(trained DeepLabV3-MobileNetV3 in eval mode, wall seconds of training)."""
    torch.manual_seed(seed)
    model = deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=num_classes)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    steps = epochs * math.ceil(len(items) / batch_size)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: (1 - step / steps) ** 0.9)
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    model.train()
    for _ in range(epochs):
        for images, maps in _semantic_batches(root, items, resolution, batch_size, generator):
            logits = model(_normalised(images))["out"]
            _step(F.cross_entropy(logits, maps, ignore_index=ignore_index), optimizer, scheduler, "DeepLabV3")
    return model.eval(), time.perf_counter() - start


@torch.no_grad()
def deeplab_scores(model, root: Path, items: list[dict], class_names: list[str], resolution: int,
                   ignore_index: int) -> dict[str, float]:
    confusion = ConfusionMatrix(len(class_names), ignore_index)
    for item in items:
        image = image_to_tensor(open_rgb(Path(root) / item["image"]))
        logits = model(_normalised(resize_image(image, resolution)[None]))["out"]
        logits = F.interpolate(logits, size=tuple(image.shape[-2:]), mode="bilinear", align_corners=False)
        confusion.update(logits[0].argmax(0).numpy(), np.asarray(read_class_map(Path(root) / item["mask"])))
    return semantic_metrics(confusion.matrix, class_names)
