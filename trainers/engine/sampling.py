"""Deterministic per-epoch sample order: a function of (seed, epoch) only, so resume is exact."""
from __future__ import annotations

import torch

from trainers.epoch_steps import items_kept, steps_per_epoch  # noqa: F401  (the loop's import)


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 100_003 + epoch)


def worker_generator(seed: int, epoch: int, rank: int) -> torch.Generator:
    """What seeds an epoch's DataLoader workers (their augmentations) on `rank`: rank 0's is the
    epoch's generator (so one-device runs resume as before); other ranks draw streams of their
    own, not copies of rank 0's augmentations on their share of the images."""
    return torch.Generator().manual_seed(seed * 100_003 + epoch + 1_000_003 * rank)


def epoch_indices(dataset_size: int, items_per_epoch: int | None, seed: int, epoch: int) -> list[int]:
    """A shuffled permutation; with items_per_epoch > size, sampled with replacement."""
    g = epoch_generator(seed, epoch)
    if items_per_epoch is None or items_per_epoch == dataset_size:
        return torch.randperm(dataset_size, generator=g).tolist()
    if items_per_epoch < dataset_size:
        return torch.randperm(dataset_size, generator=g)[:items_per_epoch].tolist()
    return torch.randint(dataset_size, (items_per_epoch,), generator=g).tolist()


def trim_lone_last_item(indices: list[int], batch_size: int) -> list[int]:
    """The epoch's order without a lone last item (a different one each epoch: the order changes)."""
    return indices[:items_kept(len(indices), batch_size)]
