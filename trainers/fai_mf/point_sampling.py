"""Point sampling (PointRend / Mask2Former): evaluate masks at sampled points, not every pixel."""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F


def point_sample(values: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of (N, C, H, W) `values` at (N, P, 2) `coords` in [0, 1] (x, y) -> (N, C, P)."""
    grid = 2.0 * coords.unsqueeze(2) - 1.0
    return F.grid_sample(values, grid.to(values.dtype), align_corners=False).squeeze(3)


def uncertainty(logits: torch.Tensor) -> torch.Tensor:
    """Higher for logits near 0 (the decision boundary)."""
    return -torch.abs(logits)


def uncertain_point_coords(
    logits: torch.Tensor,
    num_points: int,
    oversample_ratio: float,
    importance_sample_ratio: float,
    uncertainty_fn: Callable[[torch.Tensor], torch.Tensor] = uncertainty,
) -> torch.Tensor:
    """(N, P, 2) coords: the most uncertain of `oversample_ratio * P` random points, plus random ones.

    `logits` is (N, 1, H, W). A fraction `importance_sample_ratio` of the points are the
    most uncertain of the oversampled set; the rest are uniform random.
    """
    n = logits.shape[0]
    num_sampled = int(num_points * oversample_ratio)
    coords = torch.rand(n, num_sampled, 2, device=logits.device)
    point_uncertainty = uncertainty_fn(point_sample(logits, coords))  # (N, 1, S)
    num_uncertain = int(importance_sample_ratio * num_points)
    num_random = num_points - num_uncertain
    idx = torch.topk(point_uncertainty[:, 0, :], k=num_uncertain, dim=1)[1]
    idx = idx + num_sampled * torch.arange(n, dtype=torch.long, device=logits.device)[:, None]
    chosen = coords.view(-1, 2)[idx.view(-1), :].view(n, num_uncertain, 2)
    if num_random > 0:
        chosen = torch.cat([chosen, torch.rand(n, num_random, 2, device=logits.device)], dim=1)
    return chosen
