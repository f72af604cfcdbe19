"""Only the routes this domain owns, so its tests do not depend on every other app's
views importing cleanly. test_templates_api checks the real ROOT_URLCONF wiring too."""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("templates_registry.urls")),
]
