"""The `fai_mf` trainer: validates hyperparameters and dataset, then runs the engine."""
from __future__ import annotations

from pathlib import Path

from trainers.core import (
    TASK_INSTANCE_SEGMENTATION,
    TASK_SEMANTIC_SEGMENTATION,
    Callbacks,
    DatasetSpec,
    FitResult,
    TrainerError,
    check_dataset,
)
from trainers.engine import EngineConfig, fit
from trainers.hyperparameters import registered_weights
from trainers.backbones import BACKBONES
from trainers.trainer_registry import register_hyperparameters, register_trainer, register_weight_architectures

from .hyperparameters import FaiMfHyperparameters, parse_hyperparameters, weights_needed
from .recipe import (
    MONITOR,
    TRAINER_KEY,
    FaiMfRecipe,
    model_config_from,
)

SUPPORTED_TASKS = (TASK_INSTANCE_SEGMENTATION, TASK_SEMANTIC_SEGMENTATION)


class FaiMfTrainer:
    """`model_overrides` (MaskFormerConfig fields such as num_points, num_heads) and
    `engine_overrides` (EngineConfig fields) exist for tiny test configurations."""

    def __init__(self, hyperparameters: dict, dataset: DatasetSpec, work_dir: Path, weights_resolver=None,
                 device: str | None = None, precision: str = "auto", model_overrides: dict | None = None,
                 engine_overrides: dict | None = None):
        hp = parse_hyperparameters(hyperparameters)
        check_dataset(dataset, "fai-mf", SUPPORTED_TASKS)
        need = weights_needed(hp)
        pretrained_path = registered_weights(weights_resolver, need) if need else None
        try:
            model_config = model_config_from(hp, dataset.task, len(dataset.classes), **(model_overrides or {}))
        except ValueError as exc:
            raise TrainerError("invalid_hyperparameters", str(exc)) from exc
        engine_config = EngineConfig(**{
            "epochs": hp.epochs, "batch_size": hp.batch_size, "seed": hp.seed, "device": device,
            "precision": precision, "channels_last": True,
            "grad_clip_norm": hp.grad_clip_norm or None,
            "early_stopping_patience": hp.early_stopping_patience,
            "monitor": MONITOR[dataset.task], "monitor_mode": "max",
            **(engine_overrides or {}),
        })
        self.work_dir = Path(work_dir)
        self.recipe = FaiMfRecipe(hp, dataset, model_config, engine_config, self.work_dir, pretrained_path)

    def fit(self, callbacks: Callbacks | None = None) -> FitResult:
        return fit(self.recipe, self.work_dir, callbacks)


register_hyperparameters(TRAINER_KEY, FaiMfHyperparameters, weights_needed)
register_weight_architectures(*BACKBONES)  # weights are looked up by the backbone's name


@register_trainer(TRAINER_KEY)
def build_fai_mf_trainer(hyperparameters, dataset, work_dir, weights_resolver=None, device=None,
                         precision="auto") -> FaiMfTrainer:
    return FaiMfTrainer(hyperparameters, dataset, work_dir, weights_resolver, device, precision)
