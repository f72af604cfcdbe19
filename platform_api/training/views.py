from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from platform_api.http.views import OwnedQuerysetMixin, conditional_json
from platform_api.http.openapi import problem
from platform_api.training import services
from platform_api.training.loss_history import loss_series
from platform_api.training.queries import status_body
from platform_api.training.models import Job
from platform_api.training.serializers import (
    JobEstimateRequestSerializer,
    JobEstimateSerializer,
    JobSerializer,
    JobSubmitSerializer,
    LossSeriesSerializer,
    MetricsEntrySerializer,
)


class JobViewSet(OwnedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Job.objects.select_related("model_version")
    serializer_class = JobSerializer
    filterset_fields = ["status", "template", "dataset"]

    @extend_schema(request={"application/json": JobSubmitSerializer}, responses={201: JobSerializer})
    def create(self, request):
        submit = JobSubmitSerializer(data=request.data)
        submit.is_valid(raise_exception=True)
        data = submit.validated_data
        job = services.submit_job(request.user, data["template"], data["dataset"], data["hyperparameters"],
                                  data["name"], data["precision"], data["devices"])
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(request={"application/json": JobEstimateRequestSerializer}, responses={200: JobEstimateSerializer})
    @action(detail=False, methods=["post"], pagination_class=None, filterset_fields=[])
    def estimate(self, request):
        """What the job would cost: its optimizer steps on the dataset and a rough time from the
        workers' measured speed. Checked as a submission is (the same 400s); nothing is queued."""
        body = JobEstimateRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        return Response(services.estimate_job(request.user, data["template"], data["dataset"], data["hyperparameters"],
                                              data["precision"], data["devices"]))

    @extend_schema(
        parameters=[
            OpenApiParameter("If-None-Match", OpenApiTypes.STR, OpenApiParameter.HEADER,
                             description="the ETag of the answer you have: 304 while the job is unchanged"),
            OpenApiParameter("ETag", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200, 304],
                             description="changes whenever the job does"),
        ],
        responses={200: JobSerializer, 304: OpenApiResponse(description="Not Modified: the job is as your ETag says")},
    )
    def retrieve(self, request, pk=None):
        """The status poll: one lean query, and 304 Not Modified for an If-None-Match that
        matches the ETag of an unchanged job."""
        found = status_body(request.user.pk, pk)
        if found is None:
            raise NotFound()
        return conditional_json(request, *found)

    @extend_schema(request=None, responses={200: JobSerializer, 409: problem("The job has already ended (job_ended)")})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return Response(JobSerializer(services.cancel_job(self.get_object())).data)

    @extend_schema(responses={
        204: None,
        409: problem("Kept: still queued or running (job_not_ended), or its model exists (job_has_model)"),
    })
    def destroy(self, request, pk=None):
        """Deletes an ended job with its metrics and loss history."""
        if not services.delete_job(self.get_object()):
            raise NotFound()  # a concurrent delete removed it after get_object found it
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: MetricsEntrySerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_fields=[])
    def metrics(self, request, pk=None):
        job = self.get_object()
        return Response(MetricsEntrySerializer(job.metrics_history.all(), many=True).data)

    @extend_schema(responses={200: LossSeriesSerializer})
    @action(detail=True, methods=["get"], url_path="metrics/loss", pagination_class=None, filterset_fields=[])
    def loss(self, request, pk=None):
        """The training loss the job's fit has reported so far (the loss curve)."""
        return Response(loss_series(self.get_object().pk))


_drf_job_detail = JobViewSet.as_view({"get": "retrieve", "delete": "destroy"})


@csrf_exempt  # as DRF's own views are; the DRF view below enforces what applies
def job_detail(request, pk: int):
    """GET /api/v1/jobs/{id}/, the status poll clients repeat, without DRF's dispatch: the
    viewset's own authentication and permission classes, then the same lean read and
    body as JobViewSet.retrieve. Anything else (another method, no or bad credentials, a
    missing job) goes to the DRF view, which answers exactly as it always has."""
    if request.method == "GET":
        user = _permitted_user(request)
        found = status_body(user.pk, pk) if user is not None else None
        if found is not None:
            return conditional_json(request, *found)
    return _drf_job_detail(request, pk=pk)


def _permitted_user(request):
    drf_request = Request(request, authenticators=[auth() for auth in JobViewSet.authentication_classes])
    try:
        if all(permission().has_permission(drf_request, None) for permission in JobViewSet.permission_classes):
            return drf_request.user
    except APIException:  # bad credentials: the DRF view words the refusal
        pass
    return None
