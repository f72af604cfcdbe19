"""The fai_cls trainer family's one registration (trainers.families)."""
from __future__ import annotations

from pathlib import Path

from trainers.backbone_names import BACKBONE_NAMES
from trainers.core import TASK_CLASSIFICATION, TASK_INSTANCE_SEGMENTATION, DatasetSpec
from trainers.data.classification import check_item_labels, split_items
from trainers.hyperparameters import registered_weights
from trainers.families import TrainerFamily, register_family

from .exportable import FaiClsExportable
from .hyperparameters import FaiClsHyperparameters, weights_needed
from .recipe import TRAINER_KEY, FaiClsRecipe


def check_labels(hp: FaiClsHyperparameters, dataset: DatasetSpec) -> None:
    """The labels the fit will read, checked as its datasets check them (at submission too):
    a single-label fit on images with several categories fails with multi_label_required."""
    for split in dict.fromkeys(("train", dataset.evaluation_split())):
        if split is not None and dataset.split(split):
            check_item_labels(split_items(dataset, split), len(dataset.classes), hp.multi_label, split)


def build_recipe(hp: FaiClsHyperparameters, dataset: DatasetSpec, work_dir: Path, weights_resolver=None,
                 device: str | None = None, precision: str = "auto") -> FaiClsRecipe:
    need = weights_needed(hp)
    weights_path = registered_weights(weights_resolver, need) if need else None  # fails before training
    return FaiClsRecipe(hp, dataset, work_dir, weights_path, device, precision)


FAMILY = register_family(TrainerFamily(
    key=TRAINER_KEY, name="fai-cls", hyperparameters=FaiClsHyperparameters,
    # COCO manifests train on image-level labels (the categories annotated on each image).
    tasks=(TASK_CLASSIFICATION, TASK_INSTANCE_SEGMENTATION),
    recipe=build_recipe, exportable=FaiClsExportable, weights_needed=weights_needed,
    weight_architectures=BACKBONE_NAMES,  # weights are looked up by the backbone's name
    dataset_check=check_labels, predict_channels_last=True,
))
