from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiRequest, extend_schema
from rest_framework import mixins, parsers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from platform_api.http.views import OwnedQuerysetMixin
from platform_api.http.openapi import problem
from platform_api.http.parsers import JSONParser
from platform_api.problems import Invalid
from platform_api.deployments import services
from platform_api.deployments.batching import client_gone_check
from platform_api.deployments.predict_options import read_options
from trainers.export import PREDICT_OPTIONS
from platform_api.deployments.models import Deployment
from platform_api.registry.models import ModelVersion
from platform_api.deployments.serializers import (
    DeploymentSerializer,
    DeployRequestSerializer,
    PredictJSONRequestSerializer,
    PredictMultipartRequestSerializer,
    PredictResponseSerializer,
)


class ModelDeployViewSet(OwnedQuerysetMixin, viewsets.GenericViewSet):
    """POST /models/{id}/deploy/: the route sits under the model it deploys, the work is this
    app's (the registry below knows nothing of deployments)."""

    queryset = ModelVersion.objects.all()
    serializer_class = DeploymentSerializer

    @extend_schema(request=DeployRequestSerializer, responses={200: DeploymentSerializer, 201: DeploymentSerializer})
    @action(detail=True, methods=["post"])
    def deploy(self, request, pk=None):
        body = DeployRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        deployment, created = services.deploy(request.user, self.get_object(), body.validated_data.get("runtime"))
        return Response(DeploymentSerializer(deployment).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class DeploymentViewSet(OwnedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Deployment.objects.select_related("model_version")
    serializer_class = DeploymentSerializer
    filterset_fields = ["status", "model_version"]
    upload_field = "image"  # the multipart field whose files the error handler names

    @extend_schema(
        request={
            "application/json": PredictJSONRequestSerializer,
            "multipart/form-data": OpenApiRequest(PredictMultipartRequestSerializer,
                                                  encoding={"image": {"contentType": "image/*"}}),
        },
        parameters=[OpenApiParameter(name, {"type": "integer" if kind is int else "number", "minimum": low,
                                            "maximum": high}, description=f"as the body field {name} (which wins)")
                    for name, (kind, low, high) in PREDICT_OPTIONS.items()],
        responses={200: PredictResponseSerializer,
                   409: problem("The deployment is not ready: pending, failed or stopped (deployment_not_ready)")},
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, parsers.MultiPartParser])
    def predict(self, request, pk=None):
        deployment = services.ready_deployment(request.user, pk)
        if deployment is None:
            raise NotFound("No Deployment matches the given query.")  # as retrieve and stop say
        options = read_options(request.data, request.query_params)  # checked before any image is read
        errors = {}
        multipart = request.content_type.startswith("multipart/")
        if multipart:
            raw = []
            for index, upload in enumerate(request.FILES.getlist("image")):
                too_big = upload.size > settings.MAX_PREDICT_IMAGE_BYTES  # checked before reading it into memory
                if too_big:
                    errors[str(index)] = [f"image is {upload.size} bytes; the limit is {settings.MAX_PREDICT_IMAGE_BYTES}"]
                raw.append(None if too_big else upload.read())
        else:
            items = request.data.get("images") if hasattr(request.data, "get") else None
            if not isinstance(items, list):
                raise Invalid({"images": ["send a JSON list of base64 strings, or multipart 'image' files"]})
            raw, errors = services.decode_base64(items)
        # Errors name the field the client sent: multipart `image`, or JSON `images`.
        client_gone = client_gone_check(request.META.get("gunicorn.socket"))
        predictions = services.predict(deployment, raw, errors, "image" if multipart else "images", client_gone,
                                       options)
        return Response({"predictions": predictions})

    @extend_schema(request=None, responses={200: DeploymentSerializer})
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        return Response(DeploymentSerializer(services.stop(self.get_object())).data)
