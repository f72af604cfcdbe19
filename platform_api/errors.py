"""API errors: JSON bodies a person can act on, also for paths no view matched."""
from django.http import JsonResponse
from django.views import defaults
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    return drf_exception_handler(exc, context)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": f"no such endpoint: {request.method} {request.path}"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse({"detail": "internal server error; the server log has the details"}, status=500)
    return defaults.server_error(request)
