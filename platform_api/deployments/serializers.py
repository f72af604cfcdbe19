from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from platform_api.http.views import ChoiceField

from platform_api.deployments.models import DEPLOYMENT_RUNTIMES, Deployment


class DeploymentSerializer(serializers.ModelSerializer):
    model = serializers.IntegerField(source="model_version_id")

    class Meta:
        model = Deployment
        fields = ["id", "model", "runtime", "served_runtime", "probe", "status", "error", "created_at", "updated_at"]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.BYTE)
class Base64Field(serializers.CharField):
    """A file's bytes as base64 text."""


@extend_schema_field({"oneOf": [{"type": "number", "minimum": 0, "maximum": 1},
                                {"type": "string", "enum": ["tuned"]}]})
class ThresholdField(serializers.Field):
    """A number from 0 to 1, or "tuned" (predict_options.py reads the request itself)."""


class PredictOptionsSerializer(serializers.Serializer):
    """Per-request options; each defaults to the model's own. A model refuses one it does not take."""
    threshold = ThresholdField(required=False, help_text='leave out results below this confidence (all models); '
                                                         '"tuned": each class at its own (multi-label classifiers)')
    top_k = serializers.IntegerField(required=False, min_value=1, max_value=1000,
                                     help_text="at most this many results per image, highest confidence first")
    mask_threshold = serializers.FloatField(required=False, min_value=0.0, max_value=1.0,
                                            help_text="segmentation: a pixel is in a mask above this probability")


# The predict request's two forms. They describe the body for the OpenAPI document; the view
# reads it itself (multipart files are checked for size before they are read).
class PredictJSONRequestSerializer(PredictOptionsSerializer):
    images = serializers.ListField(child=Base64Field(), min_length=1, max_length=settings.MAX_PREDICT_IMAGES,
                                   help_text="image files (PNG, JPEG, ...) as base64; a data: URL is accepted too")


class PredictMultipartRequestSerializer(PredictOptionsSerializer):
    # One part described, repeatable: schemathesis 4.32 sends an array's parts without a
    # filename, and Django reads such parts as text, not files.
    image = serializers.FileField(help_text=f"an image file (PNG, JPEG, ...); repeat the part for more, up to "
                                            f"{settings.MAX_PREDICT_IMAGES}, predicted in one batch")


class PredictionSerializer(serializers.Serializer):
    cls_id = serializers.IntegerField()
    label = serializers.CharField()
    conf = serializers.FloatField()
    bbox = serializers.ListField(child=serializers.FloatField(), min_length=4, max_length=4, required=False,
                                 help_text="segmentation: [x1, y1, x2, y2] in pixels")
    mask = Base64Field(required=False, help_text="segmentation: PNG of the binary mask at the image's size")


class PredictResponseSerializer(serializers.Serializer):
    predictions = serializers.ListField(child=serializers.ListField(child=PredictionSerializer()),
                                        help_text="one list per image, in the order sent")


class DeployRequestSerializer(serializers.Serializer):
    runtime = ChoiceField(choices=DEPLOYMENT_RUNTIMES, required=False,
                          help_text="torch, onnxruntime, onnxruntime-int8 (past its accuracy gate) or auto (the "
                                    "fastest of them here); default PREDICT_RUNTIME (onnxruntime)")
