"""Admin for training templates: inline hyperparameter editing checked by the same
rules as the API (spec_problems), the JSON Schema clients see, clone/activate actions.

Nothing here writes Job rows: a submitted job keeps its own spec snapshot.
"""
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone
from django.utils.html import format_html

from templates_registry import services
from templates_registry.hyperparameter_specs import declaration_problems
from templates_registry.models import HyperParameter, Template
from templates_registry.narrowing import narrowing_problems

JSON_HELP = 'JSON: 32, 0.1, true, "horizontal", or empty for null'


def declaration_from_form(data: dict) -> dict:
    """A row's cleaned form data as a hyperparameter declaration (the columns say minimum/maximum)."""
    return {
        "name": data.get("name") or "",
        "type": data.get("type"),
        "default": data.get("default"),
        "min": data.get("minimum"),
        "max": data.get("maximum"),
        "step": data.get("step"),
        "choices": data.get("choices"),
        "log_scale": bool(data.get("log_scale")),
        "description": data.get("description") or "",
    }


class HyperParameterForm(forms.ModelForm):
    class Meta:
        model = HyperParameter
        fields = ["name", "type", "default", "minimum", "maximum", "step", "choices", "log_scale",
                  "description", "position"]
        widgets = {
            "default": forms.TextInput(attrs={"size": 12}),
            "choices": forms.TextInput(attrs={"size": 24}),
            "description": forms.TextInput(attrs={"size": 30}),
            "position": forms.NumberInput(attrs={"style": "width: 4em"}),
        }
        help_texts = {"default": JSON_HELP, "choices": 'JSON list, e.g. ["horizontal", "vertical"]'}

    def clean(self):
        data = super().clean()
        if self.errors or data.get("DELETE"):
            return data  # field errors are shown already; a deleted row is not checked
        for field in ("default", "choices"):
            # forms.JSONField returns str subclasses (JSONString); store plain JSON values.
            data[field] = json.loads(json.dumps(data.get(field)))
        name = data.get("name") or "(unnamed)"
        problems = declaration_problems(declaration_from_form(data))
        if problems:
            raise ValidationError([f"{name}: {p}" for p in problems])
        return data


class HyperParameterFormSet(forms.BaseInlineFormSet):
    def clean(self):
        """Each row may only narrow what the template's trainer declares."""
        super().clean()
        if any(form.errors for form in self.forms):
            return
        declarations = [
            declaration_from_form(form.cleaned_data)
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        problems = narrowing_problems(self.instance.trainer, declarations)
        if problems:
            raise ValidationError([f"{name}: {message}" for name, messages in problems.items() for message in messages])


class HyperParameterInline(admin.TabularInline):
    model = HyperParameter
    form = HyperParameterForm
    formset = HyperParameterFormSet
    extra = 0
    ordering = ["position", "id"]


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "task", "is_active", "job_count", "trainer"]  # trainer keys are long: last
    list_filter = ["task", "is_active"]
    search_fields = ["id", "name", "trainer"]
    inlines = [HyperParameterInline]
    actions = ["clone_templates", "deactivate_templates", "activate_templates"]
    fields = ["id", "name", "task", "dataset_tasks", "trainer", "precisions", "description", "is_active",
              "json_schema_display"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(job_count=Count("jobs"))

    def get_readonly_fields(self, request, obj=None):
        # The id is the primary key and what jobs point at: fixed once created.
        # Precisions come from the catalogue file (a form field would need every edit to resend them).
        return ["json_schema_display", "precisions"] + (["id"] if obj else [])

    @admin.display(description="jobs", ordering="job_count")
    def job_count(self, obj):
        return obj.job_count

    @admin.display(description="JSON Schema clients see (saved values)")
    def json_schema_display(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        schema = services.schema_for_template(obj)
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', json.dumps(schema, indent=2))

    @admin.action(description="Clone selected templates (copies are created inactive)")
    def clone_templates(self, request, queryset):
        clones = [services.clone_template(t).pk for t in queryset]
        self.message_user(request, f"Created inactive copies: {', '.join(clones)}", messages.SUCCESS)

    @admin.action(description="Deactivate selected templates (they take no new jobs)")
    def deactivate_templates(self, request, queryset):
        count = _set_active(queryset, False)
        self.message_user(request, f"Deactivated {count} template(s).", messages.SUCCESS)

    @admin.action(description="Activate selected templates")
    def activate_templates(self, request, queryset):
        count = _set_active(queryset, True)
        self.message_user(request, f"Activated {count} template(s).", messages.SUCCESS)


def _set_active(queryset, active: bool) -> int:
    # The changelist queryset carries a Count annotation; update plain rows by pk.
    ids = list(queryset.values_list("pk", flat=True))
    return Template.objects.filter(pk__in=ids).update(is_active=active, updated_at=timezone.now())
