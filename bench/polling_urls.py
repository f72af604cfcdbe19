from django.http import JsonResponse
from django.urls import include, path


def bare_json(request):
    return JsonResponse({"status": "running", "progress": {"percent": 42.0}})


urlpatterns = [
    path("bare/", bare_json),
    path("", include("platform_api.urls")),
]
