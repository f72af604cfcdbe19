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


def steps_per_epoch(num_items: int, batch_size: int, drop_last: bool) -> int:
    return num_items // batch_size if drop_last else math.ceil(num_items / batch_size)
