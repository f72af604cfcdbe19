"""The `fai_cls` trainer: validates hyperparameters and weights up front, then runs the engine."""
from __future__ import annotations

from pathlib import Path

from trainers.core import (
    TASK_CLASSIFICATION,
    TASK_INSTANCE_SEGMENTATION,
    Callbacks,
    DatasetSpec,
    FitResult,
    check_dataset,
)
from trainers.data.classification import check_item_labels, split_items
from trainers.engine import fit
from trainers.hyperparameters import registered_weights
from trainers.backbones import BACKBONES
from trainers.trainer_registry import register_hyperparameters, register_trainer, register_weight_architectures

from .hyperparameters import FaiClsHyperparameters, parse_hyperparameters, weights_needed
from .recipe import TRAINER_KEY, FaiClsRecipe, eval_split_name

# COCO manifests train on image-level labels (the categories annotated on each image).
SUPPORTED_TASKS = (TASK_CLASSIFICATION, TASK_INSTANCE_SEGMENTATION)


class FaiClsTrainer:
    def __init__(self, recipe: FaiClsRecipe, work_dir: Path):
        self.recipe, self.work_dir = recipe, work_dir

    def fit(self, callbacks: Callbacks | None = None) -> FitResult:
        return fit(self.recipe, self.work_dir, callbacks)


def check_labels(hp: FaiClsHyperparameters, dataset: DatasetSpec) -> None:
    """The labels the fit will read, checked as its datasets check them (at submission too):
    a single-label fit on images with several categories fails with multi_label_required."""
    for split in dict.fromkeys(("train", eval_split_name(dataset))):
        if split is not None and dataset.split(split):
            check_item_labels(split_items(dataset, split), len(dataset.classes), hp.multi_label, split)


register_hyperparameters(TRAINER_KEY, FaiClsHyperparameters, weights_needed, dataset_check=check_labels)
register_weight_architectures(*BACKBONES)  # weights are looked up by the backbone's name


@register_trainer(TRAINER_KEY)
def create_fai_cls_trainer(hyperparameters: dict, dataset: DatasetSpec, work_dir: Path,
                           weights_resolver=None, device: str | None = None,
                           precision="auto") -> FaiClsTrainer:
    hp = parse_hyperparameters(hyperparameters)
    check_dataset(dataset, "fai-cls", SUPPORTED_TASKS)
    need = weights_needed(hp)
    weights_path = registered_weights(weights_resolver, need) if need else None
    return FaiClsTrainer(FaiClsRecipe(hp, dataset, work_dir, weights_path, device, precision), Path(work_dir))
