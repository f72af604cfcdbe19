"""RPC handlers for apps, concepts, inputs, datasets and dataset versions: each reads its
request message, calls the services, and answers with the response message."""
from __future__ import annotations

from clarifai_grpc.grpc.api import resources_pb2 as pb
from clarifai_grpc.grpc.api import service_pb2 as api
from clarifai_grpc.grpc.api.status.status_pb2 import BaseResponse

from platform_api.clarifai import concepts, datasets, inputs, namespace
from platform_api.clarifai.input_checks import NewInput, NewRegion
from platform_api.clarifai.messages import (
    app_message,
    concept_message,
    dataset_message,
    dataset_version_message,
    input_message,
)
from platform_api.clarifai.models import App, ClarifaiDataset, Concept, Input


def app_of(user, request) -> App:
    return namespace.app_for(user, request.user_app_id.user_id, request.user_app_id.app_id)


# ---------------------------------------------------------------- apps

def post_apps(user, request: api.PostAppsRequest) -> api.MultiAppResponse:
    created = namespace.create_apps(user, request.user_app_id.user_id,
                                    [(app.id, app.name, app.description) for app in request.apps])
    return api.MultiAppResponse(apps=[app_message(app) for app in created])


def get_app(user, request: api.GetAppRequest) -> api.SingleAppResponse:
    """Like any use, GetApp makes the caller's app if it is new (the SDK's User.app() asks it)."""
    return api.SingleAppResponse(app=app_message(app_of(user, request)))


def list_apps(user, request: api.ListAppsRequest) -> api.MultiAppResponse:
    if not namespace.owns_namespace(user, request.user_app_id.user_id):
        return api.MultiAppResponse()
    apps = namespace.page_of(App.objects.filter(owner=user).select_related("owner"), request.page, request.per_page)
    return api.MultiAppResponse(apps=[app_message(app) for app in apps])


# ---------------------------------------------------------------- concepts

def post_concepts(user, request: api.PostConceptsRequest) -> api.MultiConceptResponse:
    app = app_of(user, request)
    added = concepts.add_concepts(app, [(c.id, c.name) for c in request.concepts])
    return api.MultiConceptResponse(concepts=[concept_message(c) for c in added])


def list_concepts(user, request: api.ListConceptsRequest) -> api.MultiConceptResponse:
    app = app_of(user, request)
    rows = namespace.page_of(Concept.objects.filter(app=app).select_related("app__owner"), request.page, request.per_page)
    return api.MultiConceptResponse(concepts=[concept_message(c) for c in rows])


def get_concept(user, request: api.GetConceptRequest) -> api.SingleConceptResponse:
    return api.SingleConceptResponse(concept=concept_message(concepts.get_concept(app_of(user, request), request.concept_id)))


# ---------------------------------------------------------------- inputs

def post_inputs(user, request: api.PostInputsRequest) -> api.MultiInputResponse:
    app = app_of(user, request)
    rows = inputs.add_inputs(app, [_new_input(item) for item in request.inputs])
    names = concepts.names_of(app)
    return api.MultiInputResponse(inputs=[input_message(row, names) for row in rows])


def _new_input(item: pb.Input) -> NewInput:
    data = item.data
    return NewInput(
        input_id=item.id, image=data.image.base64, url=data.image.url, concepts=_labels(data.concepts),
        regions=[_new_region(region) for region in data.regions], dataset_ids=list(item.dataset_ids),
    )


def _labels(items) -> list[tuple[str, str, float]]:
    return [(c.id, c.name, c.value) for c in items]


def _new_region(region: pb.Region) -> NewRegion:
    info = region.region_info
    new = NewRegion(region_id=region.id, concepts=_labels(region.data.concepts),
                           has_box_only=info.HasField("bounding_box"))
    if info.polygon.points:
        new.polygon = [(point.row, point.col) for point in info.polygon.points]
    elif info.mask.image.base64:
        new.mask = info.mask.image.base64
    return new


def list_inputs(user, request: api.ListInputsRequest) -> api.MultiInputResponse:
    app = app_of(user, request)
    rows = Input.objects.filter(app=app).prefetch_related("datasets")
    if request.ids:
        rows = rows.filter(input_id__in=list(request.ids))
    names = concepts.names_of(app)
    return api.MultiInputResponse(inputs=[input_message(row, names)
                                          for row in namespace.page_of(rows, request.page, request.per_page)])


def get_input(user, request: api.GetInputRequest) -> api.SingleInputResponse:
    app = app_of(user, request)
    row = inputs.get_input(app, request.input_id)
    return api.SingleInputResponse(input=input_message(row, concepts.names_of(app), with_bytes=True))


def delete_inputs(user, request: api.DeleteInputsRequest) -> BaseResponse:
    inputs.delete_inputs(app_of(user, request), list(request.ids))
    return BaseResponse()


def delete_input(user, request: api.DeleteInputRequest) -> BaseResponse:
    inputs.delete_inputs(app_of(user, request), [request.input_id])
    return BaseResponse()


# ---------------------------------------------------------------- datasets and versions

def post_datasets(user, request: api.PostDatasetsRequest) -> api.MultiDatasetResponse:
    created = datasets.create_datasets(app_of(user, request), [(d.id, d.description) for d in request.datasets])
    return api.MultiDatasetResponse(datasets=[dataset_message(d, None) for d in created])


def get_dataset(user, request: api.GetDatasetRequest) -> api.SingleDatasetResponse:
    dataset = datasets.get_dataset(app_of(user, request), request.dataset_id)
    return api.SingleDatasetResponse(dataset=dataset_message(dataset, datasets.latest_version(dataset)))


def list_datasets(user, request: api.ListDatasetsRequest) -> api.MultiDatasetResponse:
    rows = namespace.page_of(ClarifaiDataset.objects.filter(app=app_of(user, request)).select_related("app__owner"),
                             request.page, request.per_page)
    return api.MultiDatasetResponse(datasets=[dataset_message(d, datasets.latest_version(d)) for d in rows])


def post_dataset_versions(user, request: api.PostDatasetVersionsRequest) -> api.MultiDatasetVersionResponse:
    dataset = datasets.get_dataset(app_of(user, request), request.dataset_id)
    asked = list(request.dataset_versions) or [pb.DatasetVersion()]
    created = [datasets.create_version(dataset, v.id, v.description) for v in asked]
    return api.MultiDatasetVersionResponse(dataset_versions=[dataset_version_message(v) for v in created])


def get_dataset_version(user, request: api.GetDatasetVersionRequest) -> api.SingleDatasetVersionResponse:
    dataset = datasets.get_dataset(app_of(user, request), request.dataset_id)
    version = datasets.get_version(dataset, request.dataset_version_id)
    return api.SingleDatasetVersionResponse(dataset_version=dataset_version_message(version))


def list_dataset_versions(user, request: api.ListDatasetVersionsRequest) -> api.MultiDatasetVersionResponse:
    dataset = datasets.get_dataset(app_of(user, request), request.dataset_id)
    rows = namespace.page_of(dataset.versions.select_related("platform_dataset").order_by("-id"),
                             request.page, request.per_page)
    return api.MultiDatasetVersionResponse(dataset_versions=[dataset_version_message(v) for v in rows])
