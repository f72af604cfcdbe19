from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiRequest, OpenApiResponse, extend_schema
from rest_framework import mixins, parsers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.response import Response

from platform_api.http.views import OwnedQuerysetMixin
from platform_api.datasets import contents, services
from platform_api.http.openapi import problem
from platform_api.http.parsers import JSONParser
from platform_api.datasets.models import Dataset
from platform_api.datasets.serializers import DatasetSerializer, DatasetSummarySerializer, DatasetUploadSerializer


class DatasetViewSet(
    OwnedQuerysetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Dataset.objects.all()
    serializer_class = DatasetSerializer
    parser_classes = [parsers.MultiPartParser, JSONParser]
    upload_field = "archive"  # the multipart field whose files the error handler names
    filterset_fields = ["status", "format", "task"]

    @extend_schema(
        request={"multipart/form-data": OpenApiRequest(DatasetUploadSerializer,
                                                       encoding={"archive": {"contentType": "application/zip"}})},
        responses={201: DatasetSerializer},
    )
    def create(self, request):
        # Refuse an oversized upload from its header, before the body is read to disk.
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise ParseError(f"Content-Length must be a number, got {request.META.get('CONTENT_LENGTH')!r}") from None
        slack = 1024 * 1024  # multipart headers and the other fields
        if declared > settings.MAX_DATASET_UPLOAD_BYTES + slack:
            message = f"upload of {declared} bytes is larger than the limit of {settings.MAX_DATASET_UPLOAD_BYTES} bytes"
            raise services.UploadRejected("archive", message, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        upload = DatasetUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        archive = upload.validated_data["archive"]
        dataset = services.create_dataset(
            request.user,
            upload.validated_data["name"],
            upload.validated_data["format"],
            Path(archive.temporary_file_path()),
            archive.size,
        )
        return Response(DatasetSerializer(dataset).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={
        204: None,
        409: problem("Kept: still importing (dataset_busy), or jobs trained on it (dataset_in_use)"),
    })
    def destroy(self, request, *args, **kwargs):
        if not services.delete_dataset(self.get_object()):
            raise NotFound()  # a concurrent delete removed it after get_object found it
        return Response(status=status.HTTP_204_NO_CONTENT)


    @extend_schema(responses={200: DatasetSummarySerializer})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_fields=[])
    def summary(self, request, pk=None):
        """Per-split, per-class counts and sample images of a ready dataset (409 before)."""
        return Response(contents.summary(self.get_object()))

    @extend_schema(responses={(200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY)})
    @action(detail=True, methods=["get"], url_path=r"samples/(?P<split>[a-z]+)/(?P<index>[0-9]+)",
            pagination_class=None, filterset_fields=[])
    def sample(self, request, pk=None, split=None, index=None):
        """A thumbnail (JPEG) of the split's index-th image, masks drawn for segmentation."""
        thumbnail = contents.sample_thumbnail(self.get_object(), split, int(index))
        if thumbnail is None:
            raise NotFound(f"no sample {index} in split {split!r}")
        # An import's files never change: the browser may keep the picture.
        return HttpResponse(thumbnail, content_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})
