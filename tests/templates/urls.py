"""Only the routes this domain owns, so its tests do not depend on every other app's
views importing cleanly. test_templates_api checks the real ROOT_URLCONF wiring too."""
from django.contrib import admin
from django.urls import include, path
from rest_framework.routers import SimpleRouter

from platform_api.template_api import TemplateViewSet

router = SimpleRouter()
router.register("templates", TemplateViewSet, basename="template")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
]
