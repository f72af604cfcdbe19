"""Readers of the platform's segmentation manifests (trainers/README.md) for training.

Each item is (image (3, R, R) float in [0, 1], target {"labels": (T,) int64,
"masks": (T, R, R) bool}). Instance: one target per non-crowd COCO annotation, class =
category_id - 1. Semantic: one target per class present in the mask image (as in
Mask2Former's semantic training); ignore-index pixels belong to no target.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import Dataset

from trainers.data.coco import load_coco
from trainers.data.images import open_rgb
from trainers.data.masks import annotation_mask

from .transforms import SquareTransform, image_to_tensor

IGNORE_INDEX = 255


def empty_target(resolution: int) -> dict[str, torch.Tensor]:
    return {"labels": torch.zeros(0, dtype=torch.int64),
            "masks": torch.zeros((0, resolution, resolution), dtype=torch.bool)}


class CocoInstanceDataset(Dataset):
    def __init__(self, root: Path, coco_file: str, transform: SquareTransform):
        self.root = Path(root)
        self.coco = load_coco(self.root / coco_file)
        self.image_ids = sorted(self.coco.imgs)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.image_ids)

    def __getitem__(self, index: int):
        info = self.coco.imgs[self.image_ids[index]]
        image = image_to_tensor(open_rgb(self.root / info["file_name"]))
        h, w = info.get("height", image.shape[-2]), info.get("width", image.shape[-1])
        anns = [a for a in self.coco.imgToAnns.get(info["id"], []) if not a.get("iscrowd", 0)]
        masks = np.stack([annotation_mask(a, h, w) for a in anns]) if anns else np.zeros((0, h, w), np.uint8)
        masks = torch.from_numpy(masks)
        if masks.shape[-2:] != image.shape[-2:]:  # annotations drawn for another size of the image
            masks = F.interpolate(masks[None], size=tuple(image.shape[-2:]), mode="nearest-exact")[0]
        labels = torch.as_tensor([a["category_id"] - 1 for a in anns], dtype=torch.int64)
        image, masks = self.transform(image, masks, pad_label=0)
        masks = masks.bool()
        keep = masks.flatten(1).any(1)  # objects cropped away entirely are no longer targets
        return image, {"labels": labels[keep], "masks": masks[keep]}


def read_class_map(path: Path) -> torch.Tensor:
    """(H, W) int64 class indices of a single-channel mask PNG."""
    return torch.from_numpy(np.asarray(Image.open(path), dtype=np.int64).copy())


class SemanticDataset(Dataset):
    def __init__(self, root: Path, items: list[dict], num_classes: int, transform: SquareTransform,
                 ignore_index: int = IGNORE_INDEX):
        self.root = Path(root)
        self.items = list(items)
        self.num_classes = num_classes
        self.transform = transform
        self.ignore_index = ignore_index

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        item = self.items[index]
        image = image_to_tensor(open_rgb(self.root / item["image"]))
        class_map = read_class_map(self.root / item["mask"])
        if class_map.max() <= 255:  # 8-bit PNG values: resize as uint8, without a float copy
            class_map = class_map.to(torch.uint8)
        image, class_map = self.transform(image, class_map[None], pad_label=self.ignore_index)
        class_map = class_map[0].long()
        present = [c for c in torch.unique(class_map).tolist() if c != self.ignore_index and c < self.num_classes]
        labels = torch.as_tensor(present, dtype=torch.int64)
        masks = class_map[None] == labels[:, None, None]
        return image, {"labels": labels, "masks": masks}


def collate(batch):
    """Stack images; targets stay a list (their number of masks differs)."""
    images, targets = zip(*batch)
    return torch.stack(images), list(targets)
