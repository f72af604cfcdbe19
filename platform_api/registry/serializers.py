from rest_framework import serializers

from platform_api.registry.models import ModelVersion, PretrainedWeights
from trainers.registry import weight_architectures


class ModelVersionSerializer(serializers.ModelSerializer):
    template = serializers.CharField(source="template_id")
    dataset = serializers.IntegerField(source="dataset_id")
    job = serializers.IntegerField(source="job_id")

    class Meta:
        model = ModelVersion
        fields = ["id", "template", "trainer", "hyperparameters", "dataset", "job", "metrics", "classes", "created_at"]
        read_only_fields = fields


class PretrainedWeightsSerializer(serializers.ModelSerializer):
    class Meta:
        model = PretrainedWeights
        fields = ["id", "name", "architecture", "size_bytes", "created_at"]
        read_only_fields = ["id", "size_bytes", "created_at"]


class WeightsUploadSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    architecture = serializers.CharField(max_length=100)
    file = serializers.FileField()

    def validate_architecture(self, value: str) -> str:
        # A typo here would only surface later, as a job failing with weights_not_registered.
        known = weight_architectures()
        if value not in known:
            raise serializers.ValidationError(f"unknown architecture {value!r}; one of: {', '.join(known)}")
        return value
