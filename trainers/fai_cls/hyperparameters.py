"""FAI-CLS hyperparameters: the declaration (also written to templates_registry/catalogue/
fai-cls.json; a test keeps the two equal) and the pydantic model the trainer validates with."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

import pydantic

from trainers.hyperparameters import parse_strict

BACKBONE_CHOICES = ["resnet18", "resnet34", "resnet50", "resnet101", "resnext50_32x4d",
                    "efficientnet_b0", "mobilenet_v3_large", "stdc1", "stdc2", "tiny_test"]


def _p(name, type, default, min=None, max=None, step=None, choices=None, log_scale=False, description=""):
    return {"name": name, "type": type, "default": default, "min": min, "max": max, "step": step,
            "choices": choices, "log_scale": log_scale, "description": description}


HYPERPARAMETERS: list[dict[str, Any]] = [
    _p("backbone", "enum", "resnet50", choices=BACKBONE_CHOICES,
       description="Feature extractor, random init unless pretrained_weights is set: torchvision architectures, "
                   "or STDC (stdc1 = STDC-Small / STDCNet813, stdc2 = STDC-Large / STDCNet1446)."),
    _p("features", "enum", "res5", choices=["res2", "res3", "res4", "res5"],
       description="Backbone feature level fed to the head (res5 = highest level, stride 32)."),
    _p("num_layers", "int", 2, 1, 2, 1,
       description="Head depth. 1: AvgPool -> Flatten -> Dropout -> Linear. "
                   "2: AvgPool -> Flatten -> Linear(hidden_dim) -> ReLU -> Dropout -> Linear."),
    _p("hidden_dim", "int", 512, 8, 4096, 8, description="Hidden layer width of the two-layer head."),
    _p("dropout_rate", "float", 0.2, 0.0, 0.9, 0.01, description="Dropout probability in the head."),
    _p("multi_label", "bool", False,
       description="Several classes per image: sigmoid per class with binary cross-entropy."),
    _p("threshold", "float", 0.5, 0.0, 1.0, 0.01,
       description="Multi-label: every class whose sigmoid is >= threshold is predicted (0 = every class)."),
    _p("use_focal_loss", "bool", False, description="Focal loss instead of (binary) cross-entropy."),
    _p("focal_alpha", "float", 0.75, 0.0, 1.0, 0.01, description="Focal loss alpha."),
    _p("focal_gamma", "float", 2.0, 0.0, 10.0, 0.1, description="Focal loss gamma (0 = plain cross-entropy weighted by alpha)."),
    _p("label_smoothing", "float", 0.0, 0.0, 0.5, 0.01, description="Label smoothing factor."),
    _p("resolution", "int", 224, 32, 1024, 16, description="Images are resized to resolution x resolution."),
    _p("batch_size", "int", 16, 1, 256, 1, description="Images per optimizer step."),
    _p("epochs", "int", 10, 1, 500, 1, description="Passes over the training split."),
    _p("learning_rate", "float", 0.001, 1e-6, 1.0, None, log_scale=True, description="Peak learning rate."),
    _p("weight_decay", "float", 0.0001, 0.0, 1.0, None,
       description="Decoupled (AdamW) or L2 weight decay on weights (not on biases and norm parameters)."),
    _p("optimizer", "enum", "adamw", choices=["adamw", "adam", "sgd"], description="SGD uses momentum 0.9."),
    _p("scheduler", "enum", "cosine", choices=["cosine", "step", "constant"],
       description="cosine: decay to 0 at the end; step: x0.1 after each third of the epochs; constant."),
    _p("warmup_epochs", "int", 0, 0, 50, 1, description="Linear learning-rate warmup from 0.1% of the peak."),
    _p("early_stopping_patience", "int", 0, 0, 100, 1,
       description="Stop after this many epochs without improvement of the monitored metric (0 = off)."),
    _p("seed", "int", 0, 0, 2147483647, 1, description="Seed of initialisation, sampling and augmentation."),
    _p("horizontal_flip", "float", 0.5, 0.0, 1.0, 0.05, description="Probability of a random horizontal flip in training."),
    _p("pretrained_weights", "string", "",
       description="Name of a registered weights file for the chosen backbone; empty = random initialisation."),
]


def _on_grid(value: float, origin: float, step: float) -> bool:
    as_dec = lambda x: Decimal(repr(float(x)))  # noqa: E731  (shortest repr: 0.3 is on a 0.1 grid)
    return (as_dec(value) - as_dec(origin)) % as_dec(step) == 0


MIN_RESOLUTION_FOR_SINGLE_IMAGE_BATCHES = 48


class FaiClsHyperparameters(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", strict=True, frozen=True)

    backbone: Literal[tuple(BACKBONE_CHOICES)] = "resnet50"
    features: Literal["res2", "res3", "res4", "res5"] = "res5"
    num_layers: int = pydantic.Field(2, ge=1, le=2)
    hidden_dim: int = pydantic.Field(512, ge=8, le=4096)
    dropout_rate: float = pydantic.Field(0.2, ge=0.0, le=0.9)
    multi_label: bool = False
    threshold: float = pydantic.Field(0.5, ge=0.0, le=1.0)
    use_focal_loss: bool = False
    focal_alpha: float = pydantic.Field(0.75, ge=0.0, le=1.0)
    focal_gamma: float = pydantic.Field(2.0, ge=0.0, le=10.0)
    label_smoothing: float = pydantic.Field(0.0, ge=0.0, le=0.5)
    resolution: int = pydantic.Field(224, ge=32, le=1024)
    batch_size: int = pydantic.Field(16, ge=1, le=256)
    epochs: int = pydantic.Field(10, ge=1, le=500)
    learning_rate: float = pydantic.Field(0.001, ge=1e-6, le=1.0)
    weight_decay: float = pydantic.Field(0.0001, ge=0.0, le=1.0)
    optimizer: Literal["adamw", "adam", "sgd"] = "adamw"
    scheduler: Literal["cosine", "step", "constant"] = "cosine"
    warmup_epochs: int = pydantic.Field(0, ge=0, le=50)
    early_stopping_patience: int = pydantic.Field(0, ge=0, le=100)
    seed: int = pydantic.Field(0, ge=0, le=2147483647)
    horizontal_flip: float = pydantic.Field(0.5, ge=0.0, le=1.0)
    pretrained_weights: str = ""

    @pydantic.model_validator(mode="after")
    def _values_on_their_step_grid(self):
        for spec in HYPERPARAMETERS:
            if spec["step"] is not None and not _on_grid(getattr(self, spec["name"]), spec["min"], spec["step"]):
                raise ValueError(f"{spec['name']} must be a multiple of {spec['step']} from {spec['min']} "
                                 f"to {spec['max']}, got {getattr(self, spec['name'])}")
        return self

    @pydantic.model_validator(mode="after")
    def _batch_norm_can_train(self):
        # Below 48 pixels the stride-32 maps are 1x1: one image gives BatchNorm one value per channel.
        if self.batch_size == 1 and self.resolution < MIN_RESOLUTION_FOR_SINGLE_IMAGE_BATCHES:
            raise ValueError(f"batch_size 1 needs resolution >= {MIN_RESOLUTION_FOR_SINGLE_IMAGE_BATCHES}: at "
                             f"{self.resolution} the backbone's last maps are 1x1 and BatchNorm cannot train on one "
                             "value per channel")
        return self


def parse_hyperparameters(values: dict[str, Any]) -> FaiClsHyperparameters:
    """Validate (unknown names, types, bounds, step grid); errors become a TrainerError."""
    return parse_strict(FaiClsHyperparameters, values)
