"""The fai_mf trainer family's one registration (trainers.families)."""
from __future__ import annotations

from pathlib import Path

from trainers.backbone_names import BACKBONE_NAMES
from trainers.core import TASK_INSTANCE_SEGMENTATION, TASK_SEMANTIC_SEGMENTATION, DatasetSpec, TrainerError
from trainers.engine import EngineConfig
from trainers.hyperparameters import check_warmup_ends_within_the_run, registered_weights
from trainers.families import TrainerFamily, register_family

from .exportable import FaiMfExportable
from .hyperparameters import FaiMfHyperparameters, weights_needed
from .recipe import MONITOR, TRAINER_KEY, FaiMfRecipe, model_config_from


def check_warmup(hp: FaiMfHyperparameters, dataset: DatasetSpec) -> None:
    check_warmup_ends_within_the_run(hp.warmup_iters, hp.run_size(dataset.train_images()))


def build_recipe(hp: FaiMfHyperparameters, dataset: DatasetSpec, work_dir: Path, weights_resolver=None,
                 device: str | None = None, precision: str = "auto", model_overrides: dict | None = None,
                 engine_overrides: dict | None = None) -> FaiMfRecipe:
    """`model_overrides` (MaskFormerConfig fields such as num_points, num_heads) and
    `engine_overrides` (EngineConfig fields) exist for tiny test configurations."""
    need = weights_needed(hp)
    pretrained_path = registered_weights(weights_resolver, need) if need else None  # fails before training
    try:
        model_config = model_config_from(hp, dataset.task, len(dataset.classes), **(model_overrides or {}))
    except ValueError as exc:
        raise TrainerError("invalid_hyperparameters", str(exc)) from exc
    engine_config = EngineConfig(**{
        "epochs": hp.epochs, "batch_size": hp.batch_size, "seed": hp.seed, "device": device,
        "precision": precision, "channels_last": True,
        "grad_clip_norm": hp.grad_clip_norm or None,
        "early_stopping_patience": hp.early_stopping_patience,
        "monitor": MONITOR[dataset.task], "monitor_mode": "max", "sync_batchnorm": hp.sync_batchnorm,
        **(engine_overrides or {}),
    })
    return FaiMfRecipe(hp, dataset, model_config, engine_config, Path(work_dir), pretrained_path)


FAMILY = register_family(TrainerFamily(
    key=TRAINER_KEY, name="fai-mf", hyperparameters=FaiMfHyperparameters,
    tasks=(TASK_INSTANCE_SEGMENTATION, TASK_SEMANTIC_SEGMENTATION),
    recipe=build_recipe, exportable=FaiMfExportable, weights_needed=weights_needed, dataset_check=check_warmup,
    weight_architectures=BACKBONE_NAMES,  # weights are looked up by the backbone's name
    predict_probe_batch=2,
))
