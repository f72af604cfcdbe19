from pathlib import Path

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiRequest, extend_schema
from rest_framework import mixins, parsers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from platform_api.http.openapi import problem
from platform_api.http.views import IgnoreFormatParameter, OwnedQuerysetMixin
from platform_api.registry import exports, services
from trainers.export import FORMATS as EXPORT_FORMATS
from platform_api.registry.models import ModelVersion, PretrainedWeights
from platform_api.registry.serializers import ModelVersionSerializer, PretrainedWeightsSerializer, WeightsUploadSerializer

EXPORT_FORMAT = OpenApiParameter("format", str, enum=list(EXPORT_FORMATS), required=True)


class ModelVersionViewSet(OwnedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = ModelVersion.objects.prefetch_related("exports")
    serializer_class = ModelVersionSerializer
    filterset_fields = ["template", "dataset", "job"]

    @extend_schema(responses={
        204: None, 409: problem("Kept: a live deployment or a Clarifai model version serves it (model_in_use)"),
    })
    def destroy(self, request, pk=None):
        """Deletes the model, its exports and its stopped deployments; the job stays."""
        if not services.delete_model(self.get_object()):
            raise NotFound()  # a concurrent delete removed it after get_object found it
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(methods=["GET"], parameters=[EXPORT_FORMAT],
                   responses={(200, "application/zip"): OpenApiTypes.BINARY})
    @extend_schema(methods=["DELETE"], parameters=[EXPORT_FORMAT], responses={204: None})
    @action(detail=True, methods=["get", "delete"], content_negotiation_class=IgnoreFormatParameter)
    def export(self, request, pk=None):
        """GET: the model to take away, a zip with the weights (pytorch) or model.onnx (onnx),
        config.json, labels.json and a README; built on first use and kept as a cache.
        DELETE: frees the stored export (a later GET builds it again)."""
        model_version, fmt = self.get_object(), request.query_params.get("format", "")
        if request.method == "DELETE":
            if not exports.delete_export(model_version, fmt):
                raise NotFound(f"model {model_version.pk} has no {fmt} export stored")
            return Response(status=status.HTTP_204_NO_CONTENT)
        return FileResponse(exports.open_export(model_version, fmt), as_attachment=True,
                            filename=exports.download_name(model_version, fmt), content_type="application/zip")


class PretrainedWeightsViewSet(
    OwnedQuerysetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = PretrainedWeights.objects.all()
    serializer_class = PretrainedWeightsSerializer
    parser_classes = [parsers.MultiPartParser]
    upload_field = "file"  # the multipart field whose files the error handler names
    filterset_fields = ["architecture", "name"]

    @extend_schema(
        request={"multipart/form-data": OpenApiRequest(WeightsUploadSerializer,
                                                       encoding={"file": {"contentType": "application/octet-stream"}})},
        responses={201: PretrainedWeightsSerializer},
    )
    def create(self, request):
        upload = WeightsUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        weights = services.register_weights(
            request.user, data["name"], data["architecture"], Path(data["file"].temporary_file_path()), data["file"].size
        )
        return Response(PretrainedWeightsSerializer(weights).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        if not services.delete_weights(self.get_object()):
            raise NotFound()  # a concurrent delete removed them after get_object found them
        return Response(status=status.HTTP_204_NO_CONTENT)
