from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from platform_api.datasets.views import DatasetViewSet
from platform_api.deployments.views import DeploymentViewSet
from platform_api.registry.views import ModelVersionViewSet, PretrainedWeightsViewSet
from platform_api.training.views import JobViewSet, job_detail

router = DefaultRouter()
router.register("datasets", DatasetViewSet, basename="dataset")
router.register("jobs", JobViewSet, basename="job")
router.register("models", ModelVersionViewSet, basename="model")
router.register("weights", PretrainedWeightsViewSet, basename="weights")
router.register("deployments", DeploymentViewSet, basename="deployment")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/jobs/<int:pk>/", job_detail),  # the status poll's fast path, before the router
    path("api/v1/", include("templates_registry.urls")),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("v2/", include("platform_api.clarifai.urls")),  # the Clarifai v2 API (REST; gRPC: manage.py grpc_server)
]

# Unmatched /api/ paths and crashes answer JSON like every other API error.
handler404 = "platform_api.errors.not_found"
handler500 = "platform_api.errors.server_error"
