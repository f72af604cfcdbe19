"""Trainer families by key (the template's `trainer` field, and an artifact's config.json).

A family package registers each of its trainers once, on import, with one record,
`register_family(TrainerFamily(...))`, as timm's `register_model` does for models. Every
family trains through the one `RecipeTrainer` and serves through the one `TorchPredictor`.
This module imports the known packages lazily, so callers never import trainer modules by
hand; a package that does not exist yet is skipped.
"""
from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from trainers.core import DatasetSpec, Predictor, Trainer, TrainerError, WeightsResolver, check_dataset
from trainers.hyperparameters import Hyperparameters, RunSize, WeightsNeed, declarations

# The packages whose import registers trainer families; the keys come from the records.
TRAINER_PACKAGES = ("trainers.fai_cls", "trainers.fai_mf", "trainers.clarifai_templates")

# (params, dataset, work_dir, weights_resolver, device, precision, **options) -> Recipe
RecipeFactory = Callable[..., Any]


def no_weights_needed(params) -> None:
    return None


@dataclass(frozen=True)
class TrainerFamily:
    """Everything the platform and the engine need to know of one trainer."""

    key: str
    name: str  # how messages name it: "fai-cls"
    hyperparameters: type[Hyperparameters]  # the one declaration (trainers.hyperparameters)
    tasks: tuple[str, ...]  # the dataset tasks it trains on
    # The parsed values and the dataset -> the Recipe the engine runs. It resolves the
    # registered weights it needs through the resolver, failing before training without them.
    recipe: RecipeFactory
    # artifact_dir -> Exportable (trainers.export.exportable): graph, pre- and post-processing.
    exportable: Callable[[Path], Any]
    # The registered weights the parsed values name, checked at submission; None when none.
    weights_needed: Callable[[Any], WeightsNeed | None] = no_weights_needed
    # Architectures registered pretrained weights are looked up for.
    weight_architectures: tuple[str, ...] = ()
    # (parsed, dataset) raises TrainerError when the values cannot train on the dataset (its
    # manifest and annotation files; images need not be present); checked at submission.
    dataset_check: Callable[[Any, DatasetSpec], None] | None = None
    # Why its ONNX graph is not served in INT8 (runtime onnxruntime-int8), or None when it is
    # (behind the accuracy gate: every family today; fai-mf's toy model kept its segm/AP, 94.9
    # in fp32 and 95.9 in INT8).
    int8_refusal: str | None = None
    predict_probe_batch: int = 8  # images in the forward pass timed for the precision decision
    predict_channels_last: bool = False  # the memory format the graph serves fastest in


_FAMILIES: dict[str, TrainerFamily] = {}


def register_family(family: TrainerFamily) -> TrainerFamily:
    _FAMILIES[family.key] = family
    return family


def family(key: str) -> TrainerFamily:
    if key not in _FAMILIES:
        _ensure_registered()
    if key not in _FAMILIES:
        raise TrainerError("unknown_trainer", f"no trainer registered as {key!r}; known: {sorted(_FAMILIES)}")
    return _FAMILIES[key]


def weight_architectures() -> list[str]:
    """Every architecture some trainer looks pretrained weights up for."""
    _ensure_registered()
    return sorted({name for registered in _FAMILIES.values() for name in registered.weight_architectures})


def hyperparameter_model(key: str) -> type[Hyperparameters]:
    return family(key).hyperparameters


def hyperparameter_declarations(key: str) -> list[dict[str, Any]]:
    """Trainer `key`'s declared hyperparameters, in order (trainers.hyperparameters.declarations)."""
    return declarations(hyperparameter_model(key))


def check_hyperparameters(key: str, hyperparameters: dict[str, Any],
                          dataset: DatasetSpec | None = None) -> WeightsNeed | None:
    """Raises TrainerError when trainer `key` would refuse these hyperparameters (or, given
    the dataset, would refuse them on it); else the registered weights they name (which
    the platform checks exist), or None."""
    registered = family(key)
    parsed = registered.hyperparameters.parse(dict(hyperparameters))
    if dataset is not None and registered.dataset_check is not None:
        registered.dataset_check(parsed, dataset)
    return registered.weights_needed(parsed)


def run_size(key: str, hyperparameters: dict[str, Any], train_images: int, devices: int = 1) -> RunSize:
    """The steps and pixels a run of trainer `key` with these values makes on `train_images`
    training images (on `devices` ranks: the steps each takes); TrainerError when the values
    do not parse."""
    return hyperparameter_model(key).parse(dict(hyperparameters)).run_size(train_images, devices)


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
    return sorted(_FAMILIES)


def build_trainer(key: str, hyperparameters: dict[str, Any], dataset: DatasetSpec, work_dir: Path,
                  weights_resolver: WeightsResolver | None = None, device: str | None = None,
                  precision: str = "auto", **recipe_options) -> Trainer:
    """Trainer `key` on `dataset`, refusing values or data it cannot train on before any
    training (TrainerError). `precision`: auto|fp32|bf16|fp16 (trainers.engine.precision);
    `recipe_options` go to the family's recipe factory (tiny test configurations)."""
    from trainers.trainer import RecipeTrainer

    registered = family(key)
    params = registered.hyperparameters.parse(dict(hyperparameters))
    check_dataset(dataset, registered.name, registered.tasks)
    recipe = registered.recipe(params, dataset, Path(work_dir), weights_resolver, device, precision, **recipe_options)
    return RecipeTrainer(recipe, Path(work_dir), dataset,
                         predictor_of=lambda artifact_dir: load_predictor(artifact_dir, device=device))


def family_of(artifact_dir: str | Path) -> TrainerFamily:
    """The family that trained the artifact."""
    return _artifact_family(Path(artifact_dir))


def _artifact_family(artifact_dir: Path) -> TrainerFamily:
    config_path = artifact_dir / "config.json"
    if not config_path.exists():
        raise TrainerError("artifact_incomplete", f"{config_path} is missing")
    return family(json.loads(config_path.read_text()).get("trainer"))


def load_predictor(artifact_dir: str | Path, precision: str = "auto", device: str | None = None) -> Predictor:
    """The artifact's PyTorch predictor, computing in `precision` (auto|fp32|bf16|fp16)."""
    from trainers.predictor import TorchPredictor

    artifact_dir = Path(artifact_dir)
    registered = _artifact_family(artifact_dir)
    return TorchPredictor(registered.exportable(artifact_dir), device, precision,
                          registered.predict_probe_batch, registered.predict_channels_last)


def load_exportable(artifact_dir: str | Path):
    """The artifact's Exportable (trainers.export.exportable): graph, pre- and post-processing."""
    artifact_dir = Path(artifact_dir)
    return _artifact_family(artifact_dir).exportable(artifact_dir)
