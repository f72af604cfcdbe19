"""Validation metrics: COCO segm AP (instance) and mIoU / pixel accuracy (semantic).

All metrics are percentages (0-100), as COCO results are usually reported (e.g. segm/AP 41.45).
Images are read at their original size, resized to the training resolution for the
forward pass, and the predicted masks are mapped back to the original size before
they are compared with the ground truth.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from pycocotools import mask as mask_utils

from trainers.data.coco import load_coco
from trainers.data.images import open_rgb
from trainers.evaluation.batches import batched
from trainers.metrics.segmentation import ConfusionMatrix, coco_evaluator, semantic_metrics

from .data import IGNORE_INDEX, read_class_map
from .postprocessing import instance, semantic_class_map
from .transforms import image_to_tensor, resize_image

EVAL_SCORE_THRESHOLD = 0.0  # AP integrates over all confidences: keep every top-k segment
AP_KEYS = {"segm/AP": 0, "segm/AP50": 1, "segm/AP75": 2}


@torch.no_grad()
def forward_resized(model, images: list[torch.Tensor], resolution: int, device) -> dict:
    batch = torch.stack([resize_image(image, resolution) for image in images]).to(device)
    outputs = model(batch)
    return {"pred_logits": outputs["pred_logits"].float(), "pred_masks": outputs["pred_masks"].float()}


def coco_segm_ap(model, root: Path, coco_file: str, resolution: int, batch_size: int, device,
                 mask_threshold: float) -> dict[str, float]:
    coco_gt = load_coco(Path(root) / coco_file)
    image_infos = [coco_gt.imgs[i] for i in sorted(coco_gt.imgs)]
    detections = []
    for infos in batched(image_infos, batch_size):
        images = [image_to_tensor(open_rgb(Path(root) / info["file_name"])) for info in infos]
        outputs = forward_resized(model, images, resolution, device)
        # Masks at the size the annotations were made for, so COCOeval compares like with like.
        sizes = [(info.get("height", image.shape[-2]), info.get("width", image.shape[-1]))
                 for info, image in zip(infos, images)]
        for info, result in zip(infos, instance(outputs, sizes, EVAL_SCORE_THRESHOLD, mask_threshold)):
            detections += coco_detections(info["id"], result)
    return evaluate_detections(coco_gt, detections)


def coco_detections(image_id: int, result: dict[str, torch.Tensor]) -> list[dict]:
    masks = np.asfortranarray(result["masks"].cpu().numpy().transpose(1, 2, 0).astype(np.uint8))
    rles = mask_utils.encode(masks) if len(result["scores"]) else []
    detections = []
    for rle, score, label in zip(rles, result["scores"].tolist(), result["labels"].tolist()):
        rle["counts"] = rle["counts"].decode("ascii")
        detections.append({"image_id": image_id, "category_id": label + 1, "segmentation": rle, "score": score})
    return detections


def evaluate_detections(coco_gt, detections: list[dict]) -> dict[str, float]:
    """COCOeval(iouType="segm"); AP values where COCOeval has none (-1) are reported as 0."""
    evaluator = coco_evaluator(coco_gt, detections)
    if evaluator is None:
        return {key: 0.0 for key in AP_KEYS}
    return {key: max(0.0, float(evaluator.stats[i])) * 100 for key, i in AP_KEYS.items()}


def semantic_scores(model, root: Path, items: list[dict], class_names: list[str], resolution: int,
                    batch_size: int, device, ignore_index: int = IGNORE_INDEX) -> dict[str, float]:
    confusion = ConfusionMatrix(len(class_names), ignore_index)
    for chunk in batched(items, batch_size):
        images = [image_to_tensor(open_rgb(Path(root) / item["image"])) for item in chunk]
        outputs = forward_resized(model, images, resolution, device)
        for i, (item, image) in enumerate(zip(chunk, images)):
            mask_logits = torch.nn.functional.interpolate(
                outputs["pred_masks"][i][None], size=tuple(image.shape[-2:]), mode="bilinear", align_corners=False)[0]
            prediction = semantic_class_map(outputs["pred_logits"][i], mask_logits)
            confusion.update(prediction.cpu().numpy(), read_class_map(Path(root) / item["mask"]).numpy())
    return semantic_metrics(confusion.matrix, class_names)
