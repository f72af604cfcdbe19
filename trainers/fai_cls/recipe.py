"""FAI-CLS as an engine Recipe: data, loss, optimizer/schedule, evaluation, export."""
from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from trainers.core import DatasetSpec, TrainerError
from trainers.data.classification import IMAGENET_MEAN, IMAGENET_STD, ClassificationDataset
from trainers.engine import EngineConfig, Recipe, optimizers, schedules
from trainers.engine.loop import move_batch
from trainers.metrics.classification import multi_label_metrics, single_label_metrics
from trainers.weights import load_pretrained

from .hyperparameters import FaiClsHyperparameters
from .losses import classification_loss
from .model import build_model

log = logging.getLogger("trainers.fai_cls")

TRAINER_KEY = "fai_cls"
PRETRAINED_REPORT_FILE = "pretrained_load_report.json"


def _default_num_workers(device: str | None) -> int:
    # On CPU the main process decodes between steps and the model uses every core;
    # on CUDA workers keep the GPU fed.
    if device == "cpu" or (device is None and not torch.cuda.is_available()):
        return 0
    return min(4, max(0, (os.cpu_count() or 1) - 1))


class FaiClsRecipe(Recipe):
    def __init__(self, hp: FaiClsHyperparameters, dataset: DatasetSpec, work_dir: Path,
                 weights_path: Path | None = None, device: str | None = None, precision: str = "auto"):
        self.hp, self.spec, self.work_dir, self.weights_path = hp, dataset, Path(work_dir), weights_path
        self.classes = dataset.classes
        self.eval_split = dataset.evaluation_split()
        self.monitor = "f1_macro" if hp.multi_label else "accuracy"
        self.config = EngineConfig(
            epochs=hp.epochs, batch_size=hp.batch_size, seed=hp.seed, device=device, precision=precision,
            early_stopping_patience=hp.early_stopping_patience, monitor=self.monitor,
            monitor_mode="max", num_workers=_default_num_workers(device), sync_batchnorm=hp.sync_batchnorm)
        self._eval_dataset: ClassificationDataset | None = None

    # --- model and data ----------------------------------------------------------------
    def build_model(self):
        return build_model(self.hp, len(self.classes))

    def train_dataset(self):
        return ClassificationDataset(self.spec, "train", self.hp.resolution, self.hp.multi_label,
                                     train=True, horizontal_flip=self.hp.horizontal_flip)

    def eval_dataset(self) -> ClassificationDataset:
        if self._eval_dataset is None:
            self._eval_dataset = ClassificationDataset(self.spec, self.eval_split, self.hp.resolution,
                                                       self.hp.multi_label)
        return self._eval_dataset

    def on_train_start(self, model, resumed: bool) -> None:
        if resumed or self.weights_path is None:
            return
        report = load_pretrained(model, self.weights_path)
        log.info("pretrained weights %s (%s): %s", self.hp.pretrained_weights, self.weights_path, report.summary())
        if report.unexpected or report.mismatched_shapes:
            log.info("skipped keys: unexpected=%s mismatched=%s", report.unexpected, report.mismatched_shapes)
        if not any(key.startswith("backbone.") for key in report.loaded):
            raise TrainerError("weights_incompatible",
                               f"{self.hp.pretrained_weights!r} has no tensor matching backbone {self.hp.backbone}")
        self.work_dir.mkdir(parents=True, exist_ok=True)
        (self.work_dir / PRETRAINED_REPORT_FILE).write_text(json.dumps(
            {"name": self.hp.pretrained_weights, **report.to_dict()}))

    # --- training ----------------------------------------------------------------------
    def train_step(self, model, batch, device):
        images, targets = batch
        loss = classification_loss(model(images), targets, multi_label=self.hp.multi_label,
                                   use_focal_loss=self.hp.use_focal_loss, focal_alpha=self.hp.focal_alpha,
                                   focal_gamma=self.hp.focal_gamma, label_smoothing=self.hp.label_smoothing)
        return {"loss": loss, "loss_cls": loss.detach()}

    def build_optimizer(self, model):
        decay, no_decay = [], []
        for param in model.parameters():
            if param.requires_grad:
                (decay if param.dim() > 1 else no_decay).append(param)  # no decay on biases and norms
        groups = [{"params": decay, "weight_decay": self.hp.weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
        lr = self.hp.learning_rate
        if self.hp.optimizer == "sgd":
            return optimizers.sgd(groups, lr=lr, momentum=0.9)
        if self.hp.optimizer == "adam":
            return optimizers.adam(groups, lr=lr)
        return optimizers.adamw(groups, lr=lr)

    def build_scheduler(self, optimizer, steps_per_epoch: int, epochs: int):
        warmup = self.hp.warmup_epochs * steps_per_epoch
        if self.hp.scheduler == "cosine":
            factor = schedules.warmup_cosine(steps_per_epoch * epochs, warmup, 0.001, 0.0)
        elif self.hp.scheduler == "step":
            # x0.1 after the first and the second third of the epochs: three levels, whatever the count
            thirds = [math.ceil(epochs / 3), math.ceil(2 * epochs / 3)]
            warm, decay = schedules.constant(warmup, 0.001), schedules.multi_step(steps_per_epoch, thirds, 0.1)
            factor = lambda step: warm(step) * decay(step)  # noqa: E731
        else:
            factor = schedules.constant(warmup, 0.001)
        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)

    # --- evaluation and export ---------------------------------------------------------
    def predict_logits(self, model, dataset, device) -> np.ndarray:
        loader = DataLoader(dataset, batch_size=self.hp.batch_size, shuffle=False,
                            num_workers=self.config.num_workers)
        chunks = [model(move_batch(images, device, self.config.channels_last)).float().cpu()
                  for images, _ in loader]
        return torch.cat(chunks).numpy()

    def evaluate(self, model, device) -> dict[str, Any]:
        dataset = self.eval_dataset()
        logits = self.predict_logits(model, dataset, device)
        targets = torch.stack([dataset.target(i) for i in range(len(dataset))]).numpy()
        if self.hp.multi_label:
            predicted = 1.0 / (1.0 + np.exp(-logits)) >= self.hp.threshold
            metrics = multi_label_metrics(targets, predicted, self.classes)
        else:
            metrics = single_label_metrics(targets, logits.argmax(axis=1), len(self.classes), self.classes)
        return {"eval_split": self.eval_split, **metrics}

    def export(self, model, artifact_dir: Path, metrics: dict[str, Any]) -> None:
        torch.save({k: v.contiguous() for k, v in model.state_dict().items()}, artifact_dir / "weights.pt")
        report_path = self.work_dir / PRETRAINED_REPORT_FILE
        config = {
            "trainer": TRAINER_KEY,
            "hyperparameters": self.hp.model_dump(),
            "num_classes": len(self.classes),
            "classes": self.classes,
            "monitor": self.monitor,
            "eval_split": self.eval_split,
            "preprocessing": {"resize": [self.hp.resolution, self.hp.resolution],
                              "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)},
            "pretrained": json.loads(report_path.read_text()) if report_path.exists() else None,
        }
        (artifact_dir / "config.json").write_text(json.dumps(config, indent=2))
        (artifact_dir / "labels.json").write_text(json.dumps(self.classes))
