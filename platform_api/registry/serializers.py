from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from platform_api.http.views import ChoiceField, TextField
from platform_api.registry.evaluations import model_task
from platform_api.registry.models import Evaluation, Export, ModelVersion, PretrainedWeights
from trainers.core import EVALUATION_SPLITS, RUNTIMES
from trainers.families import weight_architectures


class ClassFiguresSerializer(serializers.Serializer):
    precision = serializers.FloatField()
    recall = serializers.FloatField()
    f1 = serializers.FloatField()
    support = serializers.IntegerField()


class EvaluationMetricsSerializer(serializers.Serializer):
    """One evaluation's figures; which ones depends on the task. Classification: accuracy (or
    exact_match_accuracy and the micro averages, multi-label), macro precision, recall and F1,
    per_class, confusion_matrix. Semantic segmentation: mIoU, pixel_accuracy and `IoU/<class>`
    (percent). Instance segmentation: COCO mask AP figures (percent). `{}` before the first."""

    accuracy = serializers.FloatField(required=False)
    exact_match_accuracy = serializers.FloatField(required=False)
    precision_macro = serializers.FloatField(required=False)
    recall_macro = serializers.FloatField(required=False)
    f1_macro = serializers.FloatField(required=False)
    precision_micro = serializers.FloatField(required=False)
    recall_micro = serializers.FloatField(required=False)
    f1_micro = serializers.FloatField(required=False)
    per_class = serializers.DictField(child=ClassFiguresSerializer(), required=False, help_text="class name -> figures")
    confusion_matrix = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()),
                                             required=False, help_text="rows: true class, columns: predicted")
    num_samples = serializers.IntegerField(required=False)
    mIoU = serializers.FloatField(required=False)
    pixel_accuracy = serializers.FloatField(required=False)


# Stored JSON, shown as it is stored (a nested serializer would drop the task's other figures
# and add the keys a row lacks); the OpenAPI document describes it with the serializer above.
@extend_schema_field(EvaluationMetricsSerializer)
class EvaluationMetricsField(serializers.JSONField):
    pass


class ExportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Export
        fields = ["format", "size_bytes", "figures", "created_at", "last_used_at"]
        read_only_fields = fields


class ModelVersionSerializer(serializers.ModelSerializer):
    template = serializers.CharField(source="template_id")
    dataset = serializers.IntegerField(source="dataset_id")
    job = serializers.IntegerField(source="job_id")
    hyperparameters = serializers.DictField(read_only=True, help_text="the values the job trained with")
    metrics = EvaluationMetricsField(read_only=True, help_text="the best epoch's, whose weights the model keeps")
    classes = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="labels by class id")
    exports = ExportSerializer(many=True, read_only=True,
                               help_text="exports stored now (a cache: EXPORT_CACHE_BYTES in all, least recently used "
                                         "dropped first)")

    task = serializers.SerializerMethodField(help_text="what the model does, so the datasets it is evaluated on: "
                                                      "classification (classification and instance-segmentation "
                                                      "datasets), instance_segmentation or semantic_segmentation")

    class Meta:
        model = ModelVersion
        fields = ["id", "template", "trainer", "task", "hyperparameters", "dataset", "job", "metrics", "classes",
                  "exports", "created_at"]
        read_only_fields = fields


    def get_task(self, model_version: ModelVersion) -> str:
        return model_task(model_version)


class PretrainedWeightsSerializer(serializers.ModelSerializer):
    class Meta:
        model = PretrainedWeights
        fields = ["id", "name", "architecture", "size_bytes", "created_at"]
        read_only_fields = ["id", "size_bytes", "created_at"]


class WeightsUploadSerializer(serializers.Serializer):
    name = TextField(max_length=200)
    # A typo here would only surface later, as a job failing with weights_not_registered.
    architecture = ChoiceField(choices=[], help_text="a backbone some trainer loads weights for")
    file = serializers.FileField(help_text="a state dict saved with torch.save")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        known = weight_architectures()
        architecture = self.fields["architecture"]
        architecture.choices = known
        architecture.error_messages["invalid_choice"] = f"unknown architecture {{input!r}}; one of: {', '.join(known)}"


class EvaluationRequestSerializer(serializers.Serializer):
    dataset = serializers.IntegerField(help_text="a ready dataset of yours, of the model's task")
    split = ChoiceField(choices=list(EVALUATION_SPLITS), required=False, allow_blank=True,
                        help_text="default (or blank): the dataset's held-out split, valid, else test, else train")
    runtime = ChoiceField(choices=list(RUNTIMES), required=False, default="torch",
                          help_text="the runtime the model is scored in: torch (default), onnxruntime (its ONNX "
                                    "export) or onnxruntime-int8 (its INT8 export)")


class EvaluationSerializer(serializers.ModelSerializer):
    model = serializers.IntegerField(source="model_version_id")
    dataset = serializers.IntegerField(source="dataset_id")
    metrics = serializers.DictField(read_only=True, help_text="named as a job's: accuracy, f1_macro, segm/AP, mIoU...; "
                                                            "{} until it has succeeded")

    class Meta:
        model = Evaluation
        fields = ["id", "model", "dataset", "split", "runtime", "status", "error", "metrics", "created_at",
                  "finished_at"]
        read_only_fields = fields
