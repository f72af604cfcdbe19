"""Admin for training templates: one compact row per hyperparameter (admin_rows.py), checked
and saved by the same service as the API's PATCH (services.update_template), every refusal
beside its field and at the top of the page; the JSON Schema clients see, collapsed at the
end; clone/activate actions.

A template's identity (trainer, task, precisions) comes from its catalogue file; new
templates come from `manage.py load_templates` or the clone action, so there is no add page.
Nothing here writes Job rows: a submitted job keeps its own spec snapshot.
"""
import json

from django.contrib import admin, messages
from django.db.models import Count
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from training_templates import services
from training_templates.admin_rows import COLUMNS, HyperparameterRowForm, HyperparameterRowFormSet
from training_templates.models import Hyperparameter, Template


class HyperparameterInline(admin.TabularInline):
    """The trainer's parameters, each narrowed or not: rows are neither added nor deleted."""

    model = Hyperparameter
    form = HyperparameterRowForm
    formset = HyperparameterRowFormSet
    template = "admin/templates_registry/hyperparameter_rows.html"
    fields = COLUMNS
    readonly_fields = ["parameter", "type"]
    ordering = ["position", "id"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    # The rows are part of the template: who may view or change it may view or change them.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("templates_registry.view_template") or self.has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("templates_registry.change_template")

    @admin.display(description="name")
    def parameter(self, obj):
        # Long names (early_stopping_patience) wrap after an underscore, not mid-word.
        return format_html_join(mark_safe("_<wbr>"), "{}", ((part,) for part in obj.name.split("_")))

    def get_formset(self, request, obj=None, **kwargs):
        # The row form's fields are its own (text as typed), not model fields to fill in:
        # rows are saved by services.update_template.
        return super().get_formset(request, obj, **{**kwargs, "fields": []})


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "task", "is_active", "job_count", "trainer"]  # trainer keys are long: last
    list_filter = ["task", "is_active"]
    search_fields = ["id", "name", "trainer"]
    inlines = [HyperparameterInline]
    actions = ["clone_templates", "deactivate_templates", "activate_templates"]
    # What update_template may change is editable; the rest is the catalogue's.
    fields = [("id", "trainer", "task"), ("name", "dataset_tasks_shown", "precisions_shown"), "is_active", "description"]
    readonly_fields = ["id", "name", "task", "dataset_tasks_shown", "trainer", "precisions_shown"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(job_count=Count("jobs"))

    def has_add_permission(self, request):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "description" in form.base_fields:  # not for staff who may only view
            form.base_fields["description"].widget.attrs.update(rows=4, cols=120)
        return form

    @admin.display(description="dataset tasks")
    def dataset_tasks_shown(self, obj):
        return ", ".join(obj.dataset_tasks)

    @admin.display(description="precisions a job may ask for")
    def precisions_shown(self, obj):
        return ", ".join(obj.precisions)

    @admin.display(description="jobs", ordering="job_count")
    def job_count(self, obj):
        return obj.job_count

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Every refusal, at the top: the template's own fields, then each parameter's.
        form = context["adminform"].form
        context["problems"] = [f"{field}: {message}" for field, messages in form.errors.items() for message in messages]
        context["problems"] += [line for inline in context["inline_admin_formsets"] for line in inline.formset.headlines()]
        if obj is not None and obj.pk is not None:
            context["json_schema"] = json.dumps(services.schema_for_template(obj), indent=2)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        """Saved with its hyperparameters by the service, in save_related."""

    def save_related(self, request, form, formsets, change):
        changes = {"description": form.cleaned_data["description"], "is_active": form.cleaned_data["is_active"]}
        for formset in formsets:
            changes["hyperparameters"] = formset.edits()
        services.update_template(form.instance, changes)  # checked already by the formset's clean
        for formset in formsets:
            formset.record_saved()

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
