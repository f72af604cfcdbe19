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
from platform_api.datasets.models import Dataset
from platform_api.registry import evaluations, exports, services
from trainers.export import FORMATS as EXPORT_FORMATS
from platform_api.registry.models import Evaluation, ModelVersion, PretrainedWeights
from platform_api.registry.serializers import (EvaluationRequestSerializer, EvaluationSerializer, ModelVersionSerializer,
                                               PretrainedWeightsSerializer, WeightsUploadSerializer)
from trainers.core import EVALUATION_SPLITS

EXPORT_FORMAT = OpenApiParameter("format", str, enum=list(EXPORT_FORMATS), required=True)


class ModelVersionViewSet(OwnedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = ModelVersion.objects.select_related("dataset").prefetch_related("exports")
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


    # --- evaluation: the model's own report, and evaluations on other datasets --------------

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: problem("The model has no report (no_report)")})
    @action(detail=True, methods=["get"])
    def evaluation(self, request, pk=None):
        """The report on the model's own evaluation split, made as its job ended: `metrics` (named as
        the job's), `per_class` (with `average_precision` and `pr_curve` {precision, recall,
        thresholds}), the task's other curves and tables, and where its worst examples are."""
        model_version = self.get_object()
        return Response(_report_body(request, model_version, f"models/{model_version.pk}/evaluation"))

    @extend_schema(parameters=[OpenApiParameter("kind", str, enum=["misclassified", "worst_iou"])],
                   responses={200: OpenApiTypes.OBJECT, 404: problem("The model has no report, or keeps another kind")})
    @action(detail=True, methods=["get"], url_path="evaluation/examples")
    def evaluation_examples(self, request, pk=None):
        """The images the model got most wrong: misclassified ones by confidence (classification),
        or the worst mask IoU first with their missed and false instances (segmentation)."""
        model_version = self.get_object()
        return Response(_examples_body(request, model_version, f"models/{model_version.pk}/evaluation"))

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 404: problem("No such example")})
    @action(detail=True, methods=["get"], url_path=r"evaluation/examples/(?P<name>[^/]+)",
            content_negotiation_class=IgnoreFormatParameter)
    def evaluation_example(self, request, pk=None, name=None):
        """One example's picture (JPEG), masks drawn over it for segmentation."""
        return _example_picture(self.get_object(), name)

    @extend_schema(methods=["GET"], responses={200: EvaluationSerializer(many=True)})
    @extend_schema(methods=["POST"], request=EvaluationRequestSerializer,
                   responses={202: EvaluationSerializer, 404: problem("Not your model or dataset")})
    @action(detail=True, methods=["get", "post"])
    def evaluations(self, request, pk=None):
        """POST: scores the model on a split of a dataset of its task, in a runtime, as background
        work; answers 202 with the evaluation to poll. GET: the model's evaluations, newest first."""
        model_version = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(model_version.evaluations.all())
            return self.get_paginated_response(EvaluationSerializer(page, many=True).data)
        body = EvaluationRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        dataset = Dataset.objects.filter(owner=request.user, pk=body.validated_data["dataset"]).first()
        if dataset is None:
            raise NotFound(f"dataset {body.validated_data['dataset']} not found")
        split = body.validated_data.get("split") or next(
            (name for name in EVALUATION_SPLITS if (dataset.splits or {}).get(name)), "")
        evaluation = evaluations.request_evaluation(model_version, dataset, split, body.validated_data["runtime"])
        return Response(EvaluationSerializer(evaluation).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: EvaluationSerializer, 404: problem("Not found")})
    @action(detail=True, methods=["get"], url_path=r"evaluations/(?P<evaluation_id>\d+)")
    def evaluation_detail(self, request, pk=None, evaluation_id=None):
        """The evaluation's `status` (queued|running|succeeded|failed), `metrics` and, once it has
        succeeded, its `report` (as GET .../evaluation/ gives the model's own)."""
        evaluation = self._evaluation(evaluation_id)
        body = EvaluationSerializer(evaluation).data
        body["report"] = (_report_body(request, evaluation, self._evaluation_path(evaluation))
                          if evaluation.status == Evaluation.Status.SUCCEEDED else None)
        return Response(body)

    @extend_schema(parameters=[OpenApiParameter("kind", str, enum=["misclassified", "worst_iou"])],
                   responses={200: OpenApiTypes.OBJECT, 404: problem("Not found, or no report yet")})
    @action(detail=True, methods=["get"], url_path=r"evaluations/(?P<evaluation_id>\d+)/examples")
    def evaluation_detail_examples(self, request, pk=None, evaluation_id=None):
        evaluation = self._evaluation(evaluation_id)
        return Response(_examples_body(request, evaluation, self._evaluation_path(evaluation)))

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 404: problem("No such example")})
    @action(detail=True, methods=["get"], url_path=r"evaluations/(?P<evaluation_id>\d+)/examples/(?P<name>[^/]+)",
            content_negotiation_class=IgnoreFormatParameter)
    def evaluation_detail_example(self, request, pk=None, evaluation_id=None, name=None):
        return _example_picture(self._evaluation(evaluation_id), name)

    def _evaluation(self, evaluation_id) -> Evaluation:
        evaluation = self.get_object().evaluations.filter(pk=evaluation_id).first()
        if evaluation is None:
            raise NotFound(f"model {self.kwargs['pk']} has no evaluation {evaluation_id}")
        return evaluation

    @staticmethod
    def _evaluation_path(evaluation: Evaluation) -> str:
        return f"models/{evaluation.model_version_id}/evaluations/{evaluation.pk}"


def _read_report(owner) -> dict:
    try:
        return evaluations.read_report(owner)
    except evaluations.NoReport as exc:
        raise NotFound(str(exc)) from None


def _report_body(request, owner, path: str) -> dict:
    """The stored report, its example pictures replaced by where to list them."""
    report = _read_report(owner)
    examples = report.pop("examples")
    report["examples"] = {"kind": examples["kind"], "count": examples["count"],
                          "url": request.build_absolute_uri(f"/api/v1/{path}/examples/?kind={examples['kind']}")}
    return report


def _examples_body(request, owner, path: str) -> dict:
    examples = _read_report(owner)["examples"]
    kind = request.query_params.get("kind")
    if kind is not None and kind != examples["kind"]:
        raise NotFound(f"this evaluation keeps {examples['kind']} examples, not {kind!r}")
    items = [{**item, "url": request.build_absolute_uri(f"/api/v1/{path}/examples/{item['file']}/")}
             for item in examples["items"]]
    return {"kind": examples["kind"], "count": examples["count"], "items": items}


def _example_picture(owner, name: str) -> FileResponse:
    try:
        path = evaluations.example_file(owner, name)
    except evaluations.NoReport as exc:
        raise NotFound(str(exc)) from None
    if path is None:
        raise NotFound(f"the report has no example {name!r}")
    return FileResponse(open(path, "rb"), content_type="image/jpeg")


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
