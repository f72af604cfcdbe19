"""Template services: the ORM side of the hyperparameter language.

Views, the admin and the job submission service call these; nothing here touches
Job rows (a job keeps the spec snapshot it was submitted with).
"""
from __future__ import annotations

from typing import Any

from django.db import transaction

from training_templates.hyperparameter_specs import (
    HyperparameterErrors,
    HyperparameterSpec,
    Problem,
    json_schema,
    located_declaration_problems,
    resolve_hyperparameters,
)
from training_templates.models import Hyperparameter, Template
from training_templates.narrowing import EDITABLE_FIELDS, located_narrowing_problems


class TemplateNotActive(Exception):
    """The template was deactivated by an admin and takes no new jobs."""

    def __init__(self, template_id: str):
        super().__init__(f"template {template_id} is not active and takes no new jobs")
        self.template_id = template_id


def spec_from_model(hp: Hyperparameter) -> dict[str, Any]:
    """A stored declaration in the public / snapshot form (ints shown as ints)."""
    return HyperparameterSpec(
        name=hp.name,
        type=hp.type,
        default=hp.default,
        min=hp.minimum,
        max=hp.maximum,
        step=hp.step,
        choices=hp.choices,
        log_scale=hp.log_scale,
        description=hp.description,
    ).public_dict()


def specs_for_template(template: Template) -> list[dict[str, Any]]:
    # .all() then sort in Python so a prefetch_related("hyperparameters") is used.
    rows = sorted(template.hyperparameters.all(), key=lambda hp: (hp.position, hp.pk))
    return [spec_from_model(hp) for hp in rows]


def schema_for_template(template: Template) -> dict:
    return json_schema(specs_for_template(template))


def resolve_for_template(template: Template, values: dict | None) -> tuple[dict, list[dict]]:
    """(resolved hyperparameters, spec snapshot) for a new job on `template`.

    Raises TemplateNotActive, or HyperparameterErrors (field -> messages).
    The snapshot is what the job stores and what the worker re-validates with
    `resolve_hyperparameters(job.hyperparameter_spec, job.hyperparameters)`.
    """
    if not template.is_active:
        raise TemplateNotActive(template.pk)
    snapshot = specs_for_template(template)
    return resolve_hyperparameters(snapshot, values), snapshot


def model_fields(spec: HyperparameterSpec) -> dict[str, Any]:
    """Hyperparameter column values for a declaration (the columns say minimum/maximum)."""
    pub = spec.public_dict()
    return {
        "type": spec.type,
        "default": pub["default"],
        "minimum": spec.min,
        "maximum": spec.max,
        "step": spec.step,
        "choices": pub["choices"],
        "log_scale": spec.log_scale,
        "description": spec.description,
    }


@transaction.atomic
def update_template(template: Template, changes: dict[str, Any]) -> Template:
    """Apply a staff edit: `description`, `is_active`, and `hyperparameters`, a list of
    `{"name": ..., <field>: value}` merged into the existing declarations by name.

    Names and types are the trainer's; an edit may only narrow what the trainer declares
    (training_templates.narrowing). Raises HyperparameterErrors (nothing is saved) when any
    field is unknown or any resulting declaration is inconsistent.
    """
    errors: dict[str, Any] = {}
    for key in changes:
        if key not in ("description", "is_active", "hyperparameters"):
            errors[key] = ["cannot be changed; editable: description, is_active, hyperparameters"]
    if "description" in changes and not isinstance(changes["description"], str):
        errors["description"] = ["must be a string"]
    if "is_active" in changes and not isinstance(changes["is_active"], bool):
        errors["is_active"] = ["must be true or false"]
    rows_to_save: list[tuple[Hyperparameter, HyperparameterSpec]] = []
    if "hyperparameters" in changes:
        edits = changes["hyperparameters"]
        if not isinstance(edits, list):
            errors["hyperparameters"] = ["must be a list of {\"name\": ..., <field>: value} objects"]
        else:
            rows_to_save, problems = _checked_edits(template, edits)
            if problems:
                errors["hyperparameters"] = {name: [problem.message for problem in found]
                                             for name, found in problems.items()}
    if errors:
        raise HyperparameterErrors(errors)
    for row, spec in rows_to_save:
        for field, value in model_fields(spec).items():
            setattr(row, field, value)
        row.save()
    if "description" in changes:
        template.description = changes["description"]
    if "is_active" in changes:
        template.is_active = changes["is_active"]
    template.save()
    return template


def hyperparameter_edit_problems(template: Template, edits: list[dict[str, Any]]) -> dict[str, list[Problem]]:
    """What `update_template` would refuse in these hyperparameter edits, by parameter name,
    each problem with the field it is about (a form shows it there). Saves nothing."""
    return _checked_edits(template, edits)[1]


def _checked_edits(template: Template, edits: list) -> tuple[list, dict[str, list[Problem]]]:
    """(rows with their edited declarations, problems by parameter name): each edit is merged
    into its row and checked on its own, then each consistent one against the trainer."""
    rows = {hp.name: hp for hp in template.hyperparameters.all()}
    problems: dict[str, list[Problem]] = {}
    merged = []
    for edit in edits:
        if not isinstance(edit, dict) or not isinstance(edit.get("name"), str):
            problems.setdefault("non_field_errors", []).append(Problem(None, "each item needs a \"name\""))
            continue
        name = edit["name"]
        if name not in rows:
            problems[name] = [Problem("name", f"unknown hyperparameter; allowed: {', '.join(rows) or 'none'}")]
            continue
        bad = [k for k in edit if k != "name" and k not in EDITABLE_FIELDS]
        if bad:
            problems[name] = [Problem(None, f"cannot change {', '.join(bad)}; editable: {', '.join(EDITABLE_FIELDS)}")]
            continue
        data = spec_from_model(rows[name]) | {k: v for k, v in edit.items() if k != "name"}
        found = located_declaration_problems(data)
        if found:
            problems[name] = found
            continue
        merged.append((rows[name], HyperparameterSpec.model_validate(data)))
    problems.update(located_narrowing_problems(template.trainer, [spec for _, spec in merged]))
    return merged, problems


def unique_clone_id(base_id: str) -> str:
    candidate, n = f"{base_id}-copy", 1
    while Template.objects.filter(pk=candidate).exists():
        n += 1
        candidate = f"{base_id}-copy-{n}"
    return candidate


@transaction.atomic
def clone_template(template: Template) -> Template:
    """A copy under a new unique id ("<id>-copy", "<id>-copy-2", ...), created INACTIVE
    so it takes no jobs until an admin has reviewed and activated it."""
    clone = Template.objects.create(
        id=unique_clone_id(template.pk),
        name=f"{template.name} (copy)",
        task=template.task,
        dataset_tasks=list(template.dataset_tasks),
        trainer=template.trainer,
        precisions=list(template.precisions),
        description=template.description,
        is_active=False,
    )
    Hyperparameter.objects.bulk_create(
        Hyperparameter(
            template=clone,
            name=hp.name,
            type=hp.type,
            default=hp.default,
            minimum=hp.minimum,
            maximum=hp.maximum,
            step=hp.step,
            choices=hp.choices,
            log_scale=hp.log_scale,
            description=hp.description,
            position=hp.position,
        )
        for hp in template.hyperparameters.all()
    )
    return clone
