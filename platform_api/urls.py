from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from platform_api.datasets.views import DatasetViewSet
from platform_api.deployments.views import DeploymentViewSet, ModelDeployViewSet
from platform_api.registry.views import ModelVersionViewSet, PretrainedWeightsViewSet
from platform_api.studies.views import StudyViewSet
from platform_api.training.views import JobViewSet, job_detail
from platform_api.template_api import TemplateViewSet

admin.site.site_header = admin.site.site_title = "Training platform administration"
admin.site.index_title = "Templates, and every user's datasets, jobs, models and deployments"

router = DefaultRouter()
router.register("templates", TemplateViewSet, basename="template")  # listed in the API root too
router.register("datasets", DatasetViewSet, basename="dataset")
router.register("jobs", JobViewSet, basename="job")
router.register("studies", StudyViewSet, basename="study")
router.register("models", ModelVersionViewSet, basename="model")
router.register("models", ModelDeployViewSet, basename="model-deploy")  # /models/{id}/deploy/
router.register("weights", PretrainedWeightsViewSet, basename="weights")
router.register("deployments", DeploymentViewSet, basename="deployment")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/jobs/<int:pk>/", job_detail),  # the status poll's fast path, before the router
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("v2/", include("platform_api.clarifai.urls")),  # the Clarifai v2 API (REST; gRPC: manage.py grpc_server)
    # drf-spectacular's page asks a font service for ReDoc's fonts; this one does not.
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema", template_name="console/redoc.html"),
         name="redoc"),
    path("", include("platform_api.console.urls")),
]

# Under /api/, Django's own refusals, unmatched paths and crashes answer JSON like every
# other API error.
handler400 = "platform_api.http.errors.bad_request"
handler403 = "platform_api.http.errors.permission_denied"
handler404 = "platform_api.http.errors.not_found"
handler500 = "platform_api.http.errors.server_error"
