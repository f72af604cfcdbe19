"""From raw Mask2Former outputs to per-image segments (postprocessing_type, threshold, mask_threshold, predict_all_pixels).

Every function takes a batch of outputs and one (height, width) per image, upsamples
that image's mask logits to its size (bilinear) and returns one dict per image:
{"scores": (N,) float, "labels": (N,) int64 class index, "masks": (N, H, W) bool,
 "boxes": (N, 4) float [x1, y1, x2, y2]}. Boxes are in pixels with x2/y2 EXCLUSIVE
(x2 = last foreground column + 1), so x2 - x1 is the mask's width. Segments whose
binary mask is empty are dropped (they have no box and cover nothing).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def upsample_masks(mask_logits: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(Q, h, w) logits -> (Q, H, W) float32 logits."""
    if mask_logits.shape[0] == 0:  # no query kept: interpolate refuses an empty batch
        return mask_logits.new_zeros((0, *size), dtype=torch.float32)
    return F.interpolate(mask_logits[None].float(), size=tuple(size), mode="bilinear", align_corners=False)[0]


def masks_to_boxes(masks: torch.Tensor) -> torch.Tensor:
    """(N, H, W) bool -> (N, 4) [x1, y1, x2, y2] with exclusive x2, y2; zeros for empty masks."""
    boxes = torch.zeros((masks.shape[0], 4), dtype=torch.float32, device=masks.device)
    if masks.numel() == 0:
        return boxes
    rows = masks.any(dim=2)  # (N, H)
    cols = masks.any(dim=1)  # (N, W)
    h, w = masks.shape[-2:]
    y_idx = torch.arange(h, device=masks.device)
    x_idx = torch.arange(w, device=masks.device)
    nonempty = rows.any(dim=1)
    big = torch.iinfo(torch.int64).max
    boxes[:, 0] = torch.where(cols, x_idx, big).min(dim=1).values.float()
    boxes[:, 1] = torch.where(rows, y_idx, big).min(dim=1).values.float()
    boxes[:, 2] = torch.where(cols, x_idx, -1).max(dim=1).values.float() + 1
    boxes[:, 3] = torch.where(rows, y_idx, -1).max(dim=1).values.float() + 1
    boxes[~nonempty] = 0
    return boxes


def _segments(scores, labels, masks) -> dict[str, torch.Tensor]:
    keep = masks.flatten(1).any(dim=1) if masks.numel() else torch.zeros(len(scores), dtype=torch.bool)
    scores, labels, masks = scores[keep], labels[keep], masks[keep]
    return {"scores": scores, "labels": labels, "masks": masks, "boxes": masks_to_boxes(masks)}


def semantic_probabilities(logits: torch.Tensor, mask_logits: torch.Tensor) -> torch.Tensor:
    """One image: (Q, K+1) class logits, (Q, H, W) mask logits -> (K, H, W) sum_q p(c|q) sigmoid(m_q)."""
    # fp32 even under autocast (evaluation runs under bf16): argmax ties and near-ties must
    # resolve as in the predictor, which runs this in fp32.
    with torch.autocast(logits.device.type, enabled=False):
        class_probs = logits.float().softmax(-1)[:, :-1]
        return torch.einsum("qc,qhw->chw", class_probs, mask_logits.float().sigmoid())


def semantic_class_map(logits: torch.Tensor, mask_logits: torch.Tensor) -> torch.Tensor:
    """(H, W) int64 class index of every pixel (Mask2Former's semantic inference)."""
    return semantic_probabilities(logits, mask_logits).argmax(0)


def semantic_all_pixels(outputs: dict, sizes: list[tuple[int, int]]) -> list[dict[str, torch.Tensor]]:
    """Every pixel gets a class; one segment per class present.

    conf = mean over the class's pixels of its normalised score
    (score_c / sum over classes of score_c, so it lies in [0, 1]).
    """
    results = []
    for logits, mask_logits, size in zip(outputs["pred_logits"], outputs["pred_masks"], sizes):
        probs = semantic_probabilities(logits, upsample_masks(mask_logits, size))
        normalised = probs / probs.sum(0, keepdim=True).clamp_min(1e-12)
        class_map = probs.argmax(0)
        labels = torch.unique(class_map)
        masks = class_map[None] == labels[:, None, None]
        scores = torch.stack([normalised[c][m].mean() for c, m in zip(labels, masks)]) if len(labels) \
            else torch.zeros(0)
        results.append(_segments(scores, labels, masks))
    return results


def semantic_per_query(outputs: dict, sizes, threshold: float, mask_threshold: float):
    """One segment per query whose best real class scores above `threshold`."""
    results = []
    for logits, mask_logits, size in zip(outputs["pred_logits"], outputs["pred_masks"], sizes):
        scores, labels = logits.float().softmax(-1)[:, :-1].max(-1)
        keep = scores > threshold
        masks = upsample_masks(mask_logits[keep], size).sigmoid() > mask_threshold
        results.append(_segments(scores[keep], labels[keep], masks))
    return results


def instance(outputs: dict, sizes, threshold: float, mask_threshold: float):
    """Top-k (k = num_queries) query x class pairs; score = p(class) x mean mask prob inside the mask."""
    results = []
    for logits, mask_logits, size in zip(outputs["pred_logits"], outputs["pred_masks"], sizes):
        num_queries, num_classes = logits.shape[0], logits.shape[1] - 1
        class_probs = logits.float().softmax(-1)[:, :-1].flatten()
        top_scores, top_idx = class_probs.topk(min(num_queries, class_probs.numel()))
        labels = top_idx % num_classes
        query = torch.div(top_idx, num_classes, rounding_mode="floor")
        probs = upsample_masks(mask_logits[query], size).sigmoid()
        masks = probs > mask_threshold
        mask_scores = (probs * masks).flatten(1).sum(1) / (masks.flatten(1).sum(1) + 1e-6)
        scores = top_scores * mask_scores
        keep = scores > threshold
        results.append(_segments(scores[keep], labels[keep], masks[keep]))
    return results


def postprocess(outputs: dict, sizes, postprocessing_type: str, threshold: float, mask_threshold: float,
                predict_all_pixels: bool) -> list[dict[str, torch.Tensor]]:
    if postprocessing_type == "instance":
        return instance(outputs, sizes, threshold, mask_threshold)
    if postprocessing_type == "semantic":
        if predict_all_pixels:
            return semantic_all_pixels(outputs, sizes)
        return semantic_per_query(outputs, sizes, threshold, mask_threshold)
    raise ValueError(f"unknown postprocessing_type {postprocessing_type!r}")
