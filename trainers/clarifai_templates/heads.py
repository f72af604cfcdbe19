"""Output heads and their losses.

`logreg` (Clarifai's name) picks the output layer:
- 1: sigmoid units, one independent probability per concept, trained with binary
  cross-entropy against multi-hot targets (several concepts may be true), summed over
  concepts and averaged over images.
- 0: softmax, a distribution over mutually exclusive concepts (sums to 1), trained with
  cross-entropy. A multi-label target is spread evenly over its true concepts.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def activation(logits: Tensor, logreg: bool) -> Tensor:
    return torch.sigmoid(logits) if logreg else torch.softmax(logits, dim=-1)


def classification_loss(logits: Tensor, targets: Tensor, logreg: bool) -> Tensor:
    """`targets` is multi-hot [B, C] (a single-label row has exactly one 1)."""
    targets = targets.to(logits.dtype)
    if logreg:
        # Summed over concepts and averaged over images, as cross-entropy is per image: a mean
        # over concepts as well would scale every gradient by 1/num_concepts, a 10x slower
        # learning rate at 10 concepts (bench_quality measured 0.52 -> 0.59 held-out top-1).
        return F.binary_cross_entropy_with_logits(logits, targets, reduction="sum") / logits.shape[0]
    distribution = targets / targets.sum(dim=1, keepdim=True).clamp_min(1.0)
    return F.cross_entropy(logits, distribution)


class LinearHead(nn.Module):
    """Global average pool of the last feature map, then one linear layer."""

    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(self, embedding: Tensor) -> Tensor:
        return self.fc(embedding)


class EmbedNormHead(nn.Module):
    """Linear classifier on the L2-normalised embedding.

    A unit-norm input caps the logits at ||w||, which makes a freshly initialised layer
    learn slowly; a learnable scale (NormFace-style, initialised to 16) lets the logits
    grow while the direction of the embedding alone carries the information.
    """

    def __init__(self, in_channels: int, num_classes: int, init_scale: float = 16.0):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(float(init_scale)))
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(self, embedding: Tensor) -> Tensor:
        return self.fc(self.scale * F.normalize(embedding.float(), dim=1).to(embedding.dtype))
