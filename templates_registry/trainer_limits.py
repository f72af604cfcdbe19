"""A template may offer only values its trainer accepts.

A trainer checks its hyperparameters again with its own pydantic model: its hard limits,
what its code can run. A template edit that widened a bound past them (batch_size up to
512 where the trainer stops at 256) would let the API accept jobs that then fail in the
worker. This check probes the declared range against the trainer and refuses such an
edit, and a catalogue file that drifted from its trainer.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable

from templates_registry.hyperparams import HyperparameterErrors, HyperparameterSpec, as_spec, resolve_hyperparameters
from trainers.core import TrainerError
from trainers.registry import check_hyperparameters


def values_to_probe(spec: HyperparameterSpec) -> list[Any]:
    """The declared edges: default, min, the first step above min, max, every choice."""
    if spec.type == "bool":
        return [False, True]
    if spec.choices:
        return list(spec.choices)
    values = [spec.default]
    if spec.min is not None:
        values.append(spec.min)
        if spec.step:
            values.append(float(Decimal(str(spec.min)) + Decimal(str(spec.step))))
    if spec.max is not None:
        values.append(spec.max)
    if spec.type == "int":
        values = [int(v) for v in values if v is not None and float(v).is_integer()]
    return values


def trainer_problems(trainer_key: str, declarations: Iterable[dict | HyperparameterSpec]) -> dict[str, list[str]]:
    """Hyperparameter name -> why the trainer would refuse a value the template offers."""
    specs = [as_spec(d) for d in declarations]
    try:
        check_hyperparameters(trainer_key, resolve_hyperparameters(specs, {}))
    except HyperparameterErrors:
        return {}  # the declarations themselves are inconsistent; that is reported on its own
    except TrainerError as exc:
        return {"hyperparameters": [f"trainer {trainer_key} refuses the defaults: {exc.message}"]}
    problems: dict[str, list[str]] = {}
    for spec in specs:
        for value in values_to_probe(spec):
            try:
                resolved = resolve_hyperparameters(specs, {spec.name: value})
            except HyperparameterErrors:
                continue  # off the template's own grid: never offered
            try:
                check_hyperparameters(trainer_key, resolved)
            except TrainerError as exc:
                problems[spec.name] = [f"offers {value!r}, which trainer {trainer_key} refuses: {exc.message}"]
                break
    return problems
