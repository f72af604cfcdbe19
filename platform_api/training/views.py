from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from platform_api.api import OwnedQuerysetMixin
from platform_api.training import services
from platform_api.training.models import Job
from platform_api.training.serializers import JobSerializer, JobSubmitSerializer, MetricsEntrySerializer


class JobViewSet(OwnedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Job.objects.select_related("model_version")
    serializer_class = JobSerializer
    filterset_fields = ["status", "template", "dataset"]

    @extend_schema(request=JobSubmitSerializer, responses={201: JobSerializer})
    def create(self, request):
        submit = JobSubmitSerializer(data=request.data)
        submit.is_valid(raise_exception=True)
        try:
            data = submit.validated_data
            job = services.submit_job(request.user, data["template"], data["dataset"], data["hyperparameters"],
                                      data["name"], data["precision"])
        except services.JobRejected as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: JobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        try:
            job = services.cancel_job(self.get_object())
        except services.JobAlreadyEnded as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(JobSerializer(job).data)

    @extend_schema(responses={200: MetricsEntrySerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_fields=[])
    def metrics(self, request, pk=None):
        job = self.get_object()
        return Response(MetricsEntrySerializer(job.metrics_history.all(), many=True).data)
