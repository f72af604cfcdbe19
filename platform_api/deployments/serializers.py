from rest_framework import serializers

from platform_api.deployments.models import Deployment
from trainers.core import RUNTIMES


class DeploymentSerializer(serializers.ModelSerializer):
    model = serializers.IntegerField(source="model_version_id")

    class Meta:
        model = Deployment
        fields = ["id", "model", "runtime", "status", "error", "created_at", "updated_at"]
        read_only_fields = fields


class PredictRequestSerializer(serializers.Serializer):
    images = serializers.ListField(child=serializers.CharField(), required=False, help_text="base64-encoded images")
    image = serializers.ListField(child=serializers.FileField(), required=False, help_text="multipart image files")


class DeployRequestSerializer(serializers.Serializer):
    runtime = serializers.ChoiceField(choices=RUNTIMES, required=False,
                                      help_text="torch or onnxruntime; default PREDICT_RUNTIME (onnxruntime)")
