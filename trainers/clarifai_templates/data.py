"""Classification manifest splits as (image tensor, multi-hot target) pairs.

Items and image loading come from `trainers.data.classification`; the templates need
their own transforms (min-side resize, flip direction) and a multi-hot target for both
of their losses, so a single-label item [k] becomes the one-hot row k.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch.utils.data import Dataset

from trainers.core import DatasetSpec, TrainerError
from trainers.data import classification as shared


def split_items(dataset: DatasetSpec, *names: str) -> list[dict]:
    """Items of the first split present among `names` ([] when none is)."""
    for name in names:
        if name in dataset.manifest["splits"]:
            return list(shared.split_items(dataset, name))
    return []


def multi_hot(labels: list[int], num_classes: int) -> torch.Tensor:
    target = torch.zeros(num_classes)
    target[torch.as_tensor(labels, dtype=torch.long)] = 1.0
    return target


class ManifestImages(Dataset):
    def __init__(self, dataset: DatasetSpec, items: list[dict], transform: Callable):
        self.root = dataset.root
        self.items = items
        self.num_classes = len(dataset.classes)
        self.transform = transform
        for item in items:
            if any(not 0 <= label < self.num_classes for label in item["labels"]):
                raise TrainerError("invalid_labels", f"{item['image']} has a label outside "
                                                     f"0..{self.num_classes - 1}: {item['labels']}")

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        item = self.items[index]
        image = shared.load_rgb(self.root / item["image"])
        return self.transform(image), multi_hot(item["labels"], self.num_classes)
