"""Template REST API (API.md "Templates"): read for every user, PATCH for staff."""
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from templates_registry import services
from templates_registry.models import Template


class TemplateSerializer(serializers.ModelSerializer):
    hyperparameters = serializers.SerializerMethodField()
    json_schema = serializers.SerializerMethodField()

    class Meta:
        model = Template
        fields = ["id", "name", "task", "description", "is_active", "trainer", "dataset_tasks",
                  "precisions", "hyperparameters", "json_schema"]
        read_only_fields = fields

    def get_hyperparameters(self, template) -> list[dict]:
        return services.specs_for_template(template)

    def get_json_schema(self, template) -> dict:
        return services.schema_for_template(template)


class TemplatePatchSerializer(serializers.Serializer):
    """Documents the PATCH body; validation is services.update_template's."""

    description = serializers.CharField(required=False)
    is_active = serializers.BooleanField(required=False)
    hyperparameters = serializers.ListField(
        child=serializers.DictField(), required=False,
        help_text='[{"name": "batch_size", "default": 64, "max": 256}, ...]; editable: default, min, max, '
                  "step, choices, log_scale, description",
    )


class StaffMayEdit(permissions.BasePermission):
    message = "only staff may change templates"

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or bool(request.user and request.user.is_staff)


class TemplateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Templates are shared; inactive ones are listed too (with is_active false)."""

    queryset = Template.objects.prefetch_related("hyperparameters")
    serializer_class = TemplateSerializer
    permission_classes = [permissions.IsAuthenticated, StaffMayEdit]
    lookup_value_regex = r"[A-Za-z0-9_.\-]+"
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(request=TemplatePatchSerializer, responses=TemplateSerializer)
    def partial_update(self, request, *args, **kwargs):
        """Body: any of {"description", "is_active", "hyperparameters": [{"name", <field>: value}]}."""
        template = self.get_object()
        if not isinstance(request.data, dict):
            raise ParseError("body must be a JSON object")
        services.update_template(template, dict(request.data))  # HyperparameterErrors: 400 {field: [...]}
        template = self.get_queryset().get(pk=template.pk)
        return Response(self.get_serializer(template).data)
