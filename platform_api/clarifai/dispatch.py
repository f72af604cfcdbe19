"""The one call path of both fronts (rest.py, grpc_server.py): authenticate the key, run the
RPC's handler, and answer every problem as a status in the RPC's own response message."""
from __future__ import annotations

import logging
from typing import Callable

from clarifai_grpc.grpc.api.service_pb2 import _V2
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from rest_framework.exceptions import AuthenticationFailed

from platform_api.http.auth import CachedTokenAuthentication
from platform_api.clarifai import evaluations
from platform_api.clarifai import handlers_data as data
from platform_api.clarifai import handlers_models as models
from platform_api.clarifai.problems import BadKey, Unimplemented
from platform_api.clarifai.status import internal_error, status_for, success

log = logging.getLogger(__name__)

Handler = Callable[[object, Message], Message]

# The RPCs this platform serves; every other RPC of the V2 service answers NOT_IMPLEMENTED
# (over gRPC: the status UNIMPLEMENTED).
HANDLERS: dict[str, Handler] = {
    "PostApps": data.post_apps,
    "GetApp": data.get_app,
    "ListApps": data.list_apps,
    "PostConcepts": data.post_concepts,
    "GetConcept": data.get_concept,
    "ListConcepts": data.list_concepts,
    "PostInputs": data.post_inputs,
    "GetInput": data.get_input,
    "ListInputs": data.list_inputs,
    "DeleteInput": data.delete_input,
    "DeleteInputs": data.delete_inputs,
    "PostDatasets": data.post_datasets,
    "GetDataset": data.get_dataset,
    "ListDatasets": data.list_datasets,
    "PostDatasetVersions": data.post_dataset_versions,
    "GetDatasetVersion": data.get_dataset_version,
    "ListDatasetVersions": data.list_dataset_versions,
    "ListModelTypes": models.list_model_types,
    "GetModelType": models.get_model_type,
    "PostModels": models.post_models,
    "GetModel": models.get_model,
    "ListModels": models.list_models,
    "PostModelVersions": models.post_model_versions,
    "GetModelVersion": models.get_model_version,
    "ListModelVersions": models.list_model_versions,
    "DeleteModelVersion": models.delete_model_version,
    "PostModelOutputs": models.post_model_outputs,
    "PostModelVersionEvaluations": evaluations.post_model_version_evaluations,
    "GetModelVersionEvaluation": evaluations.get_model_version_evaluation,
    "ListModelVersionEvaluations": evaluations.list_model_version_evaluations,
}

KEY_PREFIX = "Key "
HOW_TO_AUTHENTICATE = ("send the header Authorization: Key <token> (a platform API token: "
                       "python manage.py create_api_token <username>)")


def request_class(rpc: str) -> type[Message]:
    return GetMessageClass(_V2.methods_by_name[rpc].input_type)


def response_class(rpc: str) -> type[Message]:
    return GetMessageClass(_V2.methods_by_name[rpc].output_type)


def key_from(authorization: str | None) -> str | None:
    """The token of an `Authorization: Key <token>` header or gRPC metadata value."""
    if authorization and authorization.startswith(KEY_PREFIX):
        return authorization[len(KEY_PREFIX):].strip() or None
    return None


def call(rpc: str, request: Message, key: str | None) -> Message:
    try:
        user = _authenticate(key)
        handler = HANDLERS.get(rpc)
        if handler is None:
            raise Unimplemented(f"{rpc} is not served by this platform")
        response = handler(user, request)
        if not response.HasField("status"):
            response.status.CopyFrom(success())
        return response
    except Exception as problem:
        status = status_for(problem)
        if status is None:
            log.exception("Clarifai %s failed", rpc)
            status = internal_error()
        return response_class(rpc)(status=status)


def _authenticate(key: str | None):
    if not key:
        raise BadKey(HOW_TO_AUTHENTICATE)
    try:
        user, _ = CachedTokenAuthentication().authenticate_credentials(key)
    except AuthenticationFailed as failed:
        raise BadKey(f"{failed.detail}; {HOW_TO_AUTHENTICATE}") from None
    return user
