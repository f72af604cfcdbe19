"""Staff's view of every user's deployments; stop through the same service as
POST /api/v1/deployments/{id}/stop/ (frees the model's memory)."""
from django.contrib import admin, messages
from django.utils.text import Truncator

from platform_api.deployments import services
from platform_api.deployments.models import Deployment
from platform_api.staff_admin import ReadOnlyAdmin, allowed, short_time


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = ["id", "owner", "model_version", "template", "status", "error_brief", "created", "updated"]
    list_filter = ["status", ("owner", admin.RelatedOnlyFieldListFilter),
                   ("model_version__template", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["owner", "model_version"]
    search_fields = ["owner__username", "model_version__template__id"]
    actions = ["stop_deployments"]
    fields = [("owner", "status"), ("model_version", "template"), "error", ("created_at", "updated_at")]

    @admin.display(description="created", ordering="created_at")
    def created(self, deployment):
        return short_time(deployment.created_at)

    @admin.display(description="status since", ordering="updated_at")
    def updated(self, deployment):
        return short_time(deployment.updated_at)

    @admin.display(description="error")
    def error_brief(self, deployment):
        return Truncator(deployment.error).chars(60) or "-"

    @admin.display(description="template", ordering="model_version__template")
    def template(self, deployment):
        return deployment.model_version.template_id

    def has_stop_permission(self, request):
        return allowed(request, "deployments.change_deployment")

    @admin.action(description="Stop selected deployments (frees their models' memory)", permissions=["stop"])
    def stop_deployments(self, request, queryset):
        stopped = [services.stop(deployment) for deployment in queryset]
        self.message_user(request, f"Stopped {len(stopped)} deployment(s).", messages.SUCCESS)
