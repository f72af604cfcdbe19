"""Hungarian matching of predicted queries to target masks (Mask2Former `HungarianMatcher`).

cost = w_class * (-p(target class)) + w_mask * BCE + w_dice * dice, where both mask costs
are computed on the SAME random points for predictions and targets. The assignment
minimising the total cost comes from scipy's `linear_sum_assignment`.
"""
from __future__ import annotations

import torch
from scipy.optimize import linear_sum_assignment
from torch import nn

from .losses import pairwise_dice_cost, pairwise_sigmoid_ce_cost
from .point_sampling import point_sample


class HungarianMatcher(nn.Module):
    def __init__(self, class_weight: float, mask_weight: float, dice_weight: float, num_points: int):
        super().__init__()
        self.class_weight = class_weight
        self.mask_weight = mask_weight
        self.dice_weight = dice_weight
        self.num_points = num_points

    @torch.no_grad()
    def cost_matrix(self, logits: torch.Tensor, masks: torch.Tensor, target: dict) -> torch.Tensor:
        """(Q, K+1) logits, (Q, h, w) mask logits, target {labels (T,), masks (T, H, W)} -> (Q, T)."""
        probs = logits.float().softmax(-1)
        cost_class = -probs[:, target["labels"]]
        coords = torch.rand(1, self.num_points, 2, device=masks.device)
        target_masks = target["masks"].to(device=masks.device, dtype=torch.float32)[:, None]
        tgt = point_sample(target_masks, coords.repeat(target_masks.shape[0], 1, 1))[:, 0]
        out = point_sample(masks.float()[:, None], coords.repeat(masks.shape[0], 1, 1))[:, 0]
        cost_mask = pairwise_sigmoid_ce_cost(out, tgt)
        cost_dice = pairwise_dice_cost(out, tgt)
        return self.class_weight * cost_class + self.mask_weight * cost_mask + self.dice_weight * cost_dice

    @torch.no_grad()
    def forward(self, outputs: dict, targets: list[dict]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """One (query indices, target indices) pair of int64 tensors per image."""
        indices = []
        with torch.autocast(device_type=outputs["pred_masks"].device.type, enabled=False):
            for b, target in enumerate(targets):
                if len(target["labels"]) == 0:
                    empty = torch.empty(0, dtype=torch.int64)
                    indices.append((empty, empty.clone()))
                    continue
                cost = self.cost_matrix(outputs["pred_logits"][b], outputs["pred_masks"][b], target)
                rows, cols = linear_sum_assignment(cost.cpu().numpy())
                indices.append((torch.as_tensor(rows, dtype=torch.int64), torch.as_tensor(cols, dtype=torch.int64)))
        return indices
