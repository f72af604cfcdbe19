"""Model quality: FAI-MF with its template's defaults against the torchvision reference a user
would pick instead, on the same data, epochs, batch and machine, in one run.

    .venv/bin/python bench/bench_quality.py [--epochs 40] [--train 24] [--valid 8] [--test 16]
                                            [--kinds small,large] [--tasks instance,semantic,classification]

Data: synthetic scenes that read like photos (bench/scenes.py): three classes of textured,
shaded, rotated objects, touching and occluding, on textured backgrounds with blur, noise and
JPEG; "small" scenes hold many small instances, "large" ones a few large ones. Each run has
train, valid and test splits: FAI-MF keeps its best epoch by the valid split, as a job does;
both sides are scored on the test split, which neither saw.

- instance: FAI-MF (ResNet-18) against Mask R-CNN with an FPN on ResNet-18; instance F1 at
  mask IoU >= 0.5 (each model's predictions above its own predict threshold, 0.5 for both,
  matched greedily by score within a class) and COCO segm AP (pycocotools, every prediction).
- semantic: FAI-MF (ResNet-18) against DeepLabV3-MobileNetV3; mIoU.
- classification: each Clarifai template with its defaults against a bare AdamW + cosine
  loop of its own architecture, one object per scene, 32 px (bench/quality_classification.py);
  held-out top-1 through the template's predictor (target >= 0.98). fai-cls against a bare
  loop is bench_fai_cls_job.py.

Both sides start from random weights at 128 px. The whole run takes about 80 minutes on 2
cores (Mask R-CNN's epochs are most of it); --tasks and --kinds pick parts. Printed: each metric, its ratio (FAI-MF /
reference; target >= 1.0) and the wall-time ratio of training (reference / FAI-MF, so above
1.0 means FAI-MF was faster; FAI-MF's time includes its evaluation after every epoch).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from scenes import CLASSES, write_instance_dataset, write_semantic_dataset  # noqa: E402
from quality_references import (  # noqa: E402
    deeplab_scores,
    mask_rcnn_detections,
    train_deeplab,
    train_mask_rcnn,
)
from trainers.core import Callbacks, DatasetSpec  # noqa: E402
from trainers.data.images import open_rgb  # noqa: E402
from trainers.data.coco import load_coco  # noqa: E402
from trainers.fai_mf.evaluation import coco_detections, evaluate_detections, forward_resized, semantic_scores  # noqa: E402
from trainers.fai_mf.postprocessing import instance  # noqa: E402
from trainers.fai_mf.transforms import image_to_tensor  # noqa: E402
from trainers.families import build_trainer, load_predictor  # noqa: E402

RESOLUTION = 128
BATCH_SIZE = 4
MATCH_IOU = 0.5
PREDICT_THRESHOLD = 0.5  # both models' predict threshold (FAI-MF's template default; Mask R-CNN's usual)


def mask_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(N, H, W) x (M, H, W) bool -> (N, M) IoU."""
    a, b = a.flatten(1).float(), b.flatten(1).float()
    inter = a @ b.T
    return inter / (a.sum(1)[:, None] + b.sum(1)[None, :] - inter).clamp_min(1)


def instance_counts(coco, detections: dict[int, dict], threshold: float) -> tuple[int, int, int]:
    """(true positives, predictions, ground-truth instances) over the images."""
    tp = predicted = truth = 0
    for image_id, result in detections.items():
        info = coco.imgs[image_id]
        anns = [a for a in coco.imgToAnns.get(image_id, []) if not a.get("iscrowd", 0)]
        truth += len(anns)
        keep = result["scores"] > threshold
        scores, labels, masks = result["scores"][keep], result["labels"][keep], result["masks"][keep]
        predicted += len(scores)
        if not anns or not len(scores):
            continue
        gt_masks = torch.stack([torch.from_numpy(coco.annToMask(a)).bool() for a in anns])
        gt_labels = torch.as_tensor([a["category_id"] - 1 for a in anns])
        assert gt_masks.shape[-2:] == (info["height"], info["width"])
        ious = mask_iou(masks, gt_masks)
        ious[labels[:, None] != gt_labels[None, :]] = 0
        taken = torch.zeros(len(anns), dtype=torch.bool)
        for i in scores.argsort(descending=True).tolist():
            candidates = ious[i].masked_fill(taken, 0)
            best = int(candidates.argmax())
            if candidates[best] >= MATCH_IOU:
                taken[best] = True
                tp += 1
    return tp, predicted, truth


def instance_scores(coco, detections: dict[int, dict], threshold: float) -> dict[str, float]:
    tp, predicted, truth = instance_counts(coco, detections, threshold)
    precision = tp / predicted if predicted else 0.0
    recall = tp / truth if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    found = [d for image_id, result in detections.items() for d in coco_detections(image_id, result)]
    ap = evaluate_detections(coco, found)
    return {"F1": f1, "precision": precision, "recall": recall, "segm/AP": ap["segm/AP"], "segm/AP50": ap["segm/AP50"]}


def mask_former(predictor) -> torch.nn.Module:
    """The deployed MaskFormer with its dict outputs (the served graph wraps it, MaskLogitsGraph)."""
    return predictor.model.model


@torch.no_grad()
def fai_mf_detections(predictor, root: Path, coco_file: str) -> dict[int, dict]:
    """Every segment the deployed model's post-processing gives (threshold 0), by image id."""
    coco = load_coco(root / coco_file)
    results = {}
    for image_id in sorted(coco.imgs):
        info = coco.imgs[image_id]
        image = image_to_tensor(open_rgb(root / info["file_name"]))
        with predictor.precision.autocast():
            outputs = forward_resized(mask_former(predictor), [image], RESOLUTION, predictor.device)
        results[image_id] = instance(outputs, [(info["height"], info["width"])], 0.0,
                                     predictor.exportable.config.mask_threshold)[0]
    return results


class TrainingClock:
    """Seconds spent in training epochs alone, from the engine's callbacks: from the chosen
    precision or the last epoch-end checkpoint to the epoch's mean-loss report. The reference
    loops neither evaluate nor checkpoint, so this is what their time compares with."""

    def __init__(self):
        self.seconds, self.last = 0.0, None

    def callbacks(self) -> Callbacks:
        return Callbacks(on_precision=lambda _: self._mark(), on_checkpoint=lambda _: self._mark(),
                         on_progress=self._progress)

    def _mark(self):
        self.last = time.perf_counter()

    def _progress(self, progress):
        if progress.epoch_mean and self.last is not None:
            self.seconds += time.perf_counter() - self.last


def train_fai_mf(root: Path, epochs: int, backbone: str = "resnet18") -> tuple[Path, float, float, str]:
    """Template defaults, with the benchmark's backbone, resolution, batch and epochs.
    (artifact, seconds of training epochs, seconds of the whole fit, precision)."""
    hyperparameters = {"backbone": backbone, "resolution": RESOLUTION, "batch_size": BATCH_SIZE, "epochs": epochs}
    work_dir = Path(tempfile.mkdtemp(prefix="bench_quality_"))
    clock = TrainingClock()
    start = time.perf_counter()
    result = build_trainer("fai_mf", hyperparameters, DatasetSpec.load(root), work_dir).fit(clock.callbacks())
    return result.artifact_dir, clock.seconds, time.perf_counter() - start, result.precision


def ratio(ours: float, reference: float) -> str:
    return f"{ours / reference:.2f}" if reference > 0 else ("inf" if ours > 0 else "n/a (both 0)")


def report(title: str, ours: dict, reference: dict, keys: tuple[str, ...], our_seconds: tuple[float, float],
           reference_seconds: float, epochs: int) -> None:
    """`our_seconds`: (training epochs alone, the whole fit with evaluation and checkpoints)."""
    train_seconds, fit_seconds = our_seconds
    print(f"\n{title}")
    for key in keys:
        print(f"  {key:12s} fai-mf {ours[key]:7.3f}   reference {reference[key]:7.3f}   ratio {ratio(ours[key], reference[key])}"
              "  (target >= 1.0)")
    print(f"  time/epoch   fai-mf {train_seconds / epochs:6.1f} s   reference {reference_seconds / epochs:6.1f} s   "
          f"speed ratio {reference_seconds / train_seconds:.2f}  (target >= 1.0)", flush=True)
    print(f"  whole fit    fai-mf {fit_seconds / epochs:6.1f} s/epoch with an evaluation and a checkpoint each epoch "
          f"(speed ratio {reference_seconds / fit_seconds:.2f})", flush=True)


def run_instance(kind: str, args, base: Path) -> None:
    root = write_instance_dataset(base / f"instance_{kind}", kind, args.train, args.valid, args.test)
    artifact, train_seconds, fit_seconds, precision = train_fai_mf(root, args.epochs)
    coco = load_coco(root / "annotations/test.json")
    ours = instance_scores(coco, fai_mf_detections(load_predictor(artifact), root, "annotations/test.json"),
                           PREDICT_THRESHOLD)
    model, reference_seconds = train_mask_rcnn(root, len(CLASSES), RESOLUTION, args.epochs, BATCH_SIZE)
    reference = instance_scores(coco, mask_rcnn_detections(model, root, "annotations/test.json", RESOLUTION),
                                PREDICT_THRESHOLD)
    report(f"instance segmentation, {kind} scenes ({sum(len(v) for v in coco.imgToAnns.values())} test "
           f"instances; fai-mf trained in {precision}) vs Mask R-CNN R18-FPN", ours, reference,
           ("F1", "precision", "recall", "segm/AP", "segm/AP50"), (train_seconds, fit_seconds), reference_seconds, args.epochs)


def run_semantic(kind: str, args, base: Path) -> None:
    root = write_semantic_dataset(base / f"semantic_{kind}", kind, args.train, args.valid, args.test)
    manifest = json.loads((root / "manifest.json").read_text())
    classes, test_items = manifest["classes"], manifest["splits"]["test"]["items"]
    artifact, train_seconds, fit_seconds, precision = train_fai_mf(root, args.epochs, args.semantic_backbone)
    predictor = load_predictor(artifact)
    with predictor.precision.autocast():
        ours = semantic_scores(mask_former(predictor), root, test_items, classes, RESOLUTION, BATCH_SIZE, predictor.device)
    model, reference_seconds = train_deeplab(root, manifest["splits"]["train"]["items"], len(classes), RESOLUTION,
                                             args.epochs, BATCH_SIZE, manifest["ignore_index"])
    reference = deeplab_scores(model, root, test_items, classes, RESOLUTION, manifest["ignore_index"])
    report(f"semantic segmentation, {kind} scenes (fai-mf trained in {precision}) vs DeepLabV3-MobileNetV3",
           ours, reference, ("mIoU", "pixel_accuracy"), (train_seconds, fit_seconds), reference_seconds, args.epochs)


def run_classification(args, base: Path) -> None:
    from quality_classification import TEMPLATES, train_bare, train_template, write_classification_dataset

    root = write_classification_dataset(base / "classification", args.cls_train, args.cls_valid, args.cls_test)
    print(f"\nclassification: {args.cls_train} train / {args.cls_valid} valid / {args.cls_test} test scenes at "
          f"{args.cls_size} px, {args.cls_epochs} epochs, batch {args.cls_batch}; held-out top-1")
    for key, (name, architecture, overrides) in TEMPLATES.items():
        ours, our_seconds, precision = train_template(root, key, overrides, args.cls_size, args.cls_epochs,
                                                      args.cls_batch)
        bare, bare_seconds = train_bare(root, architecture, args.cls_size, args.cls_epochs, args.cls_batch)
        print(f"  {name:38s} template {ours:.3f} ({precision})   bare {architecture} loop {bare:.3f}   "
              f"ratio {ratio(ours, bare)} (target >= 0.98)   speed ratio {bare_seconds / our_seconds:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--train", type=int, default=24)
    parser.add_argument("--valid", type=int, default=8)
    parser.add_argument("--test", type=int, default=16)
    parser.add_argument("--kinds", default="small,large")
    parser.add_argument("--semantic-backbone", default="resnet18",
                        help="fai-mf's backbone against DeepLabV3-MobileNetV3 (mobilenet_v3_large = the same backbone)")
    parser.add_argument("--tasks", default="instance,semantic,classification")
    parser.add_argument("--cls-train", type=int, default=600)
    parser.add_argument("--cls-valid", type=int, default=150)
    parser.add_argument("--cls-test", type=int, default=300)
    parser.add_argument("--cls-size", type=int, default=32)
    parser.add_argument("--cls-epochs", type=int, default=10)
    parser.add_argument("--cls-batch", type=int, default=64)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.train} train / {args.valid} valid / "
          f"{args.test} test images at {RESOLUTION} px, {args.epochs} epochs, batch {BATCH_SIZE}, random init")
    with tempfile.TemporaryDirectory() as tmp:
        for task in args.tasks.split(","):
            if task == "classification":
                run_classification(args, Path(tmp))
                continue
            for kind in args.kinds.split(","):
                (run_instance if task == "instance" else run_semantic)(kind, args, Path(tmp))


if __name__ == "__main__":
    main()
