"""The admin's hyperparameter rows: values shown as the trainer declares them (ints as ints,
strings unquoted, choices as a comma-separated list) and read back the same way.

The rows check nothing themselves: the template's service (`hyperparameter_edit_problems`)
does, and each problem it finds is placed beside the field it is about and repeated, naming
the parameter, in the message at the top of the page (`headlines`).
"""
from __future__ import annotations

import math
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from training_templates import services
from training_templates.hyperparameter_specs import NUMERIC_TYPES, HyperparameterSpec, as_spec
from training_templates.models import Hyperparameter
from training_templates.narrowing import trainer_declarations

# A declaration's field -> the row's form field (the model's columns say minimum/maximum).
FORM_FIELD = {"default": "default", "min": "minimum", "max": "maximum", "step": "step", "choices": "choices",
              "log_scale": "log_scale", "description": "description"}
SPEC_FIELD = {form_field: spec_field for spec_field, form_field in FORM_FIELD.items()}
# The row's columns, left to right, with their headings ("parameter" is the name, shown
# read-only like the type).
HEADINGS = {"parameter": "name", "type": "type", "default": "default", "minimum": "min", "maximum": "max",
            "step": "step", "choices": "choices", "log_scale": "log", "description": "description"}
COLUMNS = tuple(HEADINGS)


def shown(value: Any) -> str:
    """A value as a person reads it: 64, 0.0001, resnet50, true; empty for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def read_number(text: str) -> Any:
    """A typed bound or step: an int, a float, None when empty, or the text itself, which
    the service then refuses with its reason ("must be a number or null")."""
    if text == "":
        return None
    for parse in (int, float):
        try:
            number = parse(text)
        except ValueError:
            continue
        return number if math.isfinite(number) else text
    return text


def read_choice(text: str, declared: HyperparameterSpec) -> Any:
    """The trainer's choice written `text` (so 2 stays an int), else the text as typed."""
    return next((choice for choice in declared.choices or [] if shown(choice) == text), text)


def read_value(text: str, declared: HyperparameterSpec) -> Any:
    """A typed default, read as the trainer declares the parameter; what cannot be read
    stays as typed and the service says why it is refused."""
    if text == "":
        return "" if declared.type == "string" and declared.default is not None else None
    if declared.type in NUMERIC_TYPES:
        return read_number(text)
    if declared.type == "bool":
        return {"true": True, "false": False}.get(text.lower(), text)
    if declared.type == "enum":
        return read_choice(text, declared)
    return text


def read_choices(text: str, declared: HyperparameterSpec) -> list | None:
    items = [item.strip() for item in text.split(",") if item.strip()]
    return [read_choice(item, declared) for item in items] or None


class HyperparameterRowForm(forms.ModelForm):
    """One parameter on one line. Name and type are the trainer's (shown read-only); fields
    that do not apply to the type (bounds of a string, choices of an int) are disabled."""

    default = forms.CharField(required=False)
    minimum = forms.CharField(required=False, label="min")
    maximum = forms.CharField(required=False, label="max")
    step = forms.CharField(required=False)
    choices = forms.CharField(required=False, widget=forms.Textarea)
    log_scale = forms.BooleanField(required=False, label="log")
    description = forms.CharField(required=False, widget=forms.Textarea)

    class Meta:
        model = Hyperparameter
        fields: list[str] = []  # every field above is text as typed, read by edit()

    def __init__(self, *args, declarations: dict[str, HyperparameterSpec] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            return  # the formset's empty form, which the admin reads only for its labels
        saved = services.spec_from_model(self.instance)
        self.declared = (declarations or {}).get(self.instance.name) or as_spec(saved)
        for spec_field in ("default", "min", "max", "step", "description"):
            self.initial[FORM_FIELD[spec_field]] = shown(saved[spec_field])
        self.initial["choices"] = ", ".join(shown(choice) for choice in saved["choices"] or [])
        self.initial["log_scale"] = saved["log_scale"]
        self._fit_to_type(saved)

    def _fit_to_type(self, saved: dict) -> None:
        kind = self.declared.type
        if kind not in NUMERIC_TYPES:
            for name in ("minimum", "maximum", "step", "log_scale"):
                self.fields[name].disabled = True
        if kind != "enum":
            self.fields["choices"].disabled = True
        if kind in ("enum", "bool"):
            # The default is one of the choices this template offers (saved ones: to make a
            # newly offered choice the default, save the choices first).
            options = (saved["choices"] or []) if kind == "enum" else [True, False]
            values = [shown(option) for option in options]
            if saved["default"] is None or self.declared.default is None:
                values.insert(0, "")
            posted = self.data.get(self.add_prefix("default")) if self.is_bound else None
            for value in (shown(saved["default"]), posted):  # a refused value shows as it was sent
                if value is not None and value not in values:
                    values.append(value)
            self.fields["default"].widget = forms.Select(choices=[(value, value or "(null)") for value in values])
        self.fields["description"].widget.attrs["rows"] = _rows_for(self.initial["description"], 40)
        self.fields["choices"].widget.attrs["rows"] = _rows_for(self.initial["choices"], 20)

    def shown(self) -> list[tuple[str, str]]:
        """(column, text) of this row as declared, for staff who may only view it."""
        texts = {"parameter": self.instance.name, "type": self.declared.type,
                 "log_scale": "yes" if self.initial["log_scale"] else ""}
        return [(column, texts[column] if column in texts else self.initial[column]) for column in COLUMNS]

    def error_rows(self) -> list[dict[str, Any]]:
        """Each field's errors as a line under the row that starts below that field:
        {"before": columns to its left, "span": columns from it, "messages": [...]}."""
        rows = []
        for column, form_field in enumerate(COLUMNS):
            messages = self.errors.get(form_field)
            if messages:
                rows.append({"before": column, "span": len(COLUMNS) - column,
                             "messages": [naming_the_field(SPEC_FIELD[form_field], m) for m in messages]})
        return rows

    def edit(self) -> dict[str, Any]:
        """This row as an edit for services.update_template."""
        data, declared = self.cleaned_data, self.declared
        return {
            "name": self.instance.name,
            "default": read_value(data["default"], declared),
            "min": read_number(data["minimum"]),
            "max": read_number(data["maximum"]),
            "step": read_number(data["step"]),
            "choices": read_choices(data["choices"], declared) if declared.type == "enum" else None,
            "log_scale": data["log_scale"],
            "description": data["description"],
        }


def naming_the_field(field: str | None, message: str) -> str:
    """"max offers 512, ..." for a message about max that does not say so ("default must
    be ..." already does)."""
    return message if field is None or message.startswith(field) else f"{field} {message}"


def _rows_for(text: str, characters_a_line: int) -> int:
    """A textarea's height for `text` where the browser cannot fit it to its content."""
    return max(1, min(8, -(-len(text) // characters_a_line)))


class HyperparameterRowFormSet(forms.BaseInlineFormSet):
    """The template's rows, checked together by the service; saved by the admin through
    services.update_template, never by this formset."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.declarations = trainer_declarations(self.instance.trainer) if self.instance.pk else {}

    headings = HEADINGS  # the same whether the rows are editable or only viewable

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "declarations": self.declarations}

    def edits(self) -> list[dict[str, Any]]:
        return [form.edit() for form in self.forms]

    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms):
            return
        forms_by_name = {form.instance.name: form for form in self.forms}
        unplaced = []
        for name, problems in services.hyperparameter_edit_problems(self.instance, self.edits()).items():
            for problem in problems:
                if name in forms_by_name:
                    forms_by_name[name].add_error(FORM_FIELD.get(problem.field), problem.message)
                else:
                    unplaced.append(f"{name}: {problem.message}")
        if unplaced:
            raise ValidationError(unplaced)

    def headlines(self) -> list[str]:
        """Every problem of the rows, naming its parameter and field, for the top of the page."""
        lines = list(self.non_form_errors())
        for form in self.forms:
            for form_field, messages in form.errors.items():
                lines += [f"{form.instance.name}: {naming_the_field(SPEC_FIELD.get(form_field), m)}" for m in messages]
        return lines

    def record_saved(self) -> None:
        """What the admin's history needs from a formset that the service saved."""
        self.new_objects, self.deleted_objects = [], []
        self.changed_objects = [(form.instance, form.changed_data) for form in self.forms if form.changed_data]
