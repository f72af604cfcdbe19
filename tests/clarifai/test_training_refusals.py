"""PostModelVersions refuses what cannot train, with the code the client reads and nothing
queued: invalid params (21118, every field named), no data (21110), one concept (21112)."""
import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes

from platform_api.training.models import Job
from tests.clarifai.clients import app, colour_inputs, concept, image_input, make_dataset_version, ok, train_version
from tests.factories import colour_image

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def colours(stub, auth):
    """A ready dataset version of red and blue images, and a visual-classifier."""
    version = make_dataset_version(stub, auth, app(), "colours", colour_inputs())
    ok(stub.PostModels(service_pb2.PostModelsRequest(user_app_id=app(), models=[
        resources_pb2.Model(id="colours", model_type_id="visual-classifier")]), metadata=auth))
    return version


def test_it_refuses_invalid_params_naming_each_field_and_queues_nothing(stub, auth, colours):
    response, queued_jobs = train_version(stub, auth, app(), "colours", {
        "template": "Clarifai_InceptionV2", "dataset_id": "colours", "dataset_version_id": colours.id,
        "batch_size": 0.0, "num_epochs": 2.5, "image_size": 33.0, "learning_rate": 0.1})
    assert response.status.code == codes.MODEL_TRAINING_INVALID_PARAMS
    details = response.status.details
    assert "batch_size: must be a multiple of 1 from 1 to 128, got 0" in details
    assert "num_epochs: must be an integer, got 2.5" in details
    assert "image_size: must be a multiple of 16 from 32 to 1024, got 33" in details
    assert "learning_rate: unknown hyperparameter" in details
    assert queued_jobs == [] and not Job.objects.exists()


def test_it_refuses_a_batch_of_one_that_batch_normalization_cannot_train_on(stub, auth, colours):
    """A rule across two params, the declaration's own: refused at submission, not when it trains."""
    response, queued_jobs = train_version(stub, auth, app(), "colours", {
        "template": "Clarifai_InceptionV2", "dataset_id": "colours", "dataset_version_id": colours.id,
        "batch_size": 1.0, "image_size": 32.0})
    assert response.status.code == codes.MODEL_TRAINING_INVALID_PARAMS
    assert "batch_size 1 at image_size 32 leaves 1x1 feature maps" in response.status.details
    assert queued_jobs == [] and not Job.objects.exists()


def test_it_refuses_an_unknown_template_and_dataset_together(stub, auth, colours):
    response, queued_jobs = train_version(stub, auth, app(), "colours", {"template": "fai-mf", "dataset_id": "nope"})
    assert response.status.code == codes.MODEL_TRAINING_INVALID_PARAMS
    assert "template: visual-classifier offers" in response.status.details
    assert "dataset_id: dataset 'nope' does not exist" in response.status.details
    assert queued_jobs == [] and not Job.objects.exists()


def test_it_refuses_weights_that_are_not_registered(stub, auth, colours):
    response, queued_jobs = train_version(stub, auth, app(), "colours", {
        "template": "MMClassification_ResNet_50_RSB_A1", "dataset_id": "colours"})
    assert response.status.code == codes.MODEL_TRAINING_INVALID_PARAMS
    assert response.status.details.startswith("pretrained_weights: no weights named 'ImageNet-1k'")
    assert queued_jobs == []


def test_it_refuses_concepts_other_than_the_dataset_version_s(stub, auth, colours):
    response, queued_jobs = train_version(stub, auth, app(), "colours", {"template": "fai-cls", "dataset_id": "colours"},
                                          concepts=["red"])
    assert response.status.code == codes.MODEL_TRAINING_INVALID_PARAMS
    assert "output_info.data.concepts: a model trains on every concept of its dataset version" in response.status.details
    assert queued_jobs == []


def test_a_dataset_version_without_labels_gives_no_data(stub, auth):
    unlabelled = [image_input(f"u{n}", colour_image("red", 32, seed=n), dataset_id="plain") for n in range(3)]
    version = make_dataset_version(stub, auth, app(), "plain", unlabelled)
    assert version.status.code == codes.DATASET_VERSION_FAILURE
    ok(stub.PostModels(service_pb2.PostModelsRequest(user_app_id=app(), models=[
        resources_pb2.Model(id="m", model_type_id="visual-classifier")]), metadata=auth))
    response, queued_jobs = train_version(stub, auth, app(), "m", {"template": "fai-cls", "dataset_id": "plain"})
    assert response.status.code == codes.MODEL_TRAINING_NO_DATA, response.status
    assert queued_jobs == []


def test_a_dataset_version_of_one_concept_gives_single_class(stub, auth):
    version = make_dataset_version(stub, auth, app(), "reds", colour_inputs(colours=("red",), dataset_id="reds"))
    failed = ok(stub.GetDatasetVersion(service_pb2.GetDatasetVersionRequest(
        user_app_id=app(), dataset_id="reds", dataset_version_id=version.id), metadata=auth)).dataset_version
    assert failed.status.code == codes.DATASET_VERSION_FAILURE and "at least 2 classes" in failed.status.details
    ok(stub.PostModels(service_pb2.PostModelsRequest(user_app_id=app(), models=[
        resources_pb2.Model(id="m", model_type_id="visual-classifier")]), metadata=auth))
    response, queued_jobs = train_version(stub, auth, app(), "m", {"template": "fai-cls", "dataset_id": "reds"})
    assert response.status.code == codes.MODEL_TRAINING_ONE_VS_N_SINGLE_CLASS, response.status
    assert queued_jobs == []


def test_a_version_whose_inputs_have_several_positives_fails_with_the_reason(stub, auth):
    both = image_input("both", colour_image("red", 32), [concept("red"), concept("blue")], "mixed")
    version = make_dataset_version(stub, auth, app(), "mixed", [both, *colour_inputs(dataset_id="mixed")])
    assert version.status.code == codes.DATASET_VERSION_FAILURE
    assert "inputs 'both' have several positive concepts" in version.status.details
