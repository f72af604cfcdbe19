"""The official clients as a Clarifai user drives them, and the in-process steps a worker
would take meanwhile (importing a dataset version, running a training job)."""
from __future__ import annotations

from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
from clarifai_grpc.grpc.api.status import status_code_pb2

from platform_api.datasets.services import import_dataset
from platform_api.training.runner import run_job
from tests.factories import colour_image, image_bytes
from tests.queueing import IMPORT_DATASET, TRAIN_JOB, queued

SUCCESS = status_code_pb2.SUCCESS


def json_stub(base_url: str) -> service_pb2_grpc.V2Stub:
    return service_pb2_grpc.V2Stub(ClarifaiChannel.get_json_channel(base_url=base_url))


def app(app_id: str = "main", user_id: str = "alice") -> resources_pb2.UserAppIDSet:
    return resources_pb2.UserAppIDSet(user_id=user_id, app_id=app_id)


def concept(concept_id: str, value: float = 1.0) -> resources_pb2.Concept:
    return resources_pb2.Concept(id=concept_id, value=value)


def image_input(input_id: str, image, concepts=(), dataset_id: str = "", regions=()) -> resources_pb2.Input:
    return resources_pb2.Input(
        id=input_id, dataset_ids=[dataset_id] if dataset_id else [],
        data=resources_pb2.Data(image=resources_pb2.Image(base64=image_bytes(image)),
                                concepts=list(concepts), regions=list(regions)))


def colour_inputs(colours=("red", "blue"), per_colour: int = 5, dataset_id: str = "colours") -> list:
    return [image_input(f"{colour}-{n}", colour_image(colour, 32, seed=n), [concept(colour)], dataset_id)
            for colour in colours for n in range(per_colour)]


def ok(response):
    assert response.status.code == SUCCESS, response.status
    return response


def make_dataset_version(stub, auth, user_app, dataset_id: str, inputs: list) -> resources_pb2.DatasetVersion:
    """Dataset, inputs and a version, whose import runs here as the worker would run it."""
    ok(stub.PostDatasets(service_pb2.PostDatasetsRequest(
        user_app_id=user_app, datasets=[resources_pb2.Dataset(id=dataset_id)]), metadata=auth))
    ok(stub.PostInputs(service_pb2.PostInputsRequest(user_app_id=user_app, inputs=inputs), metadata=auth))
    with queued(IMPORT_DATASET) as imports:
        version = ok(stub.PostDatasetVersions(service_pb2.PostDatasetVersionsRequest(
            user_app_id=user_app, dataset_id=dataset_id, dataset_versions=[resources_pb2.DatasetVersion()]),
            metadata=auth)).dataset_versions[0]
    for (platform_dataset_id,), _ in imports.call_args_list:
        import_dataset(platform_dataset_id)
    return version


def train_version(stub, auth, user_app, model_id: str, params: dict, concepts=()):
    """PostModelVersions, then the queued job run here; returns (response, version id)."""
    version = resources_pb2.ModelVersion(output_info=resources_pb2.OutputInfo(
        data=resources_pb2.Data(concepts=[concept(c, 0.0) for c in concepts])))
    version.train_info.params.update(params)
    with queued(TRAIN_JOB) as trainings:
        response = stub.PostModelVersions(service_pb2.PostModelVersionsRequest(
            user_app_id=user_app, model_id=model_id, model_versions=[version]), metadata=auth)
    return response, [job_id for (job_id,), _ in trainings.call_args_list]


def run_jobs(job_ids: list[int]) -> None:
    for job_id in job_ids:
        run_job(job_id)
