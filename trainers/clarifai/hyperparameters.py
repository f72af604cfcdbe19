"""Hyperparameters of the five templates, validated again inside the trainer.

Names, bounds, steps and defaults mirror the catalogue files
(templates_registry/catalogue/<template>.json); a test keeps the two in agreement.
Bounds the Clarifai documentation states are hard requirements; the others (marked
"chosen") are ours and are explained in the catalogue descriptions.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from trainers.hyperparameters import parse_strict

Logreg = Annotated[int, Field(ge=0, le=1)]
ImageSize = Annotated[int, Field(ge=32, le=1024, multiple_of=16)]
Epochs200 = Annotated[int, Field(ge=1, le=200)]
NonNegative = Annotated[float, Field(ge=0.0)]
ItemsPerEpoch = Annotated[int | None, Field(ge=1)]


class _Strict(BaseModel):
    # strict: 1.0 is not an int and "1" is not a number; unknown names are errors.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    seed: Annotated[int, Field(ge=0)] = 0  # not a Clarifai parameter: makes runs repeatable


class InceptionFamilyParams(_Strict):
    """Clarifai_InceptionBatchNorm, Clarifai_InceptionV2 and Clarifai_ResNext."""

    logreg: Logreg = 1
    image_size: ImageSize = 256  # chosen
    batch_size: Annotated[int, Field(ge=1, le=128)] = 64  # chosen default
    init_epochs: Epochs200 = 25  # chosen default
    step_epochs: Epochs200 = 7  # chosen default
    num_epochs: Epochs200 = 60  # chosen default
    per_item_lrate: NonNegative = 1.5625e-4  # chosen default: 0.01 per step at batch 64
    num_items_per_epoch: ItemsPerEpoch = None  # None = the training split's size


class InceptionV2Params(InceptionFamilyParams):
    # From random weights: BN-Inception's 0.045 per step (the paper's rate) at batch 64.
    per_item_lrate: NonNegative = 7.03125e-4


class TransferEmbedNormParams(_Strict):
    logreg: Logreg = 1
    image_size: ImageSize = 256  # chosen
    batch_size: Annotated[int, Field(ge=1, le=128)] = 64  # chosen default
    lrate: NonNegative = 0.01  # chosen default, per minibatch
    base_gradient_multiplier: NonNegative = 0.1  # chosen default (and lower bound 0)
    num_epochs: Epochs200 = 30  # chosen default
    num_items_per_epoch: ItemsPerEpoch = None
    average_horizontal_flips: bool = True  # chosen default


class ResNetRSBA1Params(_Strict):
    image_size: ImageSize = 224  # bounds chosen (Clarifai states none for this template)
    batch_size: Annotated[int, Field(ge=1, le=256)] = 64  # chosen default
    num_epochs: Annotated[int, Field(ge=1, le=600)] = 100  # chosen default
    # Defaults: RSB A1's LAMB lr 5e-3 and minimum 1e-6 at batch 2048, per item.
    per_item_lrate: NonNegative = 2.44140625e-6
    weight_decay: Annotated[float, Field(ge=0.0, le=1.0)] = 0.01
    per_item_min_lrate: NonNegative = 4.8828125e-10
    warmup_iters: Annotated[int, Field(ge=0)] = 500  # chosen default
    warmup_ratio: Annotated[float, Field(ge=0.0, le=1.0)] = 1e-4  # chosen bounds; RSB A1's start factor
    pretrained_weights: Literal["None", "ImageNet-1k"] = "ImageNet-1k"
    flip_probability: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5  # chosen default
    flip_direction: Literal["horizontal", "vertical"] = "horizontal"


def parse(model: type[_Strict], hyperparameters: dict) -> _Strict:
    return parse_strict(model, hyperparameters)
