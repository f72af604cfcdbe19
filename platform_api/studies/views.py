from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from platform_api.http.openapi import problem
from platform_api.http.views import OwnedQuerysetMixin
from platform_api.studies import plots, services
from platform_api.studies.models import Study
from platform_api.studies.serializers import (
    StudyCreateSerializer,
    StudyPlotsSerializer,
    StudySerializer,
    TrialSerializer,
)


class StudyViewSet(OwnedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Study.objects.all()
    serializer_class = StudySerializer
    filterset_fields = ["status", "template", "dataset"]

    @extend_schema(request={"application/json": StudyCreateSerializer}, responses={201: StudySerializer})
    def create(self, request):
        """Starts a search over the template's hyperparameters on the dataset: its first
        trials queue at once, each an ordinary job."""
        body = StudyCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        study = services.create_study(request.user, data.pop("template"), data.pop("dataset"), **data)
        return Response(StudySerializer(study).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: StudySerializer, 409: problem("The study has ended (study_ended)")})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Stops the study: its running trials' jobs are cancelled, no trial starts."""
        return Response(StudySerializer(services.cancel_study(self.get_object())).data)

    @extend_schema(responses={200: StudyPlotsSerializer})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_fields=[])
    def plots(self, request, pk=None):
        """Optuna's figures of the study (plotly JSON: `data` and `layout`), null until enough
        trials completed for each."""
        return Response(plots.figures(self.get_object()))

    @extend_schema(responses={200: TrialSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_fields=[])
    def trials(self, request, pk=None):
        study = self.get_object()
        return Response(TrialSerializer(study.trials.select_related("study").order_by("number"), many=True).data)
