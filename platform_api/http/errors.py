"""API errors: one body shape, made here, never by hand in views.

- validation: `{field: [messages]}` (DRF's serializers, `problems.Invalid`, a template's
  hyperparameter errors), with its status (400, or 413 for an upload over its limit);
- everything else: `{"detail": message, "code": machine-readable code}` (401, 403, 404,
  405, 409 `problems.Conflict`, 413, 415, 503 `problems.Unavailable` with Retry-After, ...),
  also for paths no view matched, for Django's own refusals of a request (its upload limits,
  a bad Host) and for crashes.

Every answer under an API prefix is JSON; other paths (admin) keep Django's pages. A request
that meets the database down (a restart, a failover) answers 503 `database_unavailable` with
Retry-After instead of 500 (DatabaseOutageMiddleware), so clients retry. A request
whose client has gone (`problems.ClientGone`) is logged as 499, with no body. The two
serializers at the end describe these shapes for the OpenAPI document (platform_api/http/openapi.py).
"""
import logging

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from platform_api.work.db_outage import OUTAGE
from platform_api.problems import ClientGone, Conflict, Invalid, Unavailable
from training_templates.hyperparameter_specs import HyperparameterErrors

log = logging.getLogger(__name__)


API_PREFIXES = ("/api/", "/v2/")

CLIENT_CLOSED_REQUEST = 499  # nginx's status for a request whose client went away


def exception_handler(exc, context):
    refused = django_refusal(exc, getattr(context.get("view"), "upload_field", None))
    if refused is not None:
        return Response(*refused)
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


def django_refusal(exc, upload_field: str | None = None) -> tuple[dict, int] | None:
    """(body, status) for a request Django itself refused while reading it: its limits on
    body size, files and fields (settings.DATA_UPLOAD_*), and the other SuspiciousOperations
    and BadRequests (a Host outside ALLOWED_HOSTS, ...). None for any other exception.

    `upload_field` is the multipart field that carries the view's files, if it takes any:
    too many files is that field's error."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return {"detail": f"the request body (uploaded files aside) is larger than the limit of {limit} bytes",
                "code": "request_too_large"}, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    if isinstance(exc, TooManyFilesSent):
        message = f"at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files per request"
        if upload_field:
            return {upload_field: [message]}, status.HTTP_400_BAD_REQUEST
        return {"detail": message, "code": "too_many_files"}, status.HTTP_400_BAD_REQUEST
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return {"detail": f"more than {limit} fields (form fields or query parameters) in one request",
                "code": "too_many_fields"}, status.HTTP_400_BAD_REQUEST
    if isinstance(exc, (SuspiciousOperation, BadRequest)):
        # Django's own words (the security log has them) can name server settings: not echoed.
        return {"detail": "the request is malformed or was refused as unsafe",
                "code": "bad_request"}, status.HTTP_400_BAD_REQUEST
    return None


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIXES)


def bad_request(request, exception):
    if _is_api(request):
        body, status_code = django_refusal(exception) or ({"detail": "bad request", "code": "bad_request"}, 400)
        return JsonResponse(body, status=status_code)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "you do not have permission to perform this action",
                             "code": "permission_denied"}, status=403)
    return defaults.permission_denied(request, exception)


def not_found(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": f"no such endpoint: {request.method} {request.path}", "code": "not_found"},
                            status=404)
    return defaults.page_not_found(request, exception)


# A PostgreSQL restart took about 5 s in the fault suite (README, "Fault suite").
DATABASE_RETRY_AFTER_S = 5


class DatabaseOutageMiddleware:
    """An API view (DRF's or the status poll's fast path) that fails because the database does
    not answer gives a 503 the client can retry, not a 500; the error is logged in full."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not (_is_api(request) and isinstance(exception, OUTAGE)):
            return None
        log.error("database unavailable during %s %s", request.method, request.path, exc_info=exception)
        return JsonResponse({"detail": "the database is not answering (restarting?); retry in a few seconds",
                             "code": "database_unavailable"}, status=503,
                            headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)})


def server_error(request):
    if _is_api(request):
        return JsonResponse({"detail": "internal server error; the server log has the details",
                             "code": "server_error"}, status=500)
    return defaults.server_error(request)


class Problem(serializers.Serializer):
    """A refusal that names no field: `{"detail": "...", "code": "..."}`."""

    detail = serializers.CharField(help_text="what was refused and why, for a person")
    code = serializers.CharField(help_text="machine-readable: not_authenticated, not_found, parse_error, job_ended, ...")


class FieldErrors(serializers.Serializer):
    """`{field: [messages]}`: each refused field with a list of messages a person can act on;
    a field holding several values (hyperparameters, images) nests them by name or position:
    `{"hyperparameters": {"batch_size": ["..."]}}`. Its schema is made in platform_api/http/openapi.py."""
