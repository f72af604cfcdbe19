"""The REST front: what clarifai-grpc's JSON channel sends, read the way it was written.

Routes come from each RPC's `google.api.http` rules (the channel builds its URLs from the
same rules). A body is the request message as snake_case proto JSON; a GET carries the
fields left after the path as a flattened query (`?user_app_id.app_id=main&page=2`).
Bodies are read and answers written with clarifai-grpc's own converters, so Clarifai's
field options hold both ways (an absent `Concept.value` means 1, a concept's 0.0 is sent).
Every answer is JSON with a `status`, whatever goes wrong; the HTTP status only helps curl.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from functools import cache

from clarifai_grpc.channel.custom_converters.custom_dict_to_message import dict_to_protobuf
from clarifai_grpc.channel.custom_converters.custom_message_to_dict import protobuf_to_dict
from clarifai_grpc.grpc.api.service_pb2 import _V2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from clarifai_grpc.grpc.api.status.status_pb2 import BaseResponse, Status
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.json_format import ParseError
from google.protobuf.message import Message

from platform_api.clarifai.dispatch import call, key_from, request_class
from platform_api.clarifai.status import http_status, internal_error

log = logging.getLogger(__name__)
VARIABLE = re.compile(r"^\{([^}]+)\}$")


@dataclass(frozen=True)
class Route:
    rpc: str
    method: str
    pattern: re.Pattern
    fields: tuple[str, ...]  # the dotted request field each path variable fills, in order
    literals: int  # literal segments: /models/types beats /models/{model_id}


@cache
def routes() -> tuple[Route, ...]:
    found = []
    for method in _V2.methods:
        for option, rule in method.GetOptions().ListFields():
            if option.name != "http":
                continue
            for binding in [rule, *rule.additional_bindings]:
                verb = binding.WhichOneof("pattern")
                if verb in ("get", "post", "put", "patch", "delete"):
                    found.append(_route(method.name, verb.upper(), getattr(binding, verb)))
    return tuple(sorted(found, key=lambda route: -route.literals))


def _route(rpc: str, method: str, template: str) -> Route:
    parts, fields, literals = [], [], 0
    for segment in template.strip("/").split("/"):
        variable = VARIABLE.match(segment)
        if variable:
            fields.append(variable.group(1))
            parts.append("([^/]+)")
        else:
            literals += 1
            parts.append(re.escape(segment))
    return Route(rpc, method, re.compile("^/" + "/".join(parts) + "$"), tuple(fields), literals)


def match(method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
    """(route, path fields, whether the path exists for another method)."""
    other_method = False
    for route in routes():
        found = route.pattern.match(path)
        if found is None:
            continue
        if route.method == method:
            return route, dict(zip(route.fields, found.groups())), False
        other_method = True
    return None, {}, other_method


@csrf_exempt
def endpoint(request, path: str = ""):
    try:
        return _serve(request)
    except Exception:  # the clients cannot read Django's HTML error page: answer a status
        log.exception("Clarifai REST %s %s failed", request.method, request.path)
        return _answer(BaseResponse(status=internal_error()))


def _serve(request) -> JsonResponse:
    route, path_fields, other_method = match(request.method, request.path_info)
    if route is None:
        if other_method:
            return _invalid(f"{request.method} is not allowed on {request.path}", 405)
        return _invalid(f"no such endpoint: {request.method} {request.path}", 404)
    try:
        message = _request_message(route.rpc, request, path_fields)
    except (ValueError, TypeError, ParseError, RequestDataTooBig) as exc:
        return _invalid(f"cannot read the request: {exc}", 400)
    return _answer(call(route.rpc, message, key_from(request.headers.get("Authorization"))))


def _invalid(details: str, http: int) -> JsonResponse:
    status = Status(code=codes.CONN_INVALID_REQUEST, description="Invalid request", details=details)
    return _answer(BaseResponse(status=status), http)


def _answer(response: Message, http: int | None = None) -> JsonResponse:
    body = protobuf_to_dict(response, use_integers_for_enums=True, ignore_show_empty=False)
    return JsonResponse(body, status=http or http_status(response.status.code))


def _request_message(rpc: str, request, path_fields: dict[str, str]) -> Message:
    message_class = request_class(rpc)
    if request.method == "GET":
        values = _from_query(message_class.DESCRIPTOR, request.GET)
    else:
        values = json.loads(request.body or b"{}")
        if not isinstance(values, dict):
            raise ValueError("the body must be a JSON object")
    for dotted, value in path_fields.items():
        _put(values, dotted.split("."), value)
    return dict_to_protobuf(message_class, values, ignore_unknown_fields=False)


def _from_query(descriptor, query) -> dict:
    values: dict = {}
    for dotted in query:
        names, field, current = dotted.split("."), None, descriptor
        for name in names:
            if current is None or name not in current.fields_by_name:
                raise ValueError(f"unknown query parameter {dotted!r}")
            field = current.fields_by_name[name]
            current = field.message_type
        items = [_scalar(field, text) for text in query.getlist(dotted)]
        _put(values, names, items if field.is_repeated else items[-1])
    return values


def _scalar(field: FieldDescriptor, text: str):
    """A query value as its field's JSON value (the channel writes Python's str() of it)."""
    if field.type == FieldDescriptor.TYPE_BOOL:
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"{field.name} must be true or false, got {text!r}")
        return text.lower() in ("true", "1")
    if field.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return float(text)
    if field.cpp_type in (FieldDescriptor.CPPTYPE_INT32, FieldDescriptor.CPPTYPE_INT64,
                          FieldDescriptor.CPPTYPE_UINT32, FieldDescriptor.CPPTYPE_UINT64):
        return int(text)
    return text


def _put(values: dict, names: list[str], value) -> None:
    for name in names[:-1]:
        values = values.setdefault(name, {})
        if not isinstance(values, dict):
            raise ValueError(f"{name} is not an object")
    values[names[-1]] = value
