"""A template offers its trainer's hyperparameters as declared, or narrower.

The trainer's declaration (trainers.hyperparameters) is the one source of every parameter's
type, bounds, step, choices and description. A template (a catalogue file, a staff edit in
the admin or the API) may only narrow it: another default, bounds inside the trainer's, a
grid on the trainer's grid, a subset of its choices. A wider offer is refused by
construction, so the API never accepts a value the worker would then refuse.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable

from training_templates.hyperparameter_specs import (
    HyperparameterSpec,
    Problem,
    allowed_range,
    as_spec,
    check_value,
    declaration_problems,
    show,
)
from trainers.families import hyperparameter_declarations

# What a catalogue file may set for a parameter; staff edits may also reword it.
NARROWABLE_FIELDS = ("default", "min", "max", "step", "choices")
EDITABLE_FIELDS = (*NARROWABLE_FIELDS, "log_scale", "description")


def trainer_declarations(trainer_key: str) -> dict[str, HyperparameterSpec]:
    """Trainer `trainer_key`'s declared hyperparameters by name, in declaration order."""
    return {spec["name"]: as_spec(spec) for spec in hyperparameter_declarations(trainer_key)}


def offer(trainer_key: str, narrowings: Iterable[dict[str, Any]], not_offered: Iterable[str] = ()
          ) -> tuple[list[HyperparameterSpec], dict[str, list[str]]]:
    """(the template's specs, problems by parameter name): the trainer's declarations in
    their order, less `not_offered` (they keep the trainer's default), each with its
    narrowing {"name", <field>: value} applied."""
    declared = trainer_declarations(trainer_key)
    problems: dict[str, list[str]] = {}
    by_name: dict[str, dict] = {}
    for narrowing in narrowings:
        name = narrowing["name"]
        if name in by_name:
            problems[name] = ["declared more than once"]
        elif name not in declared:
            problems[name] = [_unknown(trainer_key, declared)]
        by_name[name] = narrowing
    for name in not_offered:
        if name not in declared:
            problems[name] = [_unknown(trainer_key, declared)]
    specs = []
    for name, spec in declared.items():
        if name in not_offered:
            continue
        changes = {field: value for field, value in by_name.get(name, {}).items() if field != "name"}
        offered, spec_problems = narrowed(trainer_key, spec, changes)
        if spec_problems:
            problems.setdefault(name, []).extend(spec_problems)
        else:
            specs.append(offered)
    return specs, problems


def narrowed(trainer_key: str, declared: HyperparameterSpec, changes: dict[str, Any]
             ) -> tuple[HyperparameterSpec | None, list[str]]:
    """`declared` with `changes` applied, or the reasons it is inconsistent or wider."""
    data = declared.public_dict() | changes
    problems = declaration_problems(data)
    if problems:
        return None, problems
    offered = HyperparameterSpec.model_validate(data)
    problems = widening_problems(trainer_key, declared, offered)
    return (None, problems) if problems else (offered, [])


def narrowing_problems(trainer_key: str, specs: Iterable[dict | HyperparameterSpec]) -> dict[str, list[str]]:
    """Name -> why each spec is not its trainer's parameter or offers more than it declares."""
    return {name: [problem.message for problem in found]
            for name, found in located_narrowing_problems(trainer_key, specs).items()}


def located_narrowing_problems(trainer_key: str, specs: Iterable[dict | HyperparameterSpec]
                               ) -> dict[str, list[Problem]]:
    """`narrowing_problems`, each with the field it is about."""
    declared = trainer_declarations(trainer_key)
    problems: dict[str, list[Problem]] = {}
    for spec in (as_spec(s) for s in specs):
        if spec.name not in declared:
            problems[spec.name] = [Problem("name", _unknown(trainer_key, declared))]
            continue
        found = located_widening_problems(trainer_key, declared[spec.name], spec)
        if found:
            problems[spec.name] = found
    return problems


def widening_problems(trainer_key: str, declared: HyperparameterSpec, offered: HyperparameterSpec) -> list[str]:
    """What `offered` allows that the trainer's `declared` parameter does not."""
    return [problem.message for problem in located_widening_problems(trainer_key, declared, offered)]


def located_widening_problems(trainer_key: str, declared: HyperparameterSpec, offered: HyperparameterSpec
                              ) -> list[Problem]:
    """`widening_problems`, each with the field that offers too much."""
    if offered.type != declared.type:
        return [Problem("type", f"is declared {declared.type} by trainer {trainer_key}, not {offered.type}")]
    refusal = f"which trainer {trainer_key} refuses: {{}}"
    problems = []
    if declared.min is not None and offered.min is None:
        problems.append(Problem("min", "offers no minimum, " + refusal.format(f"must be {allowed_range(declared)}")))
    if declared.max is not None and offered.max is None:
        problems.append(Problem("max", "offers no maximum, " + refusal.format(f"must be {allowed_range(declared)}")))
    if declared.step is not None and offered.step is None:
        problems.append(Problem("step", "offers values off its step grid, "
                                + refusal.format(f"must be {allowed_range(declared)}")))
    for field, value in _edges(offered):
        _, problem = check_value(declared, value)
        if problem:
            shown = show(value) if value is None else repr(value)
            problems.append(Problem(field, f"offers {shown}, " + refusal.format(problem)))
    return problems


def _edges(spec: HyperparameterSpec) -> list[tuple[str, Any]]:
    """(field, value) of the values whose acceptance proves the whole offer acceptable: the
    default, every choice, the bounds, and the first two points of the grid (its origin and step)."""
    values = [("default", spec.default), *(("choices", choice) for choice in spec.choices or [])]
    if spec.type in ("int", "float"):
        cast = int if spec.type == "int" else float
        values += [(field, cast(bound)) for field, bound in (("min", spec.min), ("max", spec.max)) if bound is not None]
        if spec.step is not None:
            origin = spec.min if spec.min is not None else 0
            second = Decimal(repr(float(origin))) + Decimal(repr(float(spec.step)))  # 0.1 + 0.2 is 0.3 here
            values += [("min" if spec.min is not None else "step", cast(origin)), ("step", cast(second))]
    unique: list[tuple[str, Any]] = []
    for field, value in values:
        if not any(type(value) is type(seen) and value == seen for _, seen in unique):
            unique.append((field, value))
    return unique


def _unknown(trainer_key: str, declared: dict) -> str:
    return f"unknown hyperparameter; trainer {trainer_key} declares: {', '.join(declared)}"
