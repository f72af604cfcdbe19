"""The one declaration of a trainer's hyperparameters, and the helpers that read it.

Each trainer declares its hyperparameters once, as a `Hyperparameters` pydantic model whose
fields are made with `param()`: type (from the annotation; a `Literal` is a choice), default,
bounds, step, log-scale flag and description. The trainer validates with it; the platform
derives from it what the API validates, the JSON Schema, the admin form and the template
catalogue (`declarations()`), so a parameter is written in one place.
"""
from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar, Literal

import annotated_types
import pydantic
from pydantic import ValidationError

from trainers.core import TrainerError, WeightsResolver
from trainers.epoch_steps import steps_per_epoch

# A string hyperparameter is a name (of weights, of a choice); nothing needs more.
MAX_STRING_LENGTH = 200


def param(default: Any, description: str, *, ge: float | None = None, le: float | None = None,
          step: float | None = None, log_scale: bool = False) -> Any:
    """A declared field: `step` puts values on the grid ge + k * step; `log_scale` tells a
    search (and a person) to vary it by factors."""
    extra = {key: value for key, value in (("step", step), ("log_scale", log_scale)) if value}
    return pydantic.Field(default, ge=ge, le=le, description=description, json_schema_extra=extra or None)


SYNC_BATCHNORM_DESCRIPTION = (
    "On a job with devices > 1 on GPUs: batch-norm statistics over the global batch (SyncBatchNorm) instead of "
    "each device's share; steadier with small per-device batches, at a collective per batch-norm layer. No effect "
    "on one device, nor on CPUs (PyTorch's SyncBatchNorm needs GPUs).")


def on_grid(value: float, origin: float | None, step: float) -> bool:
    """Whether value = origin + k * step, compared on each float's shortest repr (0.3 is on a 0.1 grid)."""
    as_decimal = lambda x: Decimal(repr(float(x))) if isinstance(x, float) else Decimal(x)  # noqa: E731
    try:
        return (as_decimal(value) - as_decimal(origin or 0)) % as_decimal(step) == 0
    except InvalidOperation:  # a quotient beyond Decimal's precision (1e308 on a step of 1)
        return False


@dataclass(frozen=True)
class RunSize:
    train_images: int
    items_per_epoch: int  # the training images, unless the trainer sets an epoch's length
    batch_size: int
    epochs: int
    steps_per_epoch: int
    side: int  # images are resized to side x side
    epochs_field: str

    @property
    def steps(self) -> int:
        return self.steps_per_epoch * self.epochs

    @property
    def pixels_per_step(self) -> int:
        return self.batch_size * self.side * self.side


class Hyperparameters(pydantic.BaseModel):
    """Base of every trainer's declaration: strict (1.0 is not an int, "1" is not a number),
    unknown names refused, values on their step grid, strings of bounded length."""

    model_config = pydantic.ConfigDict(extra="forbid", strict=True, frozen=True, str_max_length=MAX_STRING_LENGTH)
    # The fields that size a run (`run_size`), as each trainer names them; all have batch_size.
    EPOCHS_FIELD: ClassVar[str] = "epochs"
    SIDE_FIELD: ClassVar[str] = "resolution"

    def run_size(self, train_images: int, devices: int = 1) -> RunSize:
        """The run these values make on `train_images` training images: its optimizer steps,
        counted as the engine counts them (on several devices, each rank's share of an epoch),
        and the pixels each step reads on one device."""
        epochs, batch_size = getattr(self, self.EPOCHS_FIELD), self.batch_size
        # an epoch's length, where it is set; dealt to the ranks as the engine deals it
        items = (getattr(self, "num_items_per_epoch", None) or train_images) // max(devices, 1)
        return RunSize(train_images=train_images, items_per_epoch=items, batch_size=batch_size, epochs=epochs,
                       steps_per_epoch=steps_per_epoch(items, batch_size, drop_last=False),
                       side=getattr(self, self.SIDE_FIELD), epochs_field=self.EPOCHS_FIELD)

    @pydantic.model_validator(mode="after")
    def _values_on_their_step_grid(self):
        for spec in declarations(type(self)):
            value = getattr(self, spec["name"])
            if spec["step"] is not None and value is not None and not on_grid(value, spec["min"], spec["step"]):
                raise ValueError(f"{spec['name']} must be a multiple of {spec['step']} from {spec['min']} "
                                 f"to {spec['max']}, got {value}")
        return self

    @classmethod
    def parse(cls, values: dict[str, Any]):
        """The worker's check: every problem becomes one TrainerError."""
        return parse_strict(cls, values)

    @classmethod
    def resolve(cls, values: dict[str, Any]) -> dict[str, Any]:
        """`values` with every null that the trainer's rules fill (an `auto` default whose value
        follows from other parameters) replaced by the value training will use, so that a job
        records what it ran with. Raises TrainerError as `parse` does."""
        parsed = cls.parse(values)
        return {name: getattr(parsed, name) if value is None and name in cls.model_fields else value
                for name, value in values.items()}


def with_auto_values(data: dict[str, Any], auto: dict[str, Any]) -> dict[str, Any]:
    """Raw values with each `auto` name they leave null (or out) given the value its rule
    resolved: what a `mode="before"` validator of an auto default returns."""
    return {**data, **{name: value for name, value in auto.items() if data.get(name) is None}}


# Below this side a ResNet-like backbone's stride-32 maps are 1x1.
MIN_SIDE_FOR_SINGLE_IMAGE_BATCHES = 48


def check_batch_norm_can_train(batch_size: int, side: int, side_name: str) -> None:
    """One image whose stride-32 maps are 1x1 gives batch normalization one value per channel,
    which it cannot train on: refuse batch_size 1 at such a size (a ValueError, as a validator
    raises)."""
    if batch_size == 1 and side < MIN_SIDE_FOR_SINGLE_IMAGE_BATCHES:
        raise ValueError(f"batch_size 1 needs {side_name} >= {MIN_SIDE_FOR_SINGLE_IMAGE_BATCHES}: batch_size 1 at "
                         f"{side_name} {side} leaves 1x1 feature maps, and batch normalization cannot train on one "
                         f"value per channel; use batch_size >= 2 or {side_name} >= {MIN_SIDE_FOR_SINGLE_IMAGE_BATCHES}")


def check_warmup_ends_within_the_run(warmup_iters: int, size: RunSize) -> None:
    """A warmup as long as the run never reaches its learning rate: refuse warmup_iters of at
    least the run's optimizer steps (known once the dataset is: a family's dataset_check, run
    at submission). A TrainerError naming what to change."""
    if size.train_images and warmup_iters >= size.steps:
        raise TrainerError("invalid_hyperparameters", (
            f"warmup_iters {warmup_iters} must be less than the run's {size.steps} optimizer steps "
            f"({size.items_per_epoch} images an epoch at batch_size {size.batch_size} for {size.epochs} "
            f"{size.epochs_field}); lower warmup_iters or train for more {size.epochs_field}"))


def declarations(model: type[Hyperparameters]) -> list[dict[str, Any]]:
    """The declared hyperparameters in field order, each as {name, type, default, min, max,
    step, choices, log_scale, description} (the shape templates and the API use)."""
    return [_declaration(name, field) for name, field in model.model_fields.items()]


def _declaration(name: str, field) -> dict[str, Any]:
    annotation = _without_none(field.annotation)
    choices = None
    if typing.get_origin(annotation) is Literal:
        kind, choices = "enum", list(typing.get_args(annotation))
    else:
        kind = {bool: "bool", int: "int", float: "float", str: "string"}[annotation]
    bounds = {"min": None, "max": None}
    for constraint in field.metadata:
        if isinstance(constraint, annotated_types.Ge):
            bounds["min"] = constraint.ge
        elif isinstance(constraint, annotated_types.Le):
            bounds["max"] = constraint.le
    extra = field.json_schema_extra or {}
    return {"name": name, "type": kind, "default": field.default, **bounds, "step": extra.get("step"),
            "choices": choices, "log_scale": bool(extra.get("log_scale")), "description": field.description or ""}


def _without_none(annotation):
    """`int | None` declares an int whose default may be null."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [member for member in typing.get_args(annotation) if member is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def parse_strict(model: type[pydantic.BaseModel], values: dict[str, Any]):
    """Validates with the trainer's own pydantic model (the worker's second check).

    JSON has one number type, so an integral value for a float field (0 for
    grad_clip_norm) is read as a float; every problem becomes one TrainerError.
    """
    values = dict(values)
    for name, field in model.model_fields.items():
        if type(values.get(name)) is int and _accepts_float_not_int(field.annotation):
            values[name] = float(values[name])
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'hyperparameters'}: {error['msg'].removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        raise TrainerError("invalid_hyperparameters", problems) from None


def _accepts_float_not_int(annotation) -> bool:
    if annotation is float:
        return True
    members = typing.get_args(annotation)
    return float in members and int not in members


@dataclass(frozen=True)
class WeightsNeed:
    """Registered weights a job's hyperparameters name: the platform checks they exist at
    submission, the trainer resolves them to a file before training."""

    parameter: str  # the hyperparameter that names them
    architecture: str
    name: str
    alternative: str  # what to choose instead, for the message

    def missing(self) -> TrainerError:
        return TrainerError(
            "weights_not_registered",
            f"no weights named {self.name!r} are registered for {self.architecture}; register the file first "
            f"(POST /api/v1/weights/ with architecture={self.architecture}), or {self.alternative}",
        )


def registered_weights(resolver: WeightsResolver | None, need: WeightsNeed) -> Path:
    """The file of weights a job names; fails before any training when none is registered."""
    path = resolver(need.architecture, need.name) if resolver else None
    if path is None:
        raise need.missing()
    return Path(path)
