"""FAI-MF as a Recipe of the shared engine: model, data, loss, optimizer, evaluation, export."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from trainers.core import TASK_INSTANCE_SEGMENTATION, DatasetSpec, TrainerError
from trainers.engine import EngineConfig, Recipe, optimizers, schedules
from trainers.engine.distributed import unwrap
from trainers.weights import load_pretrained

from .config import SHARED_WITH_HYPERPARAMETERS, TRAIN_NUM_POINTS, MaskFormerConfig
from .data import IGNORE_INDEX, CocoInstanceDataset, SemanticDataset, collate
from .evaluation import coco_segm_ap, semantic_scores
from .hyperparameters import FaiMfHyperparameters
from .model import build_mask_former
from .transforms import SquareTransform

TRAINER_KEY = "fai_mf"
MONITOR = {TASK_INSTANCE_SEGMENTATION: "segm/AP", "semantic_segmentation": "mIoU"}
NO_WEIGHT_DECAY_MODULES = (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm, nn.Embedding)


def model_config_from(hp: FaiMfHyperparameters, task: str, num_classes: int, **overrides) -> MaskFormerConfig:
    postprocessing = hp.postprocessing_type
    if postprocessing == "auto":
        postprocessing = "instance" if task == TASK_INSTANCE_SEGMENTATION else "semantic"
    fields = {name: getattr(hp, name) for name in SHARED_WITH_HYPERPARAMETERS}
    fields["num_points"] = points_per_mask(hp.resolution)
    return MaskFormerConfig(num_classes=num_classes, postprocessing_type=postprocessing, **{**fields, **overrides})


def points_per_mask(resolution: int) -> int:
    """Mask2Former's 12544 sampled points, but never more than the predicted mask has pixels
    (it is predicted at 1/4 resolution): at 128 px a mask has 1024, and sampling 12544
    points of it made the loss half of a training step for no more information."""
    return min(TRAIN_NUM_POINTS, (resolution // 4) ** 2)


class FaiMfRecipe(Recipe):
    def __init__(self, hp: FaiMfHyperparameters, dataset: DatasetSpec, model_config: MaskFormerConfig,
                 engine_config: EngineConfig, work_dir: Path, pretrained_path: Path | None = None):
        self.hp = hp
        self.dataset = dataset
        self.model_config = model_config
        self.config = engine_config
        self.pretrained_path = pretrained_path
        # What the pretrained load did, kept in the work dir so a resumed run still reports it.
        self.pretrained_report_path = Path(work_dir) / "pretrained_report.json"
        self.eval_split_name = dataset.evaluation_split()

    # --- model and data ---------------------------------------------------------------
    def build_model(self) -> nn.Module:
        return build_mask_former(self.model_config)

    def on_train_start(self, model: nn.Module, resumed: bool) -> None:
        if self.pretrained_path is not None and not resumed:
            report = load_pretrained(model, self.pretrained_path)
            if not report.loaded:
                raise TrainerError("weights_incompatible",
                                   f"no tensor of {self.hp.pretrained_weights!r} fits backbone {self.hp.backbone}")
            self.pretrained_report_path.parent.mkdir(parents=True, exist_ok=True)
            self.pretrained_report_path.write_text(json.dumps({"name": self.hp.pretrained_weights,
                                                               **report.to_dict()}))

    def _dataset(self, split: dict, strength: float):
        transform = SquareTransform(self.hp.resolution, strength)
        if self.dataset.task == TASK_INSTANCE_SEGMENTATION:
            return CocoInstanceDataset(self.dataset.root, split["coco"], transform)
        return SemanticDataset(self.dataset.root, split["items"], len(self.dataset.classes), transform,
                               self.dataset.manifest.get("ignore_index", IGNORE_INDEX))

    def train_dataset(self):
        return self._dataset(self.dataset.split("train"), self.hp.augmentation_strength)

    def collate_fn(self):
        return collate

    # --- optimisation -----------------------------------------------------------------
    def train_step(self, model: nn.Module, batch: Any, device: torch.device) -> dict[str, torch.Tensor]:
        images, targets = batch
        losses = unwrap(model).losses(model(images), targets)  # DDP passes only forward through
        return {"loss": losses["loss"], **{k: losses[k].detach() for k in ("loss_ce", "loss_mask", "loss_dice")}}

    def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        groups: dict[tuple[bool, bool], list] = {}
        for module_name, module in model.named_modules():
            no_decay = isinstance(module, NO_WEIGHT_DECAY_MODULES)
            in_backbone = module_name == "backbone" or module_name.startswith("backbone.")
            for param in module.parameters(recurse=False):
                if param.requires_grad:
                    groups.setdefault((in_backbone, no_decay), []).append(param)
        lr = self.hp.learning_rate
        return optimizers.adamw([
            {"params": params, "lr": lr * self.hp.backbone_multiplier if in_backbone else lr,
             "weight_decay": 0.0 if no_decay else self.hp.weight_decay}
            for (in_backbone, no_decay), params in groups.items()
        ])

    def build_scheduler(self, optimizer, steps_per_epoch: int, epochs: int):
        factor = schedules.warmup_cosine(steps_per_epoch * epochs, warmup_steps=self.hp.warmup_iters)
        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)

    # --- evaluation and export --------------------------------------------------------
    def evaluate(self, model: nn.Module, device: torch.device) -> dict[str, Any]:
        split = self.dataset.split(self.eval_split_name)
        batch_size = self.config.batch_size
        if self.dataset.task == TASK_INSTANCE_SEGMENTATION:
            metrics = coco_segm_ap(model, self.dataset.root, split["coco"], self.hp.resolution, batch_size,
                                   device, self.model_config.mask_threshold)
        else:
            metrics = semantic_scores(model, self.dataset.root, split["items"], self.dataset.classes,
                                      self.hp.resolution, batch_size, device,
                                      self.dataset.manifest.get("ignore_index", IGNORE_INDEX))
        return metrics

    def export(self, model: nn.Module, artifact_dir: Path, metrics: dict[str, Any]) -> None:
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, artifact_dir / "weights.pt")
        config = {
            "trainer": TRAINER_KEY,
            "task": self.dataset.task,
            "hyperparameters": self.hp.model_dump(),
            "model": asdict(self.model_config),
            "monitor": self.config.monitor,
            "eval_split": self.eval_split_name,
            "pretrained": (json.loads(self.pretrained_report_path.read_text())
                           if self.pretrained_report_path.exists() else None),
        }
        (artifact_dir / "config.json").write_text(json.dumps(config, indent=2))
        (artifact_dir / "labels.json").write_text(json.dumps(self.dataset.classes))
