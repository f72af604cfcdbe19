"""Template REST API (API.md "Templates"): read for every user, PATCH for staff."""
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from platform_api.http.openapi import problem
from training_templates import services
from training_templates.hyperparameter_specs import TYPES
from training_templates.models import PRECISIONS, TASK_CHOICES, Template


class HyperparameterDeclarationSerializer(serializers.Serializer):
    """One hyperparameter a template offers (API.md "Templates"); absent bounds are null."""

    name = serializers.CharField()
    type = serializers.ChoiceField(choices=TYPES)
    default = serializers.JSONField(allow_null=True)
    min = serializers.FloatField(allow_null=True)
    max = serializers.FloatField(allow_null=True)
    step = serializers.FloatField(allow_null=True)
    choices = serializers.ListField(child=serializers.JSONField(), allow_null=True, help_text="enum: the values offered")
    log_scale = serializers.BooleanField()
    description = serializers.CharField(allow_blank=True)


class TemplateSerializer(serializers.ModelSerializer):
    dataset_tasks = serializers.ListField(child=serializers.ChoiceField(choices=TASK_CHOICES), read_only=True,
                                          help_text="the dataset tasks it trains on")
    precisions = serializers.ListField(child=serializers.ChoiceField(choices=PRECISIONS), read_only=True,
                                       help_text="precisions a job may request")
    hyperparameters = serializers.SerializerMethodField()
    json_schema = serializers.SerializerMethodField()

    class Meta:
        model = Template
        fields = ["id", "name", "task", "description", "is_active", "trainer", "dataset_tasks",
                  "precisions", "hyperparameters", "json_schema"]
        read_only_fields = fields

    @extend_schema_field(HyperparameterDeclarationSerializer(many=True))
    def get_hyperparameters(self, template) -> list[dict]:
        return services.specs_for_template(template)

    @extend_schema_field({"type": "object", "additionalProperties": {},
                          "description": "JSON Schema (2020-12) of the `hyperparameters` a job of it sends"})
    def get_json_schema(self, template) -> dict:
        return services.schema_for_template(template)


class HyperparameterEditSerializer(serializers.Serializer):
    """A narrower declaration of one of the template's hyperparameters: the fields given change."""

    name = serializers.CharField()
    default = serializers.JSONField(required=False, allow_null=True)
    min = serializers.FloatField(required=False, allow_null=True)
    max = serializers.FloatField(required=False, allow_null=True)
    step = serializers.FloatField(required=False, allow_null=True)
    choices = serializers.ListField(child=serializers.JSONField(), required=False, allow_null=True)
    log_scale = serializers.BooleanField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class TemplatePatchSerializer(serializers.Serializer):
    """Documents the PATCH body; validation is services.update_template's."""

    description = serializers.CharField(required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    hyperparameters = serializers.ListField(
        child=HyperparameterEditSerializer(), required=False,
        help_text='[{"name": "batch_size", "default": 64, "max": 256}, ...]: only narrower than the trainer declares',
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

    @extend_schema(request={"application/json": TemplatePatchSerializer},
                   responses={200: TemplateSerializer, 403: problem("Only staff may change templates (permission_denied)")})
    def partial_update(self, request, *args, **kwargs):
        """Body: any of {"description", "is_active", "hyperparameters": [{"name", <field>: value}]}."""
        template = self.get_object()
        if not isinstance(request.data, dict):
            raise ParseError("body must be a JSON object")
        services.update_template(template, dict(request.data))  # HyperparameterErrors: 400 {field: [...]}
        template = self.get_queryset().get(pk=template.pk)
        return Response(self.get_serializer(template).data)
