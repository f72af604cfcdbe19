"""The OpenAPI document's refusals: every operation lists the error answers it can give.

The exception handler (platform_api/http/errors.py) makes two body shapes, described once here as
components (`Problem`, `FieldErrors`, and `Refusal`, either of them) and referenced by each
operation for the statuses that apply to it:
- 400 where the request carries query parameters or a body (a field's error, a malformed
  body, too many fields);
- 401 where a token is required; 404 where the path names an object;
- 413 and 415 where the operation reads a body.
Statuses only some operations give (403, 409, 304) are declared on their views with
`extend_schema`; 405 answers methods an operation does not document, so no operation lists it.
"""
from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer

from platform_api.http.errors import FieldErrors, Problem

FIELD_ERRORS_REF = {"$ref": "#/components/schemas/FieldErrors"}

REFUSAL = PolymorphicProxySerializer(
    component_name="Refusal", serializers=[FieldErrors, Problem], resource_type_field_name=None,
)


def problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(Problem, description=description)


BAD_REQUEST = OpenApiResponse(
    REFUSAL, description="Refused: `{field: [messages]}` for values it cannot take (the query's "
                         "filters and pages, the body's fields); `{detail, code}` for a malformed body "
                         "(parse_error) or too many fields (too_many_fields)")
NOT_AUTHENTICATED = problem("No token, or not a valid one (not_authenticated, authentication_failed)")
NOT_FOUND = problem("No such object, or another user's (not_found)")
TOO_LARGE = OpenApiResponse(
    REFUSAL, description="The body is over its limit: `{detail, code}` (request_too_large) for a JSON "
                         "body, `{field: [message]}` for an uploaded file")
UNSUPPORTED_MEDIA_TYPE = problem("A Content-Type this operation does not read (unsupported_media_type)")


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status, response in self._refusals().items():
            responses.setdefault(status, self._get_response_for_code(response, status, direction=direction))
        return responses

    def _refusals(self) -> dict[str, OpenApiResponse]:
        reads_body = self._get_request_body() is not None
        takes_query = any(parameter["in"] == "query" for parameter in self._get_parameters())
        auth = self.get_auth()
        refusals = {}
        if reads_body or takes_query:
            refusals["400"] = BAD_REQUEST
        if auth and {} not in auth:  # {} would make the token optional
            refusals["401"] = NOT_AUTHENTICATED
        if "{" in self.path:
            refusals["404"] = NOT_FOUND
        if reads_body:
            refusals["413"] = TOO_LARGE
            refusals["415"] = UNSUPPORTED_MEDIA_TYPE
        return refusals


class FieldErrorsExtension(OpenApiSerializerExtension):
    """`{field: [messages]}`, where a field of several values nests its errors by name or position."""

    target_class = FieldErrors

    def map_serializer(self, auto_schema, direction):
        messages = {"type": "array", "items": {"type": "string"}}
        return {
            "type": "object",
            "description": "Each refused field with its messages; a field of several values (hyperparameters, "
                           "images) nests them by name or position: "
                           '`{"hyperparameters": {"batch_size": ["..."]}}`',
            "minProperties": 1,
            "additionalProperties": {"anyOf": [messages, FIELD_ERRORS_REF]},
        }
