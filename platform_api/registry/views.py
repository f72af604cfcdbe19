from pathlib import Path

from drf_spectacular.utils import OpenApiRequest, extend_schema
from rest_framework import mixins, parsers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from platform_api.api import OwnedQuerysetMixin
from platform_api.deployments import services as deployment_services
from platform_api.deployments.serializers import DeploymentSerializer
from platform_api.registry import services
from platform_api.registry.models import ModelVersion, PretrainedWeights
from platform_api.registry.serializers import ModelVersionSerializer, PretrainedWeightsSerializer, WeightsUploadSerializer


class ModelVersionViewSet(OwnedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = ModelVersion.objects.all()
    serializer_class = ModelVersionSerializer
    filterset_fields = ["template", "dataset", "job"]

    @extend_schema(request=None, responses={201: DeploymentSerializer})
    @action(detail=True, methods=["post"])
    def deploy(self, request, pk=None):
        deployment = deployment_services.deploy(request.user, self.get_object())
        return Response(DeploymentSerializer(deployment).data, status=status.HTTP_201_CREATED)


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
