from rest_framework.routers import SimpleRouter

from templates_registry.api import TemplateViewSet

router = SimpleRouter()
router.register("templates", TemplateViewSet, basename="template")

urlpatterns = router.urls
