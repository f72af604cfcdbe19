"""The fai-mf template's hyperparameters, validated again inside the trainer.

Names, defaults and bounds mirror templates_registry/catalogue/fai-mf.json; a test keeps
the two in agreement. num_classes is not a hyperparameter: it comes from the dataset.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trainers.hyperparameters import parse_strict

BACKBONES = ("resnet50", "resnet101", "resnet18", "resnet34", "resnext50_32x4d",
             "efficientnet_b0", "mobilenet_v3_large", "stdc1", "stdc2", "tiny_test")
Dim = Annotated[int, Field(ge=16, le=1024, multiple_of=16)]  # multiples of 16: 8 attention heads fit
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class FaiMfHyperparameters(BaseModel):
    # strict: 1.0 is not an int and "1" is not a number; unknown names are errors.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    backbone: Literal[BACKBONES] = "resnet50"
    pretrained_weights: str = ""  # registered weights name for the backbone; "" = random init
    num_queries: Annotated[int, Field(ge=1, le=300)] = 100
    resolution: Annotated[int, Field(ge=32, le=1536, multiple_of=32)] = 640
    pixel_decoder_out_dim: Dim = 256
    pixel_decoder_feat_dim: Dim = 256
    pixel_decoder_encoder_layers: Annotated[int, Field(ge=0, le=12)] = 6
    transformer_predictor_hidden_dim: Dim = 256
    transformer_predictor_dec_layers: Annotated[int, Field(ge=1, le=12)] = 6
    head_out_dim: Dim = 256
    postprocessing_type: Literal["auto", "instance", "semantic"] = "auto"
    mask_threshold: Probability = 0.5
    threshold: Probability = 0.5
    predict_all_pixels: bool = False
    learning_rate: Annotated[float, Field(ge=1e-7, le=1e-1)] = 1e-4
    backbone_multiplier: Probability = 0.1
    weight_decay: Probability = 0.05
    epochs: Annotated[int, Field(ge=1, le=1000)] = 50
    batch_size: Annotated[int, Field(ge=1, le=64)] = 8
    warmup_iters: Annotated[int, Field(ge=0, le=100000)] = 10
    grad_clip_norm: Annotated[float, Field(ge=0.0, le=100.0)] = 0.01
    augmentation_strength: Probability = 0.5
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    early_stopping_patience: Annotated[int, Field(ge=0, le=100)] = 0

    @model_validator(mode="after")
    def _batch_norm_can_train(self):
        # At 32 pixels the stride-32 maps are 1x1: one image gives BatchNorm one value per channel.
        if self.batch_size == 1 and self.resolution < 64:
            raise ValueError(f"batch_size 1 needs resolution >= 64: at {self.resolution} the backbone's last "
                             "maps are 1x1 and BatchNorm cannot train on one value per channel")
        return self


def parse_hyperparameters(hyperparameters: dict) -> FaiMfHyperparameters:
    return parse_strict(FaiMfHyperparameters, hyperparameters)
