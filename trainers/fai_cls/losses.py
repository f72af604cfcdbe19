"""FAI-CLS losses, all computed from log_softmax / logsigmoid so they stay finite for any
finite logits (e.g. +-1e4, where probabilities round to exactly 0 or 1)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def softmax_focal_loss(logits: Tensor, target: Tensor, alpha: float, gamma: float,
                       label_smoothing: float = 0.0) -> Tensor:
    """mean_i  -alpha * sum_c q_ic (1 - p_ic)^gamma log p_ic, with q the (smoothed) one-hot target."""
    num_classes = logits.shape[-1]
    log_p = F.log_softmax(logits.float(), dim=-1)
    one_minus_p = (-torch.expm1(log_p)).clamp_min(1e-12)  # 1 - p, accurate near p = 1
    q = F.one_hot(target, num_classes).float() * (1.0 - label_smoothing) + label_smoothing / num_classes
    return (-alpha * (q * one_minus_p.pow(gamma) * log_p).sum(-1)).mean()


def sigmoid_focal_loss(logits: Tensor, target: Tensor, alpha: float, gamma: float) -> Tensor:
    """RetinaNet focal loss per (image, class), averaged:
    alpha_t (1 - p_t)^gamma BCE, alpha_t = alpha t + (1 - alpha)(1 - t), 1 - p_t = p(1 - t) + (1 - p)t."""
    logits, target = logits.float(), target.float()
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p, one_minus_p = torch.sigmoid(logits), torch.sigmoid(-logits)
    one_minus_pt = (p * (1 - target) + one_minus_p * target).clamp_min(1e-12)
    alpha_t = alpha * target + (1 - alpha) * (1 - target)
    return (alpha_t * one_minus_pt.pow(gamma) * bce).mean()


def classification_loss(logits: Tensor, target: Tensor, *, multi_label: bool, use_focal_loss: bool,
                        focal_alpha: float, focal_gamma: float, label_smoothing: float) -> Tensor:
    """Single-label: cross-entropy (or softmax focal) on class indices.
    Multi-label: BCE-with-logits (or sigmoid focal) on multi-hot targets, smoothed towards 0.5."""
    if multi_label:
        target = target.float() * (1.0 - label_smoothing) + 0.5 * label_smoothing
        if use_focal_loss:
            return sigmoid_focal_loss(logits, target, focal_alpha, focal_gamma)
        return F.binary_cross_entropy_with_logits(logits.float(), target)
    if use_focal_loss:
        return softmax_focal_loss(logits, target, focal_alpha, focal_gamma, label_smoothing)
    return F.cross_entropy(logits.float(), target, label_smoothing=label_smoothing)
