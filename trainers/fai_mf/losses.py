"""Mask losses: dice and sigmoid BCE, per matched pair (criterion) and pairwise (matcher cost).

Inputs are mask logits and {0, 1} targets flattened to (N, P) points.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

DICE_SMOOTH = 1.0  # +1 on numerator and denominator: empty prediction vs empty target costs 0


def dice_loss(logits: torch.Tensor, targets: torch.Tensor, num_masks: float) -> torch.Tensor:
    """Sum over masks of 1 - (2|p.t| + 1) / (|p| + |t| + 1), divided by num_masks."""
    probs = logits.sigmoid().flatten(1)
    targets = targets.flatten(1)
    numerator = 2 * (probs * targets).sum(-1)
    denominator = probs.sum(-1) + targets.sum(-1)
    loss = 1 - (numerator + DICE_SMOOTH) / (denominator + DICE_SMOOTH)
    return loss.sum() / num_masks


def sigmoid_ce_loss(logits: torch.Tensor, targets: torch.Tensor, num_masks: float) -> torch.Tensor:
    """Sum over masks of the mean per-point BCE, divided by num_masks."""
    loss = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return loss.flatten(1).mean(1).sum() / num_masks


def pairwise_dice_cost(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(N, P) logits x (M, P) targets -> (N, M) dice loss of every pair."""
    probs = logits.sigmoid().flatten(1)
    targets = targets.flatten(1)
    numerator = 2 * torch.einsum("np,mp->nm", probs, targets)
    denominator = probs.sum(-1)[:, None] + targets.sum(-1)[None, :]
    return 1 - (numerator + DICE_SMOOTH) / (denominator + DICE_SMOOTH)


def pairwise_sigmoid_ce_cost(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(N, P) logits x (M, P) targets -> (N, M) mean per-point BCE of every pair."""
    num_points = logits.shape[1]
    pos = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits), reduction="none")
    neg = F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits), reduction="none")
    cost = torch.einsum("np,mp->nm", pos, targets) + torch.einsum("np,mp->nm", neg, 1 - targets)
    return cost / num_points
