"""Mask2Former's set criterion: CE over classes + BCE and dice on importance-sampled points.

Applied to the final prediction and to every auxiliary (per-layer) prediction, each
with its own Hungarian matching. Mask losses are normalised by the number of target
masks in the batch (averaged across processes when torch.distributed is running).
"""
from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from .losses import dice_loss, sigmoid_ce_loss
from .matcher import HungarianMatcher
from .point_sampling import point_sample, uncertain_point_coords

LOSS_NAMES = ("loss_ce", "loss_mask", "loss_dice")


class SetCriterion(nn.Module):
    def __init__(
        self,
        num_classes: int,
        matcher: HungarianMatcher,
        class_weight: float,
        mask_weight: float,
        dice_weight: float,
        no_object_weight: float,
        num_points: int,
        oversample_ratio: float,
        importance_sample_ratio: float,
    ):
        super().__init__()
        self.num_classes = num_classes
        self.matcher = matcher
        self.weights = {"loss_ce": class_weight, "loss_mask": mask_weight, "loss_dice": dice_weight}
        self.num_points = num_points
        self.oversample_ratio = oversample_ratio
        self.importance_sample_ratio = importance_sample_ratio
        empty_weight = torch.ones(num_classes + 1)
        empty_weight[-1] = no_object_weight
        self.register_buffer("empty_weight", empty_weight)

    def loss_labels(self, logits: torch.Tensor, targets: list[dict], indices) -> torch.Tensor:
        target_classes = torch.full(logits.shape[:2], self.num_classes, dtype=torch.int64, device=logits.device)
        for b, (src, tgt) in enumerate(indices):
            target_classes[b, src.to(logits.device)] = targets[b]["labels"][tgt].to(logits.device)
        return F.cross_entropy(logits.float().transpose(1, 2), target_classes, self.empty_weight)

    def loss_masks(self, pred_masks: torch.Tensor, targets: list[dict], indices, num_masks: float):
        batch_idx = torch.cat([torch.full_like(src, b) for b, (src, _) in enumerate(indices)])
        src_idx = torch.cat([src for src, _ in indices])
        if len(src_idx) == 0:
            zero = pred_masks.sum() * 0.0  # keeps the graph connected
            return zero, zero
        src = pred_masks[batch_idx.to(pred_masks.device), src_idx.to(pred_masks.device)][:, None].float()
        tgt = torch.cat([t["masks"][j.to(t["masks"].device)] for t, (_, j) in zip(targets, indices)])
        tgt = tgt.to(device=src.device, dtype=torch.float32)[:, None]
        with torch.no_grad():
            coords = uncertain_point_coords(src, self.num_points, self.oversample_ratio, self.importance_sample_ratio)
            point_labels = point_sample(tgt, coords)[:, 0]
        point_logits = point_sample(src, coords)[:, 0]
        return sigmoid_ce_loss(point_logits, point_labels, num_masks), dice_loss(point_logits, point_labels, num_masks)

    def single_output_losses(self, output: dict, targets: list[dict], num_masks: float) -> dict[str, torch.Tensor]:
        indices = self.matcher(output, targets)
        loss_mask, loss_dice = self.loss_masks(output["pred_masks"], targets, indices, num_masks)
        return {
            "loss_ce": self.loss_labels(output["pred_logits"], targets, indices),
            "loss_mask": loss_mask,
            "loss_dice": loss_dice,
        }

    def forward(self, outputs: dict, targets: list[dict]) -> dict[str, torch.Tensor]:
        """Unweighted losses: loss_ce/loss_mask/loss_dice (final) and loss_*_{i} (auxiliary i)."""
        num_masks = self.count_masks(targets, outputs["pred_logits"].device)
        # Losses in fp32 even under autocast (the inputs are cast with .float()).
        with torch.autocast(device_type=outputs["pred_masks"].device.type, enabled=False):
            losses = self.single_output_losses(outputs, targets, num_masks)
            for i, aux in enumerate(outputs.get("aux_outputs", [])):
                for name, value in self.single_output_losses(aux, targets, num_masks).items():
                    losses[f"{name}_{i}"] = value
        return losses

    def weighted_total(self, losses: dict[str, torch.Tensor]) -> torch.Tensor:
        """Sum of every loss times its weight; `loss_ce_3` takes the weight of `loss_ce`."""
        return sum(value * self.weights[base_loss_name(name)] for name, value in losses.items())

    @staticmethod
    def count_masks(targets: list[dict], device) -> float:
        num = torch.as_tensor([float(sum(len(t["labels"]) for t in targets))], device=device)
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(num)
            num = num / dist.get_world_size()
        return max(num.item(), 1.0)


def base_loss_name(name: str) -> str:
    return name if name in LOSS_NAMES else name.rsplit("_", 1)[0]
