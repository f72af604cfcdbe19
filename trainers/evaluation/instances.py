"""Instance segmentation: the predictor's segments scored by pycocotools' COCOeval (AP per class,
per object size, precision-recall curves), and the images with the worst matched IoU, drawn with
their missed and false instances."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from trainers.core import DatasetSpec
from trainers.data.coco import load_coco
from trainers.data.images import open_rgb
from trainers.data.masks import annotation_mask, decode_mask

from . import drawing
from .batches import batched

MATCH_IOU = 0.5  # a prediction matches a truth of its class at this mask IoU or more
EVERY_SEGMENT = {"threshold": 0.0, "top_k": None}  # AP integrates over every confidence


def evaluate(predictor, dataset: DatasetSpec, split: str, to_model: list[int], batch_size: int,
             examples_dir: Path, max_examples: int) -> dict[str, Any]:
    from trainers.metrics.segmentation import coco_area_ap, coco_class_report, coco_evaluator

    coco = load_coco(dataset.root / dataset.manifest["splits"][split]["coco"])
    to_dataset = {model_class: index for index, model_class in enumerate(to_model)}
    threshold = float(predictor.exportable.prediction_options.get("threshold", 0.0))
    detections, scored_images = [], []
    for infos in batched([coco.imgs[i] for i in sorted(coco.imgs)], batch_size):
        images = [open_rgb(dataset.root / info["file_name"]) for info in infos]
        for info, image, segments in zip(infos, images, predictor.predict(images, EVERY_SEGMENT)):
            size = (info.get("height", image.height), info.get("width", image.width))
            found = [_detection(info["id"], segment, to_dataset, size) for segment in segments]
            found = [d for d in found if d is not None]  # classes the dataset does not have are not scored
            detections += found
            # The segments a deployment serves: score above the model's threshold.
            scored_images.append(_image_errors(coco, info, [d for d in found if d["score"] > threshold]))
    evaluator = coco_evaluator(coco, detections)
    class_names = list(dataset.classes)
    if evaluator is None:  # nothing found, or nothing to find: 0 where there was something to find
        metrics, per_class = _without_detections(coco, class_names)
    else:
        stats = evaluator.stats
        metrics = {"segm/AP": max(0.0, stats[0] * 100), "segm/AP50": max(0.0, stats[1] * 100),
                   "segm/AP75": max(0.0, stats[2] * 100), **coco_area_ap(evaluator)}
        per_class = coco_class_report(evaluator, class_names, [k + 1 for k in range(len(class_names))])
    worst = sorted((e for e in scored_images if e["iou"] < 1.0), key=lambda e: e["iou"])
    examples = [_drawn(dataset, coco, entry, class_names, rank, examples_dir)
                for rank, entry in enumerate(worst[:max_examples])]
    report = {**{k: (None if v is None else float(v)) for k, v in metrics.items()}, "per_class": per_class,
              "match_iou": MATCH_IOU, "score_threshold": threshold, "num_detections": len(detections)}
    return {"report": report, "examples": {"kind": "worst_iou", "count": len(worst), "items": examples}}


def _without_detections(coco, class_names: list[str]) -> tuple[dict, dict]:
    """The figures COCOeval gives a model that found nothing: AP 0 for each class and object
    size the data has, None for the others (and everything None on data with no object)."""
    truths = [a for a in coco.dataset.get("annotations", []) if not a.get("iscrowd")]
    if not truths:
        return ({key: None for key in ("segm/AP", "segm/AP50", "segm/AP75", "segm/APs", "segm/APm", "segm/APl")},
                {name: {"AP": None, "AP50": None, "AP75": None, "average_precision": None, "pr_curve": None,
                        "pr_curve_iou75": None} for name in class_names})
    areas = [a["area"] for a in truths]
    sizes = {"segm/APs": any(a < 32 ** 2 for a in areas), "segm/APm": any(32 ** 2 <= a < 96 ** 2 for a in areas),
             "segm/APl": any(a >= 96 ** 2 for a in areas)}  # COCOeval's area ranges
    metrics = {"segm/AP": 0.0, "segm/AP50": 0.0, "segm/AP75": 0.0,
               **{key: 0.0 if present else None for key, present in sizes.items()}}
    present = {a["category_id"] for a in truths}
    per_class = {}
    for k, name in enumerate(class_names):
        found = k + 1 in present
        nothing = {"recall": [], "precision": [], "thresholds": []} if found else None
        per_class[name] = {"AP": 0.0 if found else None, "AP50": 0.0 if found else None,
                           "AP75": 0.0 if found else None, "average_precision": 0.0 if found else None,
                           "pr_curve": nothing, "pr_curve_iou75": nothing}
    return metrics, per_class


def _detection(image_id: int, segment: dict, to_dataset: dict[int, int], size: tuple[int, int]) -> dict | None:
    if segment["cls_id"] not in to_dataset:
        return None
    mask = decode_mask(segment["mask"])
    if mask.shape != size:  # the annotations were made at another size than the file's
        mask = np.asarray(Image.fromarray(mask).resize((size[1], size[0]), Image.Resampling.NEAREST))
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle["counts"] = rle["counts"].decode("ascii")
    return {"image_id": image_id, "category_id": to_dataset[segment["cls_id"]] + 1, "segmentation": rle,
            "score": float(segment["conf"]), "bbox": segment.get("bbox")}


def _image_errors(coco, info: dict, kept: list[dict]) -> dict[str, Any]:
    """The image's served segments matched to its truths: greedily by confidence, each to the
    unmatched truth of its class with the highest mask IoU, at MATCH_IOU or more.
    `iou` = sum of matched IoUs / (matched + missed + false): 1 when everything is found exactly."""
    truths = [a for a in coco.imgToAnns.get(info["id"], []) if not a.get("iscrowd")]
    kept = sorted(kept, key=lambda d: -d["score"])
    if not truths and not kept:
        return {"image_id": info["id"], "iou": 1.0, "matched": [], "missed": [], "false": []}
    overlaps = (mask_utils.iou([d["segmentation"] for d in kept], [coco.annToRLE(a) for a in truths],
                               [0] * len(truths)) if truths and kept else np.zeros((len(kept), len(truths))))
    overlaps = np.asarray(overlaps).reshape(len(kept), len(truths))
    taken, matched, false = set(), [], []
    for i, detection in enumerate(kept):
        candidates = [(overlaps[i, j], j) for j, truth in enumerate(truths)
                      if j not in taken and truth["category_id"] == detection["category_id"]]
        best = max(candidates, default=(0.0, None))
        if best[1] is not None and best[0] >= MATCH_IOU:
            taken.add(best[1])
            matched.append((detection, truths[best[1]], float(best[0])))
        else:
            false.append(detection)
    missed = [truth for j, truth in enumerate(truths) if j not in taken]
    total = len(matched) + len(missed) + len(false)
    return {"image_id": info["id"], "iou": sum(m[2] for m in matched) / total,
            "matched": matched, "missed": missed, "false": false}


def _drawn(dataset: DatasetSpec, coco, entry: dict, class_names: list[str], rank: int,
           examples_dir: Path) -> dict[str, Any]:
    info = coco.imgs[entry["image_id"]]
    image = open_rgb(dataset.root / info["file_name"])
    height, width = info.get("height", image.height), info.get("width", image.width)
    masks = [(mask_utils.decode(d["segmentation"]), drawing.MATCHED) for d, _, _ in entry["matched"]]
    masks += [(annotation_mask(a, height, width), drawing.MISSED) for a in entry["missed"]]
    masks += [(mask_utils.decode(d["segmentation"]), drawing.FALSE) for d in entry["false"]]
    if (height, width) != (image.height, image.width):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    name = drawing.save(drawing.with_masks(image, masks), examples_dir / f"worst_iou-{rank:03d}.jpg")
    return {
        "file": name, "image": info["file_name"], "iou": entry["iou"],
        "matched": [{"label": class_names[d["category_id"] - 1], "conf": d["score"], "iou": iou}
                    for d, _, iou in entry["matched"]],
        "missed": [{"label": class_names[a["category_id"] - 1], "bbox": _corners(a)} for a in entry["missed"]],
        "false": [{"label": class_names[d["category_id"] - 1], "conf": d["score"], "bbox": d.get("bbox")}
                  for d in entry["false"]],
    }


def _corners(annotation: dict) -> list[float] | None:
    """COCO's [x, y, width, height] as the predictions' [x1, y1, x2, y2]."""
    if "bbox" not in annotation:
        return None
    x, y, w, h = (float(v) for v in annotation["bbox"])
    return [x, y, x + w, y + h]
