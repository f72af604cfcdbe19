"""The hyperparameter language: one declaration per parameter drives API validation,
the JSON Schema shown to clients and the admin, and the worker's re-validation.

Pure Python + pydantic (no ORM): the worker re-validates a job's stored snapshot,
which is a list of plain dicts in the shape of `HyperparameterSpec.public_dict()`.

The declarations come from the trainers (trainers.hyperparameters), possibly narrowed by
a template (training_templates.narrowing). Numbers on a step grid (min + k*step, origin 0
when min is null) are compared as `trainers.hyperparameters.on_grid` does, so 0.3 is on a
0.1 grid.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any, Iterable, Literal, NamedTuple

import pydantic

from trainers.hyperparameters import MAX_STRING_LENGTH
from trainers.hyperparameters import on_grid as _on_grid

TYPES = ("int", "float", "bool", "enum", "string")
NUMERIC_TYPES = ("int", "float")
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_JSON_TYPE = {"int": "integer", "float": "number", "bool": "boolean", "string": "string"}


def _finite_number_or_none(value: Any) -> Any:
    """Bounds and steps are JSON numbers: refuse bools, strings, NaN and infinities
    that pydantic's lax float would coerce (True -> 1.0, "3" -> 3.0)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number or null, got {show(value)}")
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {show(value)}")
    return float(value)


class HyperparameterSpec(pydantic.BaseModel):
    """One declared hyperparameter. Shape only; `spec_problems` checks consistency."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    name: str
    type: Literal["int", "float", "bool", "enum", "string"]
    default: Any = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: list[Any] | None = None
    log_scale: pydantic.StrictBool = False
    description: str = ""

    _numbers = pydantic.field_validator("min", "max", "step", mode="before")(
        lambda cls, v: _finite_number_or_none(v)
    )

    def public_dict(self) -> dict[str, Any]:
        """The API / snapshot form: ints shown as ints for int parameters."""
        as_int = self.type == "int"

        def number(x):
            if x is None:
                return None
            return int(x) if as_int and float(x).is_integer() else x

        default = self.default
        if as_int and isinstance(default, float) and default.is_integer():
            default = int(default)
        return {
            "name": self.name,
            "type": self.type,
            "default": default,
            "min": number(self.min),
            "max": number(self.max),
            "step": number(self.step),
            "choices": list(self.choices) if self.choices is not None else None,
            "log_scale": self.log_scale,
            "description": self.description,
        }


class HyperparameterErrors(Exception):
    """Field name -> list of messages; every problem found, not just the first."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


# ---------------------------------------------------------------------- formatting

def show(value: Any) -> str:
    """A value as the client wrote it (JSON), so "3" and 3 read differently."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _num(x: float | int, spec_type: str) -> str:
    if spec_type == "int" and float(x).is_integer():
        return str(int(x))
    return repr(float(x)) if isinstance(x, float) else str(x)


def allowed_range(spec: HyperparameterSpec) -> str:
    """e.g. 'a multiple of 1 from 1 to 128', 'from 0.0 to 1.0', 'at least 0.0'."""
    t, lo, hi, step = spec.type, spec.min, spec.max, spec.step
    if step is None:
        if lo is not None and hi is not None:
            return f"from {_num(lo, t)} to {_num(hi, t)}"
        if lo is not None:
            return f"at least {_num(lo, t)}"
        return f"at most {_num(hi, t)}"
    if lo is not None and not _on_grid(lo, None, step):
        head = f"{_num(lo, t)} plus a multiple of {_num(step, t)}"
        return head + (f", up to {_num(hi, t)}" if hi is not None else "")
    head = f"a multiple of {_num(step, t)}"
    if lo is not None and hi is not None:
        return f"{head} from {_num(lo, t)} to {_num(hi, t)}"
    if lo is not None:
        return f"{head} from {_num(lo, t)} upward"
    if hi is not None:
        return f"{head} up to {_num(hi, t)}"
    return head


# ---------------------------------------------------------------------- values

def check_value(spec: HyperparameterSpec, value: Any) -> tuple[Any, str | None]:
    """(normalised value, None) when `value` is allowed, else (None, message)."""
    if value is None:
        if spec.default is None:
            return None, None
        return None, f"{_type_phrase(spec)}, got null (omit it to use the default {show(spec.default)})"
    t = spec.type
    if t == "bool":
        return (value, None) if isinstance(value, bool) else (None, f"must be true or false, got {show(value)}")
    if t == "string":
        if not isinstance(value, str):
            return None, f"must be a string, got {show(value)}"
        if len(value) > MAX_STRING_LENGTH:
            return None, f"must be at most {MAX_STRING_LENGTH} characters, got {len(value)}"
        return value, None
    if t == "enum":
        if any(_kind(c) == _kind(value) and c == value for c in spec.choices or []):
            return value, None
        return None, f"must be one of {', '.join(show(c) for c in spec.choices or [])}; got {show(value)}"
    # int / float
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, f"{_type_phrase(spec)}, got {show(value)}"
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond any float (10**400)
        finite = False
    if not finite:
        return None, f"must be a finite number, got {str(value)[:20]}..." if isinstance(value, int) \
            else f"must be a finite number, got {show(value)}"
    sent = show(value)  # as the client wrote it (1e+308, not its 309 digits as an int)
    if t == "int":
        if isinstance(value, float) and not value.is_integer():
            return None, f"must be an integer, got {sent}"
        value = int(value)
    else:
        value = float(value)
    out_of_bounds = (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max)
    off_grid = not out_of_bounds and spec.step is not None and spec.step > 0 and not _on_grid(value, spec.min, spec.step)
    if out_of_bounds or off_grid:
        return None, f"must be {allowed_range(spec)}, got {sent}"
    return value, None


def _kind(value: Any) -> str:
    """JSON kind of a value, so 1, 1.0 and true are different choices (bool is an int
    in Python; str subclasses such as Django's JSONString are still strings)."""
    for kind, types in (("bool", bool), ("int", int), ("float", float), ("str", str)):
        if isinstance(value, types):
            return kind
    return type(value).__name__


def _type_phrase(spec: HyperparameterSpec) -> str:
    return {
        "int": "must be an integer",
        "float": "must be a number",
        "bool": "must be true or false",
        "string": "must be a string",
        "enum": "must be one of " + ", ".join(show(c) for c in spec.choices or []),
    }[spec.type]


def as_spec(spec: dict | HyperparameterSpec) -> HyperparameterSpec:
    return spec if isinstance(spec, HyperparameterSpec) else HyperparameterSpec.model_validate(spec)


def resolve_hyperparameters(specs: Iterable[dict | HyperparameterSpec], values: dict | None) -> dict:
    """Validate client values against the declarations; defaults filled, in declaration
    order. Raises HyperparameterErrors with every problem (field -> messages)."""
    specs = [as_spec(s) for s in specs]
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise HyperparameterErrors({"non_field_errors": [f"must be an object of name: value, got {show(values)}"]})
    by_name = {s.name: s for s in specs}
    errors: dict[str, list[str]] = {}
    for name in values:
        if name not in by_name:
            allowed = ", ".join(by_name) or "none"
            errors[str(name)] = [f"unknown hyperparameter; allowed: {allowed}"]
    resolved: dict[str, Any] = {}
    for spec in specs:
        if spec.name not in values:
            resolved[spec.name] = spec.public_dict()["default"]
            continue
        value, problem = check_value(spec, values[spec.name])
        if problem:
            errors[spec.name] = [problem]
        else:
            resolved[spec.name] = value
    if errors:
        raise HyperparameterErrors(errors)
    return resolved


# ---------------------------------------------------------------------- declarations

class Problem(NamedTuple):
    """What is wrong with a declaration, and the field it is about (None: the whole of it),
    so a form can show the message beside that field."""

    field: str | None
    message: str


def spec_problems(spec: HyperparameterSpec) -> list[str]:
    """Everything inconsistent in one declaration, as messages that name the field."""
    return [problem.message for problem in located_spec_problems(spec)]


def located_spec_problems(spec: HyperparameterSpec) -> list[Problem]:
    """`spec_problems`, each with the field it is about."""
    problems: list[Problem] = []
    t, lo, hi, step = spec.type, spec.min, spec.max, spec.step
    if not NAME_PATTERN.match(spec.name):
        problems.append(Problem("name", f"name {show(spec.name)} must be letters, digits and underscores, "
                                        "not starting with a digit"))
    if t in NUMERIC_TYPES:
        if lo is not None and hi is not None and lo > hi:
            problems.append(Problem("min", f"min {_num(lo, t)} is greater than max {_num(hi, t)}"))
        if step is not None and step <= 0:
            problems.append(Problem("step", f"step must be greater than 0, got {_num(step, t)}"))
        if t == "int":
            for field, x in (("min", lo), ("max", hi), ("step", step)):
                if x is not None and not float(x).is_integer():
                    problems.append(Problem(field, f"{field} must be a whole number for an int parameter, got {x!r}"))
        if spec.choices is not None:
            problems.append(Problem("choices", f"choices are only for enum parameters, not {t}"))
    else:
        for field, x in (("min", lo), ("max", hi), ("step", step)):
            if x is not None:
                problems.append(Problem(field, f"{field} is only for int and float parameters, not {t}"))
        if spec.log_scale:
            problems.append(Problem("log_scale", f"log_scale is only for int and float parameters, not {t}"))
        if t != "enum" and spec.choices is not None:
            problems.append(Problem("choices", f"choices are only for enum parameters, not {t}"))
    if t == "enum":
        choices = spec.choices or []
        if not choices:
            problems.append(Problem("choices", "an enum parameter needs a non-empty list of choices"))
        for c in choices:
            if not isinstance(c, (str, int, float, bool)):
                problems.append(Problem("choices", f"choice {show(c)} must be a string, number or boolean"))
        if len({(_kind(c), show(c)) for c in choices}) != len(choices):
            problems.append(Problem("choices", "choices contain duplicates"))
    if problems:
        return problems  # the default can only be judged against a consistent declaration
    if spec.default is not None:
        _, problem = check_value(spec, spec.default)
        if problem:
            problems.append(Problem("default", f"default {problem}"))
    return problems


def declaration_problems(data: dict | HyperparameterSpec) -> list[str]:
    """Shape (pydantic) and consistency problems of one declaration given as a dict."""
    return [problem.message for problem in located_declaration_problems(data)]


def located_declaration_problems(data: dict | HyperparameterSpec) -> list[Problem]:
    """`declaration_problems`, each with the field it is about."""
    if isinstance(data, HyperparameterSpec):
        return located_spec_problems(data)
    try:
        spec = HyperparameterSpec.model_validate(data)
    except pydantic.ValidationError as exc:
        fields = HyperparameterSpec.model_fields
        return [Problem(err["loc"][0] if err["loc"] and err["loc"][0] in fields else None, pydantic_message(err))
                for err in exc.errors()]
    return located_spec_problems(spec)


def pydantic_message(err: dict) -> str:
    where = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def duplicate_names(specs: Iterable[HyperparameterSpec]) -> list[str]:
    seen, dupes = set(), []
    for s in specs:
        if s.name in seen and s.name not in dupes:
            dupes.append(s.name)
        seen.add(s.name)
    return dupes


# ---------------------------------------------------------------------- JSON Schema

def json_schema(specs: Iterable[dict | HyperparameterSpec]) -> dict:
    """A JSON Schema (draft 2020-12) of the hyperparameters object a client sends.

    `multipleOf` is only emitted when the grid is anchored at a multiple of the step
    (JSON Schema counts multiples from 0); `x-step` and `x-step-origin` always describe
    the real grid min + k*step.
    """
    properties: dict[str, dict] = {}
    for spec in (as_spec(s) for s in specs):
        pub = spec.public_dict()
        prop: dict[str, Any] = {"title": spec.name}
        nullable = pub["default"] is None
        if spec.type == "enum":
            prop["enum"] = list(pub["choices"] or []) + ([None] if nullable else [])
        else:
            json_type = _JSON_TYPE[spec.type]
            prop["type"] = [json_type, "null"] if nullable else json_type
        prop["default"] = pub["default"]
        if pub["min"] is not None:
            prop["minimum"] = pub["min"]
        if pub["max"] is not None:
            prop["maximum"] = pub["max"]
        if pub["step"] is not None:
            origin = pub["min"] if pub["min"] is not None else 0
            prop["x-step"] = pub["step"]
            prop["x-step-origin"] = origin
            if spec.step > 0 and _on_grid(origin, None, spec.step):
                prop["multipleOf"] = pub["step"]
        if spec.log_scale:
            prop["x-log-scale"] = True
        if spec.description:
            prop["description"] = spec.description
        properties[spec.name] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
