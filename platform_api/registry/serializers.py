from rest_framework import serializers

from platform_api.api import TextField
from platform_api.registry.models import ModelVersion, PretrainedWeights
from platform_api.training.serializers import EvaluationMetricsField
from trainers.trainer_registry import weight_architectures


class ModelVersionSerializer(serializers.ModelSerializer):
    template = serializers.CharField(source="template_id")
    dataset = serializers.IntegerField(source="dataset_id")
    job = serializers.IntegerField(source="job_id")
    hyperparameters = serializers.DictField(read_only=True, help_text="the values the job trained with")
    metrics = EvaluationMetricsField(read_only=True, help_text="the best epoch's, whose weights the model keeps")
    classes = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="labels by class id")

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
    name = TextField(max_length=200)
    # A typo here would only surface later, as a job failing with weights_not_registered.
    architecture = serializers.ChoiceField(choices=[], help_text="a backbone some trainer loads weights for")
    file = serializers.FileField(help_text="a state dict saved with torch.save")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        known = weight_architectures()
        architecture = self.fields["architecture"]
        architecture.choices = known
        architecture.error_messages["invalid_choice"] = f"unknown architecture {{input!r}}; one of: {', '.join(known)}"
