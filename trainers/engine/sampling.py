"""Deterministic per-epoch sample order: a function of (seed, epoch) only, so resume is exact."""
from __future__ import annotations

import math

import torch


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 100_003 + epoch)


def epoch_indices(dataset_size: int, items_per_epoch: int | None, seed: int, epoch: int) -> list[int]:
    """A shuffled permutation; with items_per_epoch > size, sampled with replacement."""
    g = epoch_generator(seed, epoch)
    if items_per_epoch is None or items_per_epoch == dataset_size:
        return torch.randperm(dataset_size, generator=g).tolist()
    if items_per_epoch < dataset_size:
        return torch.randperm(dataset_size, generator=g)[:items_per_epoch].tolist()
    return torch.randint(dataset_size, (items_per_epoch,), generator=g).tolist()


def _items_kept(num_items: int, batch_size: int) -> int:
    """An epoch's last item is left out when it would be a batch on its own: BatchNorm cannot
    train on one image whose last maps are 1x1, and one image is a poor estimate anyway."""
    return num_items - 1 if batch_size > 1 and num_items % batch_size == 1 else num_items


def trim_lone_last_item(indices: list[int], batch_size: int) -> list[int]:
    """The epoch's order without a lone last item (a different one each epoch: the order changes)."""
    return indices[:_items_kept(len(indices), batch_size)]


def steps_per_epoch(num_items: int, batch_size: int, drop_last: bool) -> int:
    if drop_last:
        return num_items // batch_size
    return math.ceil(_items_kept(num_items, batch_size) / batch_size)
