"""Trainers and predictors by key (the template's `trainer` field).

Trainer packages register themselves on import with `@register_trainer(key)` and
`@register_predictor(key)`; this module imports the known packages lazily, so callers
never import trainer modules by hand. A package that does not exist yet is skipped.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any, Callable

from trainers.core import DatasetSpec, Predictor, Trainer, TrainerError, WeightsResolver
from trainers.hyperparameters import Hyperparameters, WeightsNeed, declarations

# The packages whose import registers trainers and predictors; the keys come from the
# registrations themselves.
TRAINER_PACKAGES = ("trainers.fai_cls", "trainers.fai_mf", "trainers.clarifai")

TrainerFactory = Callable[[dict, DatasetSpec, Path, "WeightsResolver | None", "str | None", str], Trainer]
PredictorLoader = Callable[..., Predictor]

_TRAINERS: dict[str, TrainerFactory] = {}
_PREDICTORS: dict[str, PredictorLoader] = {}
_HYPERPARAMETERS: dict[str, type[Hyperparameters]] = {}
_WEIGHTS_NEEDED: dict[str, Callable[[Any], "WeightsNeed | None"]] = {}
_DATASET_CHECKS: dict[str, Callable[[Any, DatasetSpec], None]] = {}
_EXPORTABLES: dict[str, Callable[[Path], Any]] = {}
_WEIGHT_ARCHITECTURES: set[str] = set()


def register_weight_architectures(*names: str) -> None:
    """Architectures a trainer package looks registered pretrained weights up for."""
    _WEIGHT_ARCHITECTURES.update(names)


def weight_architectures() -> list[str]:
    """Every architecture some trainer looks pretrained weights up for."""
    _ensure_registered()
    return sorted(_WEIGHT_ARCHITECTURES)


def register_trainer(key: str):
    """Decorator on `factory(hyperparameters, dataset, work_dir, weights_resolver, device, precision) -> Trainer`
    (`precision`: auto|fp32|bf16|fp16, see trainers.engine.precision)."""

    def decorator(factory):
        _TRAINERS[key] = factory
        return factory

    return decorator


def register_predictor(key: str):
    """Decorator on `loader(artifact_dir, precision=...) -> Predictor` for artifacts whose
    config.json says `key`."""

    def decorator(loader):
        _PREDICTORS[key] = loader
        return loader

    return decorator


def register_hyperparameters(key: str, model: type[Hyperparameters],
                             weights_needed: Callable[[Any], "WeightsNeed | None"] | None = None,
                             dataset_check: Callable[[Any, DatasetSpec], None] | None = None) -> None:
    """Trainer `key` declares its hyperparameters with `model`: the one declaration the
    platform derives templates, validation and schemas from, and the trainer parses with.
    `weights_needed(parsed)` names the registered weights those values ask for, if any;
    `dataset_check(parsed, dataset)` raises TrainerError when those values cannot train on
    the dataset (its manifest and annotation files; images need not be present)."""
    _HYPERPARAMETERS[key] = model
    _WEIGHTS_NEEDED[key] = weights_needed or (lambda parsed: None)
    if dataset_check is not None:
        _DATASET_CHECKS[key] = dataset_check


def register_exportable(key: str):
    """Decorator on `loader(artifact_dir) -> Exportable` (trainers.export.exportable): the
    family's graph (preprocessed batch in, raw outputs out) with its own pre- and
    post-processing, which export and every runtime share."""

    def decorator(loader):
        _EXPORTABLES[key] = loader
        return loader

    return decorator


def hyperparameter_model(key: str) -> type[Hyperparameters]:
    if key not in _HYPERPARAMETERS:
        _ensure_registered()
    if key not in _HYPERPARAMETERS:
        raise TrainerError("unknown_trainer", f"no trainer registered as {key!r}")
    return _HYPERPARAMETERS[key]


def hyperparameter_declarations(key: str) -> list[dict[str, Any]]:
    """Trainer `key`'s declared hyperparameters, in order (trainers.hyperparameters.declarations)."""
    return declarations(hyperparameter_model(key))


def check_hyperparameters(key: str, hyperparameters: dict[str, Any],
                          dataset: DatasetSpec | None = None) -> WeightsNeed | None:
    """Raises TrainerError when trainer `key` would refuse these hyperparameters (or, given
    the dataset, would refuse them on it); else the registered weights they name (which
    the platform checks exist), or None."""
    parsed = hyperparameter_model(key).parse(dict(hyperparameters))
    if dataset is not None and key in _DATASET_CHECKS:
        _DATASET_CHECKS[key](parsed, dataset)
    return _WEIGHTS_NEEDED[key](parsed)


def resolve_hyperparameters(key: str, hyperparameters: dict[str, Any]) -> dict[str, Any]:
    """The values trainer `key` will train with: its `auto` defaults (nulls that its rules fill
    from other parameters, such as a learning rate that depends on pretrained weights)
    replaced by what they resolve to (Hyperparameters.resolve)."""
    return hyperparameter_model(key).resolve(dict(hyperparameters))


def _import_package(package: str) -> None:
    try:
        importlib.import_module(package)
    except ModuleNotFoundError as error:
        if error.name != package:  # the package exists but is broken: that is a bug to surface
            raise


def _ensure_registered() -> None:
    for package in TRAINER_PACKAGES:
        _import_package(package)


def trainer_keys() -> list[str]:
    """Keys of every trainer whose package is importable."""
    _ensure_registered()
    return sorted(_TRAINERS)


def build_trainer(key: str, hyperparameters: dict[str, Any], dataset: DatasetSpec, work_dir: Path,
                  weights_resolver: WeightsResolver | None = None, device: str | None = None,
                  precision: str = "auto") -> Trainer:
    if key not in _TRAINERS:
        _ensure_registered()
    if key not in _TRAINERS:
        raise TrainerError("unknown_trainer", f"no trainer registered as {key!r}; known: {sorted(_TRAINERS)}")
    return _TRAINERS[key](dict(hyperparameters), dataset, Path(work_dir), weights_resolver, device, precision)


def _artifact_trainer(artifact_dir: Path, loaders: dict[str, Callable], what: str) -> Callable:
    config_path = artifact_dir / "config.json"
    if not config_path.exists():
        raise TrainerError("artifact_incomplete", f"{config_path} is missing")
    key = json.loads(config_path.read_text()).get("trainer")
    if key not in loaders:
        _ensure_registered()
    if key not in loaders:
        raise TrainerError("unknown_trainer", f"no {what} registered for trainer {key!r}")
    return loaders[key]


def load_predictor(artifact_dir: str | Path, precision: str = "auto") -> Predictor:
    """The artifact's predictor, computing in `precision` (auto|fp32|bf16|fp16)."""
    artifact_dir = Path(artifact_dir)
    return _artifact_trainer(artifact_dir, _PREDICTORS, "predictor")(artifact_dir, precision=precision)


def load_exportable(artifact_dir: str | Path):
    """The artifact's Exportable (trainers.export.exportable): graph, pre- and post-processing."""
    artifact_dir = Path(artifact_dir)
    return _artifact_trainer(artifact_dir, _EXPORTABLES, "exporter")(artifact_dir)
