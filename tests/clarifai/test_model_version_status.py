"""A model version's status is its job's, in Clarifai's codes: queued 21103, training 21101
with whole percent and seconds, trained 21100, failed 21106 or the code naming why."""
import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes

from platform_api.training.models import Job
from tests.clarifai.clients import app, colour_inputs, image_input, make_dataset_version, ok, train_version
from tests.factories import colour_image

pytestmark = pytest.mark.django_db(transaction=True)

TINY_FAI_CLS = {"template": "fai-cls", "backbone": "tiny_test", "resolution": 32.0, "epochs": 1.0}


@pytest.fixture
def queued_version(stub, auth):
    """(version id, job) of a visual-classifier whose training is queued, not run."""
    make_dataset_version(stub, auth, app(), "colours", colour_inputs())
    ok(stub.PostModels(service_pb2.PostModelsRequest(user_app_id=app(), models=[
        resources_pb2.Model(id="m", model_type_id="visual-classifier")]), metadata=auth))
    response, jobs = train_version(stub, auth, app(), "m", {**TINY_FAI_CLS, "dataset_id": "colours"})
    return ok(response).model.model_version.id, Job.objects.get(pk=jobs[0])


def version_status(stub, auth, version_id):
    return ok(stub.GetModelVersion(service_pb2.GetModelVersionRequest(
        user_app_id=app(), model_id="m", version_id=version_id), metadata=auth)).model_version.status


def test_a_training_version_shows_whole_percent_and_seconds_left(stub, auth, queued_version):
    version_id, job = queued_version
    assert version_status(stub, auth, version_id).code == codes.MODEL_QUEUED_FOR_TRAINING
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING,
                                         progress={"percent": 41.6, "eta_seconds": 12.4, "epoch": 1})
    status = version_status(stub, auth, version_id)
    assert (status.code, status.percent_completed, status.time_remaining) == (codes.MODEL_TRAINING, 42, 12)


@pytest.mark.parametrize("error_code, expected", [
    ("dataset_too_small", codes.MODEL_TRAINING_INSUFFICIENT_DATA),
    ("non_finite_loss", codes.MODEL_TRAINING_FAILED),
])
def test_a_failed_version_says_why(stub, auth, queued_version, error_code, expected):
    version_id, job = queued_version
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, error_code=error_code, error_message="because")
    status = version_status(stub, auth, version_id)
    assert status.code == expected and status.details == f"{error_code}: because"


def test_get_model_without_a_version_shows_the_latest_version(stub, auth, queued_version):
    version_id, _ = queued_version
    model = ok(stub.GetModel(service_pb2.GetModelRequest(user_app_id=app(), model_id="m"), metadata=auth)).model
    assert model.model_version.id == version_id
    assert model.model_version.status.code == codes.MODEL_QUEUED_FOR_TRAINING
    assert model.model_version.train_info.params["dataset_id"] == "colours"


def test_predicting_before_training_says_so(stub, auth, queued_version):
    request = service_pb2.PostModelOutputsRequest(user_app_id=app(), model_id="m",
                                                  inputs=[image_input("", colour_image("red"))])
    response = stub.PostModelOutputs(request, metadata=auth)
    assert response.status.code == codes.MODEL_QUEUED_FOR_TRAINING and "no trained version" in response.status.details


def test_predicting_with_a_model_never_trained_gives_untrained(stub, auth):
    ok(stub.PostModels(service_pb2.PostModelsRequest(user_app_id=app(), models=[
        resources_pb2.Model(id="new", model_type_id="visual-classifier")]), metadata=auth))
    request = service_pb2.PostModelOutputsRequest(user_app_id=app(), model_id="new",
                                                  inputs=[image_input("", colour_image("red"))])
    assert stub.PostModelOutputs(request, metadata=auth).status.code == codes.MODEL_UNTRAINED


def test_deleting_a_version_cancels_its_training_and_can_be_repeated(stub, auth, queued_version):
    version_id, job = queued_version
    request = service_pb2.DeleteModelVersionRequest(user_app_id=app(), model_id="m", version_id=version_id)
    ok(stub.DeleteModelVersion(request, metadata=auth))
    ok(stub.DeleteModelVersion(request, metadata=auth))
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    versions = ok(stub.ListModelVersions(service_pb2.ListModelVersionsRequest(user_app_id=app(), model_id="m"),
                                         metadata=auth)).model_versions
    assert list(versions) == []
