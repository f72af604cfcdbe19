"""Precise BatchNorm statistics (as pycls / detectron2's PreciseBN) before each evaluation.

BatchNorm's running statistics are an exponential average (momentum 0.1) that lags the
weights; after a short training - a Clarifai dataset may hold a few dozen images - they
are still close to their initial 0/1 and the evaluated (and exported) model predicts
one class for everything while the training batches are fitted perfectly. Recomputing
them as a plain average over up to `max_items` training images (evaluation transform)
gives the statistics of the current weights.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

DEFAULT_MAX_ITEMS = 512


@torch.no_grad()
def recompute_batch_norm_statistics(model: nn.Module, dataset: Dataset, batch_size: int, device: torch.device,
                                    max_items: int = DEFAULT_MAX_ITEMS) -> int:
    """Returns the number of images used (0 = nothing recomputed: fewer than 2 images)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    count = min(len(dataset), max_items)
    if not norms or count < 2:
        return 0
    batch_size = min(max(2, batch_size), count)  # a batch of one has no variance
    # A fixed random subset: manifests are often ordered by class, and batches of a single
    # class would miss the between-class part of the variance.
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))[:count]
    subset = torch.utils.data.Subset(dataset, order.tolist())
    was_training = model.training
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    model.train()
    used = 0
    for images, _ in DataLoader(subset, batch_size=batch_size, shuffle=False, drop_last=True):
        model(images.to(device))
        used += len(images)
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    model.train(was_training)
    return used
