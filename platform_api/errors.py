"""API errors: one body shape, made here, never by hand in views.

- validation: `{field: [messages]}` (DRF's serializers, `problems.Invalid`, a template's
  hyperparameter errors), with its status (400, or 413 for an upload over its limit);
- everything else: `{"detail": message, "code": machine-readable code}` (401, 403, 404,
  405, 409 `problems.Conflict`, 415, 503 `problems.Unavailable` with Retry-After, ...), also
  for paths no view matched and for crashes.

A request whose client has gone (`problems.ClientGone`) is logged as 499, with no body.
"""
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from platform_api.problems import ClientGone, Conflict, Invalid, Unavailable
from templates_registry.hyperparams import HyperparameterErrors

CLIENT_CLOSED_REQUEST = 499  # nginx's status for a request whose client went away


def exception_handler(exc, context):
    if isinstance(exc, Invalid):
        return Response(exc.errors, status=exc.status)
    if isinstance(exc, HyperparameterErrors):
        return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Conflict):
        return Response({"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, Unavailable):
        return Response({"detail": exc.message, "code": exc.code}, status=status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": str(exc.retry_after)})
    if isinstance(exc, ClientGone):
        return Response(status=CLIENT_CLOSED_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        if not isinstance(response.data, dict):  # ValidationError("...") names no field
            response.data = {"non_field_errors": response.data}
    elif isinstance(response.data, dict) and "detail" in response.data:
        detail = response.data["detail"]
        response.data = {"detail": str(detail), "code": getattr(detail, "code", None) or exc.default_code}
    return response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": f"no such endpoint: {request.method} {request.path}", "code": "not_found"},
                            status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse({"detail": "internal server error; the server log has the details",
                             "code": "server_error"}, status=500)
    return defaults.server_error(request)
