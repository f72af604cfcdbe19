"""A study's search space, compiled from the template's declarations, so that Optuna can
only propose values the template accepts.

Each searched parameter is a narrowing of the template's spec ({"min", "max", "step", "log",
"choices"}, each optional), refused when it is wider, as a catalogue file's narrowing is. It
becomes one Optuna distribution: an int with its step (`IntDistribution(step=)`), a float
with its step or on a log scale (`FloatDistribution(step=)` / `log=True`), choices and
booleans categorical. A float sampled on a step grid is snapped to the grid's exact decimal
(Optuna's 0.1 + 2 * 0.1 is 0.30000000000000004, which the grid check refuses).
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from training_templates.hyperparameter_specs import HyperparameterSpec, check_value, declaration_problems

SEARCH_KEYS = ("min", "max", "step", "log", "choices")
# `"search_space": "all"` leaves these out: a seed found by search is luck, not a setting;
# sync_batchnorm changes nothing on the one device a trial trains on.
NOT_SEARCHED_BY_ALL = ("seed", "sync_batchnorm")
MAX_GRID_POINTS = 100_000


def searchable(spec: HyperparameterSpec) -> bool:
    """Whether the spec, as declared, names a finite set or a bounded range to search."""
    if spec.type in ("bool", "enum"):
        return True
    return spec.type in ("int", "float") and spec.min is not None and spec.max is not None and spec.min < spec.max


def compile_space(specs: list[HyperparameterSpec], search_space: dict[str, Any] | str, fixed: dict[str, Any],
                  sampler: str) -> tuple[dict[str, BaseDistribution], dict[str, list[str]]]:
    """(name -> distribution, problems by name). `search_space` is a dict of narrowings by
    parameter name, or "all": every searchable parameter not fixed, within its bounds."""
    by_name = {spec.name: spec for spec in specs}
    if search_space == "all":
        search_space = {name: {} for name, spec in by_name.items()
                        if searchable(spec) and name not in fixed and name not in NOT_SEARCHED_BY_ALL}
        if not search_space:
            return {}, {"search_space": ["the template has no parameter left to search"]}
    if not isinstance(search_space, dict) or not search_space:
        return {}, {"search_space": ['give "all", or an object of parameter name: narrowing ({} for its whole range)']}
    space, problems = {}, {}
    for name, narrowing in search_space.items():
        spec = by_name.get(name)
        if spec is None:
            problems[name] = [f"unknown hyperparameter; the template offers: {', '.join(by_name)}"]
            continue
        if name in fixed:
            problems[name] = ["is both fixed and searched; give it in one of them"]
            continue
        distribution, found = _distribution(spec, narrowing, sampler)
        if found:
            problems[name] = found
        else:
            space[name] = distribution
    if not problems and sampler == "grid":
        points = math.prod(len(grid_values(d)) for d in space.values())
        if points > MAX_GRID_POINTS:
            problems["search_space"] = [f"the grid has {points} points, more than {MAX_GRID_POINTS}; narrow it"]
    return space, problems


def _distribution(spec: HyperparameterSpec, narrowing: Any, sampler: str) -> tuple[BaseDistribution | None, list[str]]:
    if not isinstance(narrowing, dict):
        return None, ['must be an object with any of "min", "max", "step", "log", "choices" ({} for the whole range)']
    unknown = sorted(set(narrowing) - set(SEARCH_KEYS))
    if unknown:
        return None, [f"unknown key {', '.join(map(repr, unknown))}; a narrowing takes {', '.join(SEARCH_KEYS)}"]
    if spec.type == "string":
        return None, ["a free-text parameter cannot be searched; fix it instead"]
    log = narrowing.get("log", spec.log_scale)
    if not isinstance(log, bool):
        return None, ["log must be true or false"]
    data = spec.public_dict() | {k: v for k, v in narrowing.items() if k != "log"} | {"log_scale": log}
    # A study has no default: give the narrowing one it holds, so only its own fields are judged.
    if isinstance(data.get("choices"), list) and data["choices"]:
        data["default"] = data["choices"][0]
    elif spec.type in ("int", "float") and data.get("min") is not None:
        data["default"] = data["min"]
    problems = declaration_problems(data)
    if problems:
        return None, problems
    offered = HyperparameterSpec.model_validate(data)
    problems = _wider_than(spec, offered)
    if problems:
        return None, problems
    if offered.choices is not None or spec.type == "bool":
        return CategoricalDistribution(offered.choices if offered.choices is not None else [False, True]), []
    if offered.min is None or offered.max is None:
        missing = " and ".join(k for k in ("min", "max") if getattr(offered, k) is None)
        return None, [f"give {missing}: the template sets no {missing} for it, and a search needs a bounded range"]
    if offered.min >= offered.max:
        return None, [f"min {offered.min:g} must be below max {offered.max:g} to search anything; fix it instead"]
    if log and offered.min <= 0:
        return None, ["a log scale needs min above 0"]
    if spec.type == "int":
        step = int(offered.step or 1)
        if log and step != 1:
            return None, ["a log scale and a step other than 1 do not combine (Optuna samples one or the other)"]
        return IntDistribution(int(offered.min), int(offered.max), log=log, step=step), []
    if log and offered.step is not None:
        return None, ["a log scale and a step do not combine (Optuna samples one or the other)"]
    if sampler == "grid" and offered.step is None:
        return None, ["the grid sampler needs a step for a continuous range"]
    return FloatDistribution(offered.min, offered.max, log=log, step=offered.step), []


def _wider_than(spec: HyperparameterSpec, offered: HyperparameterSpec) -> list[str]:
    """What the narrowing offers that the template refuses: checked on its bounds, choices and
    the first two points of its grid (which fix every other point)."""
    edges = [("min", offered.min), ("max", offered.max), *(("choices", c) for c in offered.choices or [])]
    if offered.step is not None and offered.min is not None:
        edges.append(("step", float(Decimal(repr(float(offered.min))) + Decimal(repr(float(offered.step))))))
    problems = []
    for field, value in edges:
        if value is None:
            continue
        if spec.type == "int" and isinstance(value, float) and value.is_integer():
            value = int(value)
        _, problem = check_value(spec, value)
        if problem:
            problems.append(f"{field} offers {value!r}, which the template refuses: it {problem}")
    return problems


def grid_values(distribution: BaseDistribution) -> list[Any]:
    """Every value of a finite distribution, for Optuna's GridSampler."""
    if isinstance(distribution, CategoricalDistribution):
        return list(distribution.choices)
    if isinstance(distribution, IntDistribution):
        return list(range(distribution.low, distribution.high + 1, distribution.step))
    low, step = Decimal(repr(distribution.low)), Decimal(repr(distribution.step))
    count = int((Decimal(repr(distribution.high)) - low) / step) + 1
    return [float(low + k * step) for k in range(count)]


def on_declared_grid(name: str, value: Any, distribution: BaseDistribution) -> Any:
    """A sampled value as the template writes it: floats of a step grid snapped to its exact
    decimal point."""
    if isinstance(distribution, FloatDistribution) and distribution.step is not None:
        low, step = Decimal(repr(distribution.low)), Decimal(repr(distribution.step))
        k = round((Decimal(repr(float(value))) - low) / step)
        return float(low + k * step)
    return value
