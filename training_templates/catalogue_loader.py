"""The template catalogue: one JSON file per template in training_templates/catalogue/.

A file holds what is the template's own: id, name, task, trainer key, description, and
narrowings of the trainer's declared hyperparameters (training_templates.narrowing):
`"hyperparameters": [{"name": "backbone", "choices": [...]}]`, and `not_offered`, the
trainer's parameters it does not offer (they keep the trainer's default).

Every file is validated before anything is written; then all templates are loaded
in one transaction. Loading is idempotent: a row is saved only when a value differs.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pydantic
from django.db import transaction

from training_templates.hyperparameter_specs import HyperparameterSpec, pydantic_message, resolve_hyperparameters
from training_templates.models import Hyperparameter, Template
from training_templates.narrowing import offer
from training_templates.services import model_fields
from trainers.core import REQUESTABLE_PRECISIONS as PRECISIONS
from trainers.core import TrainerError
from trainers.families import check_hyperparameters

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"

Task = Literal["classification", "instance_segmentation", "semantic_segmentation"]


class Narrowing(pydantic.BaseModel):
    """One parameter as the template offers it; the fields left out are the trainer's."""

    model_config = pydantic.ConfigDict(extra="forbid")

    name: str
    default: Any = None
    min: Any = None
    max: Any = None
    step: Any = None
    choices: Any = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(include=self.model_fields_set)


class CatalogueTemplate(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    id: str = pydantic.Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    name: str = pydantic.Field(min_length=1, max_length=200)
    task: Task
    dataset_tasks: list[Task] | None = None  # null/absent: just `task`
    trainer: str = pydantic.Field(min_length=1, max_length=100)
    # Precisions a job may request; null/absent: all of auto, fp32, bf16, fp16.
    precisions: list[Literal[PRECISIONS]] | None = None
    description: str = ""
    hyperparameters: list[Narrowing] = []
    not_offered: list[str] = []
    _specs: list[HyperparameterSpec] = pydantic.PrivateAttr(default_factory=list)

    @property
    def specs(self) -> list[HyperparameterSpec]:
        """The hyperparameters the template offers: its trainer's declarations, narrowed."""
        return self._specs


class CatalogueError(Exception):
    """A catalogue file is malformed or inconsistent; the message names file and parameter."""


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def read_catalogue(directory: Path = CATALOGUE_DIR) -> list[CatalogueTemplate]:
    """Parse and check every *.json file; raise CatalogueError listing every problem."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CatalogueError(f"catalogue directory {directory} does not exist")
    entries, problems = [], []
    for path in sorted(directory.glob("*.json")):
        entry, file_problems = _read_file(path)
        problems += [f"{path.name}: {p}" for p in file_problems]
        if entry is not None:
            entries.append(entry)
    if problems:
        raise CatalogueError("catalogue not loaded, nothing changed:\n  " + "\n  ".join(problems))
    return entries


def _read_file(path: Path) -> tuple[CatalogueTemplate | None, list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, [f"not valid JSON: {exc}"]
    try:
        entry = CatalogueTemplate.model_validate(data)
    except pydantic.ValidationError as exc:
        return None, [_locate(err, data) for err in exc.errors()]
    problems = []
    if entry.id != path.stem:
        problems.append(f"id {entry.id!r} must match the file name ({path.stem}.json)")
    if entry.precisions is not None and "auto" not in entry.precisions:
        problems.append(f"precisions {entry.precisions} must include 'auto'")
    tasks = entry.dataset_tasks or [entry.task]
    if entry.task not in tasks:
        problems.append(f"dataset_tasks {tasks} must include the task {entry.task!r}")
    if problems:
        return entry, problems
    try:
        entry._specs, by_name = offer(entry.trainer, [n.changes() for n in entry.hyperparameters], entry.not_offered)
    except TrainerError as exc:
        return entry, [f"trainer: {exc.message}"]
    problems += [f"hyperparameter {name}: {message}" for name, messages in by_name.items() for message in messages]
    if not problems:
        try:  # each value is within the trainer's declaration; its rules across fields are checked here
            check_hyperparameters(entry.trainer, resolve_hyperparameters(entry.specs, {}))
        except TrainerError as exc:
            problems.append(f"trainer {entry.trainer} refuses the defaults: {exc.message}")
    return entry, problems


def _locate(err: dict, data) -> str:
    """Name the hyperparameter (not just its index) in a shape error."""
    loc = list(err["loc"])
    if len(loc) >= 2 and loc[0] == "hyperparameters" and isinstance(loc[1], int):
        try:
            name = data["hyperparameters"][loc[1]].get("name", f"#{loc[1]}")
        except (AttributeError, IndexError, KeyError, TypeError):
            name = f"#{loc[1]}"
        return f"hyperparameter {name}: " + pydantic_message({**err, "loc": loc[2:]})
    return pydantic_message(err)


@transaction.atomic
def load_catalogue(directory: Path = CATALOGUE_DIR) -> LoadReport:
    """Validate the whole catalogue, then create/update its templates.

    `is_active` is set only when a template is created: an admin's deactivation
    survives reloads. Templates absent from the catalogue (e.g. admin clones) are
    left alone. Hyperparameters are matched by name; ones the file no longer
    declares are deleted; `position` follows the file order.
    """
    report = LoadReport()
    for entry in read_catalogue(directory):
        changed = False
        template = Template.objects.filter(pk=entry.id).first()
        values = {
            "name": entry.name,
            "task": entry.task,
            "dataset_tasks": list(entry.dataset_tasks or [entry.task]),
            "trainer": entry.trainer,
            "precisions": list(entry.precisions or PRECISIONS),
            "description": entry.description,
        }
        if template is None:
            template = Template.objects.create(id=entry.id, is_active=True, **values)
            report.created.append(entry.id)
        else:
            changed = _assign(template, values)
        changed |= _sync_hyperparameters(template, entry.specs)
        if template.pk not in report.created:
            (report.updated if changed else report.unchanged).append(entry.id)
    return report


def _assign(obj, values: dict) -> bool:
    """Set changed attributes and save only if something differs (keeps updated_at)."""
    dirty = [k for k, v in values.items() if getattr(obj, k) != v]
    for k in dirty:
        setattr(obj, k, values[k])
    if dirty:
        obj.save()
    return bool(dirty)


def _sync_hyperparameters(template: Template, specs: list[HyperparameterSpec]) -> bool:
    existing = {hp.name: hp for hp in template.hyperparameters.all()}
    declared = {s.name for s in specs}
    stale = [hp.pk for name, hp in existing.items() if name not in declared]
    changed = bool(stale)
    Hyperparameter.objects.filter(pk__in=stale).delete()
    for position, spec in enumerate(specs):
        values = model_fields(spec) | {"position": position}
        row = existing.get(spec.name)
        if row is None:
            Hyperparameter.objects.create(template=template, name=spec.name, **values)
            changed = True
        else:
            changed |= _assign(row, values)
    if changed:
        template.save(update_fields=["updated_at"])
    return changed
