"""Helpers every trainer uses to read its hyperparameters and the weights they name."""
from __future__ import annotations

import typing
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from trainers.core import TrainerError, WeightsResolver

Model = TypeVar("Model", bound=BaseModel)


def parse_strict(model: type[Model], values: dict[str, Any]) -> Model:
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


def registered_weights(resolver: WeightsResolver | None, architecture: str, name: str, alternative: str) -> Path:
    """The file of weights a job names; fails before any training when none is registered."""
    path = resolver(architecture, name) if resolver else None
    if path is None:
        raise TrainerError(
            "weights_not_registered",
            f"no weights named {name!r} are registered for {architecture}; register the file first "
            f"(POST /api/v1/weights/ with architecture={architecture}), or {alternative}",
        )
    return Path(path)
