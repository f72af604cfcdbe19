"""What the five templates share: data, loss, evaluation, pretrained loading and export.

A template subclasses `ClarifaiRecipe` and states its architecture, head, transforms,
optimizer and schedule (see `template_recipes.py`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from trainers.core import DatasetSpec
from trainers.engine import EngineConfig, Recipe
from trainers.engine.distributed import world_size
from trainers.weights import load_pretrained

from .data import ManifestImages, split_items
from .evaluation import (MULTI_LABEL_MONITOR, SINGLE_LABEL_MONITOR, classification_metrics,
                         predict_probabilities)
from .heads import classification_loss
from .model import ClarifaiClassifier, build_feature_extractor
from .precise_bn import recompute_batch_norm_statistics

PRETRAINED_RECORD = "pretrained.json"  # in work_dir: survives a resume, copied into config.json
# A state dict may be a whole classifier, a bare feature extractor or a bare torchvision backbone.
PRETRAINED_PREFIXES = ("", "features.", "features.body.")


@dataclass(frozen=True)
class Architecture:
    name: str  # bn_inception | resnet50 | resnext50_32x4d ...
    head: str = "linear"  # linear | embed_norm
    resize: str = "min_side"  # min_side | square
    average_horizontal_flips: bool = False


class ClarifaiRecipe(Recipe):
    def __init__(self, key: str, params, dataset: DatasetSpec, work_dir: Path, architecture: Architecture,
                 logreg: bool, pretrained: dict[str, Any], device: str | None, precision: str = "auto"):
        """`key`: the trainer key (written to config.json); `pretrained`: {"name", "path", "reason"}
        chosen by the template factory."""
        self.key = key
        self.params = params
        self.dataset = dataset
        self.work_dir = Path(work_dir)
        self.architecture = architecture
        self.logreg = logreg
        self.pretrained = pretrained
        self.classes = dataset.classes
        self.train_items = split_items(dataset, "train")
        # The first held-out split present; without one, (optimistic) training-set metrics.
        self.eval_split_name = dataset.evaluation_split() or "train"
        self.eval_items = split_items(dataset, self.eval_split_name)
        self.multi_label = bool(dataset.manifest.get("multi_label")) or any(
            len(item["labels"]) != 1 for item in self.train_items)
        self.config = EngineConfig(
            epochs=params.num_epochs, batch_size=params.batch_size, seed=params.seed, device=device,
            precision=precision,
            items_per_epoch=self.num_items_per_epoch(), monitor_mode="max",
            monitor=MULTI_LABEL_MONITOR if self.multi_label else SINGLE_LABEL_MONITOR,
            grad_clip_norm=self.grad_clip_norm(),
            sync_batchnorm=params.sync_batchnorm,
            # A final batch of one image cannot be batch-normalised at 1x1 feature maps: drop it.
            drop_last=params.batch_size > 1 and self.items_per_epoch() % params.batch_size == 1,
        )

    # --- what subclasses state ----------------------------------------------------------

    def global_batch(self) -> int:
        """Images per optimizer step over all ranks: per-item rates scale with it."""
        return self.params.batch_size * world_size()

    def transform(self, train: bool):
        raise NotImplementedError

    def grad_clip_norm(self) -> float | None:
        return None

    def num_items_per_epoch(self) -> int | None:
        """The parameter (None = the training split's size); RSB A1 has no such parameter."""
        return getattr(self.params, "num_items_per_epoch", None)

    def items_per_epoch(self) -> int:
        return self.num_items_per_epoch() or len(self.train_items)

    # --- Recipe -------------------------------------------------------------------------
    def build_model(self) -> ClarifaiClassifier:
        return ClarifaiClassifier(build_feature_extractor(self.architecture.name), len(self.classes),
                                  head=self.architecture.head,
                                  average_horizontal_flips=self.architecture.average_horizontal_flips)

    def train_dataset(self):
        return ManifestImages(self.dataset, self.train_items, self.transform(train=True))

    def train_step(self, model: nn.Module, batch, device: torch.device) -> dict[str, torch.Tensor]:
        images, targets = batch
        logits = model(images)
        return {"loss": classification_loss(logits.float(), targets, self.logreg)}

    def on_train_start(self, model: nn.Module, resumed: bool) -> None:
        record_path = self.work_dir / PRETRAINED_RECORD
        if resumed and record_path.exists():
            return  # the checkpoint holds the weights; the record of where they came from stays
        record = dict(self.pretrained)
        if self.pretrained.get("path"):
            report = load_pretrained(model, self.pretrained["path"], prefixes=PRETRAINED_PREFIXES)
            record.update(loaded=len(report.loaded), summary=report.summary(),
                          skipped=report.unexpected + report.mismatched_shapes,
                          not_in_file=report.missing)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        record_path.write_text(json.dumps(record, indent=2))

    def evaluate(self, model: nn.Module, device: torch.device) -> dict[str, Any]:
        # In fp32 whatever the engine trains in: the metrics are the model's own, the reference
        # a bf16 predictor is checked against (bf16 moved probabilities by up to 0.06).
        with torch.autocast(device.type, enabled=False):
            return self._evaluate_fp32(model, device)

    def _evaluate_fp32(self, model: nn.Module, device: torch.device) -> dict[str, Any]:
        train_images = ManifestImages(self.dataset, self.train_items, self.transform(train=False))
        recompute_batch_norm_statistics(model, train_images, self.config.batch_size, device)
        dataset = ManifestImages(self.dataset, self.eval_items, self.transform(train=False))
        probabilities, targets = predict_probabilities(model, dataset, self.config.batch_size, device, self.logreg)
        metrics = classification_metrics(probabilities, targets, self.classes, self.multi_label)
        return {**metrics, "split": self.eval_split_name}

    def export(self, model: nn.Module, artifact_dir: Path, metrics: dict[str, Any]) -> None:
        artifact_dir = Path(artifact_dir)
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        torch.save(state, artifact_dir / "weights.pt")
        record_path = self.work_dir / PRETRAINED_RECORD
        pretrained = json.loads(record_path.read_text()) if record_path.exists() else self.pretrained
        config = {
            "trainer": self.key,
            "hyperparameters": self.params.model_dump(),
            "architecture": self.architecture.name,
            "head": self.architecture.head,
            "resize": self.architecture.resize,
            "average_horizontal_flips": self.architecture.average_horizontal_flips,
            "image_size": self.params.image_size,
            "logreg": self.logreg,
            "multi_label_dataset": self.multi_label,
            "pretrained": pretrained,
        }
        (artifact_dir / "config.json").write_text(json.dumps(config, indent=2))
        (artifact_dir / "labels.json").write_text(json.dumps(self.classes))
