"""The five templates: trainer key -> hyperparameters, recipe, architecture, pretraining.

Each is registered with `trainers.families` as one trainer family.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from trainers.core import TASK_CLASSIFICATION, DatasetSpec, WeightsResolver
from trainers.hyperparameters import WeightsNeed, check_warmup_ends_within_the_run, registered_weights
from trainers.families import TrainerFamily, register_family

from . import hyperparameters as hp
from .exportable import ClarifaiExportable
from .model import BN_INCEPTION
from .shared_recipe import Architecture, ClarifaiRecipe
from .template_recipes import InceptionFamilyRecipe, ResNetRSBA1Recipe, TransferEmbedNormRecipe

IMAGENET_21K = "ImageNet-21K"
IMAGENET_1K = "ImageNet-1k"


def random_weights(reason: str) -> dict[str, Any]:
    return {"name": None, "path": None, "reason": reason}


def imagenet_21k_if_registered(architecture: str, params, resolve: WeightsResolver | None) -> dict[str, Any]:
    """Clarifai describes these templates as pre-trained but offers no parameter for it: use registered
    ImageNet-21K weights when there are some, else start from random weights."""
    path = resolve(architecture, IMAGENET_21K) if resolve else None
    if path is None:
        return random_weights(f"no {IMAGENET_21K} weights registered for {architecture}: random initialisation")
    return {"name": IMAGENET_21K, "path": str(path), "reason": f"registered {IMAGENET_21K} weights"}


def never_pretrained(architecture: str, params, resolve: WeightsResolver | None) -> dict[str, Any]:
    return random_weights("InceptionV2 always starts from randomly initialised weights")


def pretrained_weights_parameter(architecture: str, params, resolve: WeightsResolver | None) -> dict[str, Any]:
    need = named_weights(architecture, params)
    if need is None:
        return random_weights("pretrained_weights is None")
    path = registered_weights(resolve, need)
    return {"name": params.pretrained_weights, "path": str(path),
            "reason": f"registered {params.pretrained_weights} weights"}


def named_weights(architecture: str, params) -> WeightsNeed | None:
    """RSB A1's pretrained_weights names registered weights, unless it is 'None'."""
    if params.pretrained_weights == "None":
        return None
    return WeightsNeed("pretrained_weights", architecture, params.pretrained_weights,
                       "choose pretrained_weights='None' to train from random weights")


def no_named_weights(architecture: str, params) -> None:
    return None


@dataclass(frozen=True)
class ClarifaiTemplate:
    key: str
    params: type[hp.ClarifaiHyperparameters]
    recipe: type[ClarifaiRecipe]
    architecture: Callable[[Any], Architecture]
    pretrained: Callable[[str, Any, WeightsResolver | None], dict[str, Any]]
    logreg: Callable[[Any], bool] = lambda params: bool(params.logreg)
    # The registered weights a job's parameters name (checked at submission); None when none.
    weights_named: Callable[[str, Any], WeightsNeed | None] = no_named_weights


TEMPLATES = {t.key: t for t in (
    ClarifaiTemplate("clarifai_resnet50_rsb_a1", hp.ResNetRSBA1Params, ResNetRSBA1Recipe,
             lambda p: Architecture("resnet50", resize="square"), pretrained_weights_parameter,
             logreg=lambda p: True,  # RSB A1 trains sigmoid outputs with BCE
             weights_named=named_weights),
    ClarifaiTemplate("clarifai_inception_batchnorm", hp.InceptionFamilyParams, InceptionFamilyRecipe,
             lambda p: Architecture(BN_INCEPTION), imagenet_21k_if_registered),
    ClarifaiTemplate("clarifai_inception_v2", hp.InceptionV2Params, InceptionFamilyRecipe,
             lambda p: Architecture(BN_INCEPTION), never_pretrained),
    ClarifaiTemplate("clarifai_resnext", hp.InceptionFamilyParams, InceptionFamilyRecipe,
             lambda p: Architecture("resnext50_32x4d"), imagenet_21k_if_registered),
    ClarifaiTemplate("clarifai_inception_transfer_embed_norm", hp.TransferEmbedNormParams, TransferEmbedNormRecipe,
             lambda p: Architecture(BN_INCEPTION, head="embed_norm",
                                    average_horizontal_flips=p.average_horizontal_flips),
             imagenet_21k_if_registered),
)}


def check_warmup(params, dataset: DatasetSpec) -> None:
    """The templates with a warmup (RSB A1) end it within the run."""
    if hasattr(params, "warmup_iters"):
        check_warmup_ends_within_the_run(params.warmup_iters, params.run_size(dataset.train_images()))


def build_recipe(template: ClarifaiTemplate, params, dataset: DatasetSpec, work_dir: Path,
                 weights_resolver: WeightsResolver | None = None, device: str | None = None,
                 precision: str = "auto") -> ClarifaiRecipe:
    architecture = template.architecture(params)
    pretrained = template.pretrained(architecture.name, params, weights_resolver)  # fails before training
    return template.recipe(template.key, params, dataset, work_dir, architecture, template.logreg(params),
                           pretrained, device, precision)


def _register(template: ClarifaiTemplate) -> None:
    architecture = template.architecture(template.params()).name
    register_family(TrainerFamily(
        key=template.key, name="the Clarifai templates", hyperparameters=template.params,
        tasks=(TASK_CLASSIFICATION,),
        recipe=lambda *args, **kwargs: build_recipe(template, *args, **kwargs),
        exportable=ClarifaiExportable, dataset_check=check_warmup,
        weights_needed=lambda params: template.weights_named(template.architecture(params).name, params),
        weight_architectures=(architecture,),
    ))


for _template in TEMPLATES.values():
    _register(_template)
