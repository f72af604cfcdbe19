from rest_framework import serializers

from platform_api.datasets.models import FORMAT_TASKS, Dataset


class DatasetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dataset
        fields = ["id", "name", "format", "task", "status", "error", "num_images", "classes", "splits", "created_at", "updated_at"]
        read_only_fields = fields


class DatasetUploadSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    format = serializers.ChoiceField(choices=list(FORMAT_TASKS))
    archive = serializers.FileField()
