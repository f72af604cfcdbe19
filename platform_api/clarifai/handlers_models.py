"""RPC handlers for model types, models, model versions (training) and predictions."""
from __future__ import annotations

from clarifai_grpc.grpc.api import service_pb2 as api
from clarifai_grpc.grpc.api.status.status_pb2 import BaseResponse
from google.protobuf.json_format import MessageToDict

from platform_api.clarifai import concepts, model_types, models_service, namespace, predictions
from platform_api.clarifai.handlers_data import app_of
from platform_api.clarifai.input_checks import NO_URLS
from platform_api.clarifai.model_messages import model_message, model_type_message, model_version_message, output_message
from platform_api.clarifai.models import ClarifaiModel
from platform_api.clarifai.problems import NotTrained, Untrained
from platform_api.problems import Invalid


# ---------------------------------------------------------------- model types

def list_model_types(user, request: api.ListModelTypesRequest) -> api.MultiModelTypeResponse:
    app_of(user, request)
    return api.MultiModelTypeResponse(model_types=[
        model_type_message(model_type, model_types.offered_templates(model_type))
        for model_type in model_types.MODEL_TYPES.values()])


def get_model_type(user, request: api.GetModelTypeRequest) -> api.SingleModelTypeResponse:
    app_of(user, request)
    model_type = model_types.model_type(request.model_type_id)
    return api.SingleModelTypeResponse(model_type=model_type_message(model_type, model_types.offered_templates(model_type)))


# ---------------------------------------------------------------- models

def post_models(user, request: api.PostModelsRequest) -> api.SingleModelResponse:
    app = app_of(user, request)
    asked = list(request.models) or ([request.model] if request.HasField("model") else [])
    if len(asked) != 1:
        raise Invalid({"models": [f"send one model, got {len(asked)}"]})
    model = asked[0]
    created = models_service.create_model(app, model.id, model.name, model.model_type_id, model.description)
    return api.SingleModelResponse(model=model_message(created, None))


def model_of(user, request) -> ClarifaiModel:
    return models_service.get_model(app_of(user, request), request.model_id)


def get_model(user, request: api.GetModelRequest) -> api.SingleModelResponse:
    """Without a version id, the model with its latest version (the SDK's training_status()
    reads the status of the version it trains from here)."""
    model = model_of(user, request)
    version = (models_service.get_version(model, request.version_id) if request.version_id
               else models_service.latest_version(model))
    return api.SingleModelResponse(model=model_message(model, version))


def list_models(user, request: api.ListModelsRequest) -> api.MultiModelResponse:
    rows = ClarifaiModel.objects.filter(app=app_of(user, request)).select_related("app__owner")
    if request.model_type_id:
        rows = rows.filter(model_type_id=request.model_type_id)
    return api.MultiModelResponse(models=[model_message(m, models_service.latest_version(m))
                                          for m in namespace.page_of(rows, request.page, request.per_page)])


# ---------------------------------------------------------------- versions

def post_model_versions(user, request: api.PostModelVersionsRequest) -> api.SingleModelResponse:
    model = model_of(user, request)
    if len(request.model_versions) != 1:
        raise Invalid({"model_versions": [f"send one model version, got {len(request.model_versions)}"]})
    asked = request.model_versions[0]
    params = MessageToDict(asked.train_info.params)
    version = models_service.train(model, params, [c.id for c in asked.output_info.data.concepts],
                                   asked.description or request.description, asked.id)
    return api.SingleModelResponse(model=model_message(model, version))


def get_model_version(user, request: api.GetModelVersionRequest) -> api.SingleModelVersionResponse:
    model = model_of(user, request)
    version = models_service.get_version(model, request.version_id)
    return api.SingleModelVersionResponse(model_version=model_version_message(version, concepts.names_of(model.app)))


def list_model_versions(user, request: api.ListModelVersionsRequest) -> api.MultiModelVersionResponse:
    model = model_of(user, request)
    names = concepts.names_of(model.app)
    rows = namespace.page_of(models_service.versions_of(model), request.page, request.per_page)
    return api.MultiModelVersionResponse(model_versions=[model_version_message(v, names) for v in rows])


def delete_model_version(user, request: api.DeleteModelVersionRequest) -> BaseResponse:
    """Idempotent: a version already gone is not an error (its model must exist)."""
    model = model_of(user, request)
    version = models_service.versions_of(model).filter(version_id=request.version_id).first()
    if version is not None:
        models_service.delete_version(version)
    return BaseResponse()


# ---------------------------------------------------------------- predict

def post_model_outputs(user, request: api.PostModelOutputsRequest) -> api.MultiOutputResponse:
    """With a version id that version, else the model's latest trained one."""
    model = model_of(user, request)
    version = (models_service.get_version(model, request.version_id) if request.version_id
               else _latest_trained(model))
    raw = []
    for index, item in enumerate(request.inputs):
        if item.data.image.url and not item.data.image.base64:
            raise Invalid({f"inputs[{index}].data.image.url": [NO_URLS]})
        raw.append(item.data.image.base64)
    images, predicted = predictions.predict(version, raw)
    config = request.model.model_version.output_info.output_config
    wanted = predictions.Selection(config.min_value, config.max_concepts, [c.id for c in config.select_concepts])
    names = concepts.names_of(model.app)
    regions = model_types.model_type(model.model_type_id).output == "regions"
    return api.MultiOutputResponse(outputs=[
        output_message(model, version, item.id, image, wanted.apply(items), names, regions)
        for item, image, items in zip(request.inputs, images, predicted)])


def _latest_trained(model: ClarifaiModel):
    version = models_service.latest_trained_version(model)
    if version is not None:
        return version
    latest = models_service.latest_version(model)
    if latest is None:
        raise Untrained(f"model '{model.model_id}' has no version: train one with PostModelVersions")
    raise NotTrained(latest.job, f"model '{model.model_id}' has no trained version yet; its latest is "
                                 f"'{latest.version_id}': predict once its status is 21100")
